#!/usr/bin/env bash
# Builds the `vault` binary for the integration tests of the vault lookup from
# the Go module pinned in tests/vault/go.mod (github.com/hashicorp/vault), into
# a cache outside the repository. Prints the folder holding the binary on
# stdout; progress goes to stderr.
#
# The build uses Vault's `minimal` build tag: the core with its built-in
# plugins (the KV engine and AppRole among them) but without the external
# database and cloud plugins, which would triple the build. CGO is off.
#
# The cache entry's name hashes what shapes the binary: go.mod, go.sum,
# `go version`, the flags and this script. An entry counts only once its
# stamp is written, after the binary answered `vault version`; it is built in
# a temporary folder and renamed into place, under a lock, so an interrupted
# or concurrent build never leaves a half entry behind.
#
# Environment:
#   SKIPPER_VAULT_CACHE  cache root (default: $XDG_CACHE_HOME or ~/.cache,
#                        then skipper-platform/vault)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '$1 == "github.com/hashicorp/vault" && $2 ~ /^v/ {print $2; exit}' "$here/go.mod")
[ -n "$version" ] || { echo "vault build: no github.com/hashicorp/vault requirement in $here/go.mod" >&2; exit 1; }
tags=minimal
ldflags="-s -w"

cache_root=${SKIPPER_VAULT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skipper-platform/vault}
key=$(
  {
    cat "$here/go.mod" "$here/go.sum" "$0"
    go version
    echo "$tags $ldflags CGO_ENABLED=0"
  } | sha256sum | cut -c1-16
)
dest="$cache_root/$version-$key"

if [ -f "$dest/stamp" ]; then
  echo "$dest/bin"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
if ! flock -n 9; then
  echo "vault build: another build holds $cache_root/.lock; waiting for it" >&2
  flock 9
fi
if [ -f "$dest/stamp" ]; then
  echo "$dest/bin"
  exit 0
fi

tmp=$(mktemp -d "$cache_root/.build-$key-XXXXXX")
trap 'rm -rf "$tmp"; [ -n "${beat:-}" ] && kill "$beat" 2>/dev/null || true' EXIT
mkdir -p "$tmp/bin"

start=$(date +%s)
heartbeat() {
  while sleep 30; do
    echo "vault build: still compiling ($(( ($(date +%s) - start) / 60 )) min so far; a cold build takes about 8 min on 2 cores)" >&2
  done
}
echo "vault build: no cached binary for Vault $version (key $key)." >&2
echo "vault build: compiling it once into $dest; later runs reuse it." >&2
heartbeat &
beat=$!

export CGO_ENABLED=0 GOFLAGS=-mod=readonly
phase() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "vault build: $name ..." >&2
  "$@"
  echo "vault build: $name done in $(( $(date +%s) - t0 )) s" >&2
}
# Only the modules the build needs (go build fetches them), not the whole
# graph that `go mod download` would bring (several GB of cloud SDKs).
phase "building vault (and downloading the Go modules it needs)" \
  sh -c "cd '$here' && go build -trimpath -tags '$tags' -ldflags '$ldflags' -o '$tmp/bin/vault' github.com/hashicorp/vault"

"$tmp/bin/vault" version >"$tmp/stamp" 2>&1 || {
  echo "vault build: vault version failed:" >&2
  cat "$tmp/stamp" >&2
  exit 1
}
rm -rf "$dest"
mv "$tmp" "$dest"
echo "vault build: finished in $(( $(date +%s) - start )) s" >&2
echo "$dest/bin"
