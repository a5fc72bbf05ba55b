#!/usr/bin/env bash
# Runs every module's EXAMPLES as written against the local cluster: the
# examples are read from plugins/modules/*.py at each run (files/
# extract_examples.py writes one tasks file per module, less the tasks that
# skips.yml lists with their reasons), and test.yml gives them what a reader
# would: the namespaces, apps, Secret, files and variables they name, and the
# credentials through module_defaults. VAULT_ADDR and VAULT_TOKEN are
# exported as a reader's shell would have them (for the vault lookup).
# The run is checked for the test's secret values as app_secret's is.
set -euo pipefail
export ANSIBLE_ROLES_PATH=..  # setup_k8s
config=../../integration_config.yml
[ -f "$config" ] || { echo "FAILED: $config is missing: start the test cluster (see setup_k8s)" >&2; exit 1; }
exec_dir=$(sed -n 's/^skipper_test_exec_dir: "\(.*\)"$/\1/p' "$config")
[ -d "$exec_dir" ] || { echo "FAILED: skipper_test_exec_dir ($exec_dir) is not a folder" >&2; exit 1; }
work=$(mktemp -d)
# The pods' working directory (exec_dir: KWOK runs exec there, as nobody) as
# the shop's image has it: workdir/ holds the programs and files app_exec's
# examples use; public/uploads and theme are app_rsync's destinations. The
# controller's backup of the uploads is copied from backup/.
pod_entries=(bin config data var public theme)
cleanup() {
  # As root everything goes; another user cannot remove folders the pods made as nobody (rsync's).
  for entry in "${pod_entries[@]}"; do
    rm -rf "${exec_dir:?}/$entry" 2>/dev/null || echo "module_examples: could not remove all of $exec_dir/$entry" >&2
  done
  rm -rf "$work"
}
trap cleanup EXIT
cp -R workdir/. "$exec_dir/"
mkdir -p "$exec_dir/public/uploads" "$exec_dir/theme"
chmod 0755 "$exec_dir"/bin/*
for entry in "${pod_entries[@]}"; do find "$exec_dir/$entry" -type d -exec chmod 0777 {} +; done
cp -R backup "$work/backup"
# ansible-test runs this from a copy of the target; the collection is where Ansible loads it from.
collection="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/skipper/platform"
[ -d "$collection/plugins/modules" ] || { echo "FAILED: no plugins/modules in $collection" >&2; exit 1; }
python3 files/extract_examples.py --modules "$collection/plugins/modules" --out "$work/examples" \
  --skip skips.yml >"$work/examples.json"
# shellcheck disable=SC1091  # shared with vault_lookup
. ../setup_k8s/files/vault_env.sh
vault_env "$config" "app_secret's example reads the database password from Vault"
unset ANSIBLE_HASHI_VAULT_ADDR ANSIBLE_HASHI_VAULT_TOKEN VAULT_NAMESPACE VAULT_CACERT VAULT_SKIP_VERIFY K8S_AUTH_KUBECONFIG
# shellcheck disable=SC1091  # shared with the other secret targets
. ../setup_k8s/files/leak_check.sh
leak_values db_password api_token
run_checked -- "$@" -e "@$config" -e "@$work/examples.json" -e "examples_dir=$work/examples" -e "work_dir=$work"
echo "module_examples: every module's examples ran; no secret value in $(wc -l <"$work/output.log") lines of output"
