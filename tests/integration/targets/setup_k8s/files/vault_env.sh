# Shared by the script targets that read the Vault dev server (vault_lookup,
# module_examples): source it, then
#
#   vault_env CONFIG WHY   exports VAULT_ADDR and VAULT_TOKEN from the
#                          integration config CONFIG, as a user's shell would
#                          have them; fails, saying WHY the target needs
#                          Vault, when the config names none (locally as in CI)
#
# $work is a temporary folder the caller makes and removes.
# shellcheck shell=bash disable=SC2154

vault_env() {
  local config=$1 why=$2
  python3 - "$work" "$config" <<'PY'
import shlex, sys
import yaml
work, config = sys.argv[1:]
with open(config) as f:
    settings = yaml.safe_load(f) or {}
with open(f"{work}/vault_env.sh", "w") as f:
    addr, token = settings.get("skipper_test_vault_addr"), settings.get("skipper_test_vault_token")
    if addr and token:
        f.write(f"export VAULT_ADDR={shlex.quote(addr)} VAULT_TOKEN={shlex.quote(token)}\n")
PY
  if [ ! -s "$work/vault_env.sh" ]; then
    echo "FAILED: skipper_test_vault_addr and skipper_test_vault_token are not in $config: $why; start the Vault" \
         "dev server with tests/vault/vault.py up --name NAME --integration-config $config" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  . "$work/vault_env.sh"
}
