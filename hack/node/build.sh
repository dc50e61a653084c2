#!/usr/bin/env bash
# Builds the node components, kubelet, kube-proxy and kube-scheduler, of the same
# Kubernetes as the local control plane (hack/controlplane), from the Go module proxy,
# pinned by go.mod/go.sum beside this script. Only the node test needs them
# (operator/itest/node.itest.ts: the chart's Pod run by a real kubelet on containerd);
# see docs/design/kubelet.md.
#
#   hack/node/build.sh [OUT_DIR]
#   hack/node/build.sh --print     prints the default OUT_DIR if it is built (exit 1 if not), builds nothing
#
# and pause (./pause), the pods' sandbox process.
#
# OUT_DIR defaults to $MINIAPPS_CACHE_DIR (or ~/.cache/miniapps-operator)/node-<pin>/bin.
# Binaries appear atomically (hack/lib/kubernetes-build.sh, as for the control plane). Prints OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")"
. ../lib/kubernetes-build.sh
if ! command -v go >/dev/null 2>&1; then
  echo "hack/node/build.sh: Go is not installed (no \`go\` on PATH); install Go 1.25 or later (Debian: apt-get install golang-go)" >&2
  exit 127
fi
export GOFLAGS=-mod=readonly CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-auto}

k8s=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
cp_k8s=$(cd ../controlplane && go list -m -f '{{.Version}}' k8s.io/kubernetes)
if [ "$k8s" != "$cp_k8s" ]; then
  echo "hack/node/build.sh: go.mod pins Kubernetes $k8s, hack/controlplane $cp_k8s: copy hack/controlplane/go.mod here and go get the node commands at $cp_k8s" >&2
  exit 1
fi
# Bump when what is built, or how, changes.
recipe=2
sum=$(cat go.sum pause/main.go | sha256sum | cut -c1-12)
print=false
[ "${1:-}" = --print ] && { print=true; shift; }
out=${1:-${MINIAPPS_CACHE_DIR:-$HOME/.cache/miniapps-operator}/node-k8s-${k8s}-${recipe}-${sum}/bin}
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi
$print && exit 1

ldflags=$(kubernetes_ldflags "$k8s")
build() {
  # One go build for the three: their packages compile once and they link in parallel.
  echo "building kubelet, kube-proxy, kube-scheduler $k8s" >&2
  go build -trimpath -ldflags "$ldflags" -o "$1/" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kube-scheduler
  go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$1/pause" ./pause
}
build_atomically "$out" build
echo "$out"
