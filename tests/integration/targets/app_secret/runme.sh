#!/usr/bin/env bash
# Runs test.yml with -vvvv and --diff, then checks that none of the test's
# secret values (nor their base64 form) appears in anything the run printed,
# in the results it kept or in the namespace's Events.
set -euo pipefail
export ANSIBLE_ROLES_PATH=..  # setup_k8s
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Random values, never printed: the check below looks for them.
python3 - "$work" <<'PY'
import base64, json, secrets, sys
work = sys.argv[1]
values = {name: f"{name}-{secrets.token_hex(12)}" for name in ("password", "user", "token", "rotated")}
with open(f"{work}/values.json", "w") as f:
    json.dump({"secret_values": values}, f)
with open(f"{work}/patterns", "w") as f:
    for v in values.values():
        f.write(v + "\n" + base64.b64encode(v.encode()).decode() + "\n")
PY
# ansible-test hands script targets no variables: the cluster's settings come
# from the integration config it copied beside the targets.
config=../../integration_config.yml
[ -f "$config" ] || { echo "FAILED: $config is missing: start the test cluster (see setup_k8s)" >&2; exit 1; }
status=0
ansible-playbook test.yml -i "$INVENTORY_PATH" "$@" -vvvv --diff -e "@$config" -e "@$work/values.json" -e "leak_dir=$work" \
  >"$work/output.log" 2>&1 || status=$?
# Show the output only once it is known to hold no value.
leaks=$(grep -l -F -f "$work/patterns" "$work/output.log" "$work/results.json" "$work/events.json" 2>/dev/null || true)
if [ -n "$leaks" ]; then
  echo "FAILED: a secret value appears in: $(echo "$leaks" | xargs -n1 basename | tr '\n' ' ')" >&2
  exit 1
fi
cat "$work/output.log"
[ "$status" -eq 0 ] || { echo "FAILED: test.yml exited with $status" >&2; exit "$status"; }
for f in results.json events.json; do
  [ -s "$work/$f" ] || { echo "FAILED: $f was not written" >&2; exit 1; }
done
echo "app_secret: no secret value in $(wc -l <"$work/output.log") lines of -vvvv output, the results or the Events"
