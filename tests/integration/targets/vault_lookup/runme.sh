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
# VAULT_ADDR and VAULT_TOKEN are exported from the config, as a user's shell
# would have them, for the lookups that are given neither url nor token.
python3 - "$work" "$config" <<'PY'
import shlex, sys
import yaml
work, config = sys.argv[1:]
with open(config) as f:
    settings = yaml.safe_load(f) or {}
with open(f"{work}/env.sh", "w") as f:
    addr, token = settings.get("skipper_test_vault_addr"), settings.get("skipper_test_vault_token")
    if addr and token:
        f.write(f"export VAULT_ADDR={shlex.quote(addr)} VAULT_TOKEN={shlex.quote(token)}\n")
PY
if [ ! -s "$work/env.sh" ]; then
  echo "FAILED: skipper_test_vault_addr and skipper_test_vault_token are not in $config: start the Vault dev server" \
       "with tests/vault/vault.py up --name NAME --integration-config $config" >&2
  exit 1
fi
# shellcheck disable=SC1091
. "$work/env.sh"
unset ANSIBLE_HASHI_VAULT_ADDR ANSIBLE_HASHI_VAULT_TOKEN VAULT_NAMESPACE VAULT_CACERT VAULT_SKIP_VERIFY
run_checked results.json -- "$@" -e "@$config"
grep -q "skipper.platform.vault: reading secret .*/nope in the KV v2 engine secret at Vault .*: not found" "$work/output.log" \
  || { echo "FAILED: no warning for on_missing=warn" >&2; exit 1; }
grep -q "skipper.platform.vault: reading secret .*/db in the KV v2 engine secret at Vault .* is forbidden" "$work/output.log" \
  || { echo "FAILED: no warning for on_denied=warn" >&2; exit 1; }
echo "vault_lookup: no secret value in $(wc -l <"$work/output.log") lines of -vvvv output or the results"
