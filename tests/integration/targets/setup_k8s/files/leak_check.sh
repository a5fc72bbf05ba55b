# Shared by the script targets that handle secret values (app_secret,
# secret_lookup, vault_lookup): source it, then
#
#   leak_values NAME...          random values for NAME... in $work/values.json
#                                (as secret_values), and each value and its
#                                base64 form in $work/patterns
#   run_checked KEPT... -- ARGS  ansible-playbook test.yml -vvvv --diff ARGS,
#                                output in $work/output.log; fails if any
#                                pattern appears in the output or in the files
#                                KEPT... (under $work, each must be written),
#                                shows the output only once it is known clean
#
# $work is a temporary folder the caller makes and removes.
# shellcheck shell=bash disable=SC2154

leak_values() {
  python3 - "$work" "$@" <<'PY'
import base64, json, secrets, sys
work, names = sys.argv[1], sys.argv[2:]
values = {name: f"{name}-{secrets.token_hex(12)}" for name in names}
with open(f"{work}/values.json", "w") as f:
    json.dump({"secret_values": values}, f)
with open(f"{work}/patterns", "w") as f:
    for v in values.values():
        f.write(v + "\n" + base64.b64encode(v.encode()).decode() + "\n")
PY
}

run_checked() {
  local kept=() status=0 leaks
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do kept+=("$work/$1"); shift; done
  shift
  ansible-playbook test.yml -i "$INVENTORY_PATH" -vvvv --diff -e "@$work/values.json" -e "leak_dir=$work" "$@" \
    >"$work/output.log" 2>&1 || status=$?
  leaks=$(grep -l -F -f "$work/patterns" "$work/output.log" "${kept[@]}" 2>/dev/null || true)
  if [ -n "$leaks" ]; then
    echo "FAILED: a secret value appears in: $(echo "$leaks" | xargs -n1 basename | tr '\n' ' ')" >&2
    exit 1
  fi
  cat "$work/output.log"
  [ "$status" -eq 0 ] || { echo "FAILED: test.yml exited with $status" >&2; exit "$status"; }
  for f in "${kept[@]}"; do
    [ -s "$f" ] || { echo "FAILED: $(basename "$f") was not written" >&2; exit 1; }
  done
}
