#!/usr/bin/env bash
# Runs test.yml against the Vault dev server named in the integration config
# (tests/vault/vault.py up --integration-config ...), with -vvvv and --diff,
# then checks that none of the test's secret values (nor their base64 form)
# appears in anything the run printed or in the results it kept.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config=../../integration_config.yml
[ -f "$config" ] || { echo "FAILED: $config is missing" >&2; exit 1; }
# shellcheck disable=SC1091  # shared with the other secret targets
. ../setup_k8s/files/leak_check.sh
leak_values password rotated user
# shellcheck disable=SC1091  # shared with module_examples
. ../setup_k8s/files/vault_env.sh
# For the lookups that are given neither url nor token.
vault_env "$config" "the vault lookup is tested against it"
unset ANSIBLE_HASHI_VAULT_ADDR ANSIBLE_HASHI_VAULT_TOKEN VAULT_NAMESPACE VAULT_CACERT VAULT_SKIP_VERIFY
run_checked results.json -- "$@" -e "@$config"
grep -q "skipper.platform.vault: reading secret .*/nope in the KV v2 engine secret at Vault .*: not found" "$work/output.log" \
  || { echo "FAILED: no warning for on_missing=warn" >&2; exit 1; }
grep -q "skipper.platform.vault: reading secret .*/db in the KV v2 engine secret at Vault .* is forbidden" "$work/output.log" \
  || { echo "FAILED: no warning for on_denied=warn" >&2; exit 1; }
echo "vault_lookup: no secret value in $(wc -l <"$work/output.log") lines of -vvvv output or the results"
