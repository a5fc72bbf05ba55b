#!/usr/bin/env bash
# Builds the local test cluster's binaries (kube-apiserver,
# kube-controller-manager, kube-scheduler, etcd, kwok and metrics-server) from
# the Go modules pinned in tests/cluster/{k8s,etcd,kwok,metrics-server}, into a
# cache outside the repository, with kwok's stages, resource-usage metrics and
# the CRDs of its Logs and ResourceUsage kinds copied beside them from the kwok
# module. Prints the folder holding the binaries on stdout; progress goes to
# stderr.
#
# The cache entry's name hashes everything that shapes the binaries: every
# module's go.mod/go.sum, `go version`, the build flags and this script. An
# entry counts only once its stamp file exists; the stamp is written last,
# after every binary has answered --version, and the entry is built in a
# temporary folder and renamed into place, so an interrupted build never
# leaves a half entry behind.
#
# Environment:
#   SKIPPER_CLUSTER_CACHE  cache root (default: $XDG_CACHE_HOME or ~/.cache,
#                          then skipper-platform/cluster)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$here/k8s/go.mod")
[ -n "$k8s_version" ] || { echo "cluster build: no k8s.io/kubernetes requirement in $here/k8s/go.mod" >&2; exit 1; }
k8s_minor=$(echo "$k8s_version" | cut -d. -f2)
tags=selinux,notest,grpcnotrace
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done

# metrics-server reports its own version through client-go's; component-base's
# must stay a Kubernetes version (it becomes the emulation version).
ms_version=$(awk '$1 == "sigs.k8s.io/metrics-server" && $2 ~ /^v/ {print $2; exit}' "$here/metrics-server/go.mod")
[ -n "$ms_version" ] || { echo "cluster build: no sigs.k8s.io/metrics-server requirement in $here/metrics-server/go.mod" >&2; exit 1; }
ms_ldflags="-s -w -X k8s.io/client-go/pkg/version.gitVersion=$ms_version"

cache_root=${SKIPPER_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skipper-platform/cluster}
key=$(
  {
    for m in k8s etcd kwok metrics-server; do cat "$here/$m/go.mod" "$here/$m/go.sum"; done
    cat "$here"/k8s/stub/*/go.mod "$0"
    go version
    echo "$tags $ldflags CGO_ENABLED=0 $ms_ldflags"
  } | sha256sum | cut -c1-16
)
dest="$cache_root/$k8s_version-$key"
binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok metrics-server)

if [ -f "$dest/stamp" ]; then
  echo "$dest/bin"
  exit 0
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
if ! flock -n 9; then
  echo "cluster build: another build holds $cache_root/.lock; waiting for it" >&2
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
    echo "cluster build: still compiling ($(( ($(date +%s) - start) / 60 )) min so far; a cold build takes about 8 min on 2 cores)" >&2
  done
}
echo "cluster build: no cached binaries for Kubernetes $k8s_version (key $key)." >&2
echo "cluster build: compiling them once into $dest; later runs reuse them." >&2
heartbeat &
beat=$!

export CGO_ENABLED=0 GOFLAGS=-mod=readonly
phase() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "cluster build: $name ..." >&2
  "$@"
  echo "cluster build: $name done in $(( $(date +%s) - t0 )) s" >&2
}
phase "downloading Go modules" sh -c "for m in k8s etcd kwok metrics-server; do (cd '$here/'\$m && go mod download) || exit 1; done"
phase "building kube-apiserver, kube-controller-manager, kube-scheduler" \
  sh -c "cd '$here/k8s' && go build -trimpath -tags '$tags' -ldflags '$ldflags' -o '$tmp/bin/' \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler"
# etcd >= 3.5.13 serves watch progress requests; without them kube-apiserver
# refuses streaming watch lists and kwok would only relist every few seconds.
phase "building etcd" sh -c "cd '$here/etcd' && go build -trimpath -ldflags '-s -w' -o '$tmp/bin/etcd' go.etcd.io/etcd/server/v3"
phase "building kwok" sh -c "cd '$here/kwok' && go build -trimpath -ldflags '-s -w' -o '$tmp/bin/' sigs.k8s.io/kwok/cmd/kwok"
# Serves the metrics API (kubectl top, HPAs) from kwok's emulated usage.
phase "building metrics-server" sh -c "cd '$here/metrics-server' && go build -trimpath -ldflags '$ms_ldflags' -o '$tmp/bin/metrics-server' sigs.k8s.io/metrics-server/cmd/metrics-server"

# kwok run on its own (without kwokctl) needs its Stage definitions in its
# config; take the defaults that ship in the kwok module just downloaded.
kwok_version=$(awk '$1 == "sigs.k8s.io/kwok" && $2 ~ /^v/ {print $2; exit}' "$here/kwok/go.mod")
stage_src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$kwok_version/kustomize/stage"
mkdir -p "$tmp/stages"
for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
         pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  cp "$stage_src/$f" "$tmp/stages/"
done
# Resource usage: the Metric that serves /metrics/nodes/NODE/metrics/resource
# and the ClusterResourceUsage that reads the kwok.x-k8s.io/usage-* pod
# annotations; and the CRDs of the two kinds tests create through the API.
kwok_src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$kwok_version/kustomize"
mkdir -p "$tmp/kwok"
cp "$kwok_src/metrics/resource/metrics-resource.yaml" "$kwok_src/metrics/usage/usage-from-annotation.yaml" \
   "$kwok_src/crd/bases/kwok.x-k8s.io_logs.yaml" "$kwok_src/crd/bases/kwok.x-k8s.io_resourceusages.yaml" "$tmp/kwok/"
chmod -R u+w "$tmp/stages" "$tmp/kwok"

for b in "${binaries[@]}"; do
  "$tmp/bin/$b" --version >"$tmp/$b.version" 2>&1 || {
    echo "cluster build: $b --version failed:" >&2
    cat "$tmp/$b.version" >&2
    exit 1
  }
done
cat "$tmp"/*.version >"$tmp/stamp"
rm -rf "$dest"
mv "$tmp" "$dest"
echo "cluster build: finished in $(( $(date +%s) - start )) s" >&2
echo "$dest/bin"
