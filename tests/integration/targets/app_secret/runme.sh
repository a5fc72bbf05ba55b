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
echo "app_secret: no secret value in $(wc -l <"$work/output.log") lines of -vvvv output, the results or the Events"
