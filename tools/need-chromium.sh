#!/usr/bin/env bash
# The status page is rendered in headless Chromium by the status_role
# integration test. Install Debian's package when it is missing (about 40 s
# and 500 MB, once per machine); without root or sudo, say what to run.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium is missing and cannot be installed without root: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
echo "installing Debian's chromium for the status page test (once; about 40 s) ..." >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null
