#!/usr/bin/env bash
# Builds the tools that the operator's users run and the tests run too (helm for the
# chart tests) from the Go module proxy, pinned by go.mod/go.sum beside this script.
#
#   hack/tools/build.sh [OUT_DIR]
#
# OUT_DIR defaults to $MINIAPPS_CACHE_DIR (or ~/.cache/miniapps-operator)/<pin>/bin,
# where <pin> names the helm version and a hash of go.sum, so a changed pin never
# reuses stale binaries. Binaries appear atomically: a build that is interrupted
# leaves nothing behind that looks finished. With the default OUT_DIR, the stable
# link <cache>/tools/bin points at it, so the tests find helm without Go.
set -euo pipefail
cd "$(dirname "$0")"
export GOFLAGS=-mod=readonly CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-auto}

helm=$(go list -m -f '{{.Version}}' helm.sh/helm/v3)
sum=$(sha256sum go.sum | cut -c1-12)
pin="tools-helm-${helm}-${sum}"
cache=${MINIAPPS_CACHE_DIR:-$HOME/.cache/miniapps-operator}
out=${1:-$cache/$pin/bin}

# Points <cache>/tools/bin at $out (atomically), when $out is the default.
link() {
  [ -z "${1:-}" ] || return 0
  mkdir -p "$cache/tools"
  ln -sfn "$out" "$cache/tools/bin.tmp.$$"
  mv -Tf "$cache/tools/bin.tmp.$$" "$cache/tools/bin"
}

if [ -f "$out/.complete" ]; then
  link "${1:-}"
  echo "$out"
  exit 0
fi

# As helm's own Makefile: its default Kubernetes version (helm template without
# --kube-version, helm lint's deprecation checks) is that of the client-go it builds
# with, 1.<minor> for v0.<minor>; without this it would be 1.20, older than the
# chart's kubeVersion.
client=$(go list -m -f '{{.Version}}' k8s.io/client-go)
minor=${client#v0.}; minor=${minor%%.*}
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${helm} -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X ${pkg}.k8sVersionMajor=1 -X ${pkg}.k8sVersionMinor=${minor}"
done

tmp="$out.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "building helm $helm" >&2
go build -trimpath -ldflags "$ldflags" -o "$tmp/helm" helm.sh/helm/v3/cmd/helm
touch "$tmp/.complete"
mkdir -p "$(dirname "$out")"
rm -rf "$out"; mv "$tmp" "$out"
trap - EXIT
link "${1:-}"
echo "$out"
