#!/usr/bin/env bash
# Runs test.yml with -vvvv and --diff, then checks that none of the test's
# secret values (nor their base64 form) appears in anything the run printed,
# in the results it kept or in the namespace's Events.
set -euo pipefail
export ANSIBLE_ROLES_PATH=..  # setup_k8s
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC1091  # shared with the other secret targets
. ../setup_k8s/files/leak_check.sh
leak_values password user token rotated
# ansible-test hands script targets no variables: the cluster's settings come
# from the integration config it copied beside the targets.
config=../../integration_config.yml
[ -f "$config" ] || { echo "FAILED: $config is missing: start the test cluster (see setup_k8s)" >&2; exit 1; }
run_checked results.json events.json -- "$@" -e "@$config"
# on_missing/on_denied: warn shows a warning naming the Secret and namespace; skip shows nothing.
grep -q "skipper.platform.secret: Secret missing-warned not found in namespace" "$work/output.log" \
  || { echo "FAILED: no warning for on_missing=warn" >&2; exit 1; }
grep -q "skipper.platform.secret: reading Secret db in namespace .* is forbidden" "$work/output.log" \
  || { echo "FAILED: no warning for on_denied=warn" >&2; exit 1; }
if grep -q "Secret missing-skipped not found" "$work/output.log"; then
  echo "FAILED: on_missing=skip was not silent" >&2
  exit 1
fi
echo "secret_lookup: no secret value in $(wc -l <"$work/output.log") lines of -vvvv output, the results or the Events"
