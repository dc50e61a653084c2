#!/usr/bin/env bash
# Builds the local control plane (kube-apiserver, kube-controller-manager, kubectl,
# etcd) from the Go module proxy, pinned by go.mod/go.sum beside this script.
#
#   hack/controlplane/build.sh [OUT_DIR]
#
# OUT_DIR defaults to $MINIAPPS_CACHE_DIR (or ~/.cache/miniapps-operator)/<pin>/bin,
# where <pin> names the Kubernetes and etcd versions and a hash of go.sum, so a
# changed pin never reuses stale binaries. Binaries appear atomically: a build that
# is interrupted leaves nothing behind that looks finished.
set -euo pipefail
cd "$(dirname "$0")"
. ../lib/kubernetes-build.sh

# Without Go, say what is missing and the ways on, instead of `go: command not found`.
if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<'EOF'
The local control plane (etcd, kube-apiserver, kube-controller-manager, kubectl) is
built from source, and Go is not installed (no `go` on PATH). Either:
  - install Go 1.25 or later (Debian: apt-get install golang-go; a newer toolchain that
    a pin needs is fetched from the Go module proxy by itself), then run this again; or
  - use a cluster you already have: `npm run demo -- --kubeconfig=PATH`, or
    `TEST_KUBECONFIG=PATH npm test` (the tests still run kubectl: point
    MINIAPPS_CONTROLPLANE_BIN_DIR at a directory with kubectl, etcd, kube-apiserver
    and kube-controller-manager, or install Go).
EOF
  exit 127
fi
export GOFLAGS=-mod=readonly CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-auto}

k8s=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
etcd=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
sum=$(sha256sum go.sum | cut -c1-12)
pin="k8s-${k8s}-etcd-${etcd}-${sum}"
out=${1:-${MINIAPPS_CACHE_DIR:-$HOME/.cache/miniapps-operator}/$pin/bin}

if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi

ldflags=$(kubernetes_ldflags "$k8s")
build() {
  # One go build for the three: their shared packages compile once and they link in
  # parallel (the same binaries as three builds one after the other).
  echo "building kube-apiserver, kube-controller-manager, kubectl $k8s" >&2
  go build -trimpath -ldflags "$ldflags" -o "$1/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
  echo "building etcd $etcd" >&2
  go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$1/etcd" ./etcd
}
build_atomically "$out" build
echo "$out"
