#!/usr/bin/env bash
# Usage: tools/itest.sh [-c 2.19|2.21] [-n CLUSTER] TARGET...
# A developer's shortcut: run integration targets on one ansible-core against
# a local cluster of their own name (default "dev"), started or reused with
# tests/cluster/cluster.py. The collection is copied as `make test` copies it
# (tracked and new files), so what passes here passes there. Each target's
# output goes to $TMPDIR/itest-CLUSTER-CORE-TARGET.log; one line per target
# says its result.
set -euo pipefail
core=2.21
name=dev
while getopts "c:n:" opt; do
  case $opt in
    c) core=$OPTARG ;;
    n) name=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: tools/itest.sh [-c 2.19|2.21] [-n CLUSTER] TARGET..." >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if [ "$core" = 2.19 ]; then py=3.11; else py=$(tools/find-python.sh 3.13 3.12 | sed 's/.*python//'); fi
venv=$(tools/venv.sh "requirements/core-$core.txt" "$(tools/find-python.sh "$py")")
tmp=${TMPDIR:-/tmp}
work="$tmp/itest-$name-$core"
config="$tmp/itest-$name.yml"
"$venv/bin/python" tests/cluster/cluster.py up --name "$name" --integration-config "$config" >/dev/null
case " $* " in
  # the targets that read Vault
  *" vault_lookup "* | *" module_examples "*)
    "$venv/bin/python" tests/vault/vault.py up --name "$name" --integration-config "$config" >/dev/null ;;
esac
rm -rf "$work"
mkdir -p "$work/ansible_collections/skipper/platform"
git ls-files -co --exclude-standard -z | xargs -0 tar cf - 2>/dev/null | tar xf - -C "$work/ansible_collections/skipper/platform"
cp "$config" "$work/ansible_collections/skipper/platform/tests/integration/integration_config.yml"
cd "$work/ansible_collections/skipper/platform"
status=0
for target in "$@"; do
  logfile="$tmp/itest-$name-$core-$target.log"
  if env -u KUBECONFIG HOME="$(mktemp -d)" PATH="$venv/bin:$PATH" \
      ansible-test integration "$target" --local --python "$py" --color no >"$logfile" 2>&1; then
    echo "$target: passed ($logfile)"
  else
    echo "$target: FAILED ($logfile)"
    status=1
  fi
done
exit $status
