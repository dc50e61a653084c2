#!/usr/bin/env bash
# Builds the tools that the operator's users run and the tests run too, from the Go
# module proxy, pinned by go.mod/go.sum beside this script:
#
#   helm      helm v3 (helm.sh/helm/v3): chart lint, template, install
#   helm4     helm v4 (helm.sh/helm/v4): the same chart checks with the next major
#   kstatus   ./kstatus: sigs.k8s.io/cli-utils' kstatus, the health Flux reads
#   promtool  github.com/prometheus/prometheus/cmd/promtool: check metrics and rules
#   glua      github.com/yuin/gopher-lua: runs the chart's Argo CD health scripts
#   krew      sigs.k8s.io/krew: installs the kubectl plugin from a plugin index, as users do
#
# and, from a module of their own (release/go.mod: their dependencies would otherwise
# move the pins of the tools above), what releasing the chart and the image takes:
#
#   registry  github.com/distribution/distribution/v3/cmd/registry: a local OCI registry
#   cosign    github.com/sigstore/cosign/v3/cmd/cosign: signs and verifies the image and chart
#   helm-docs github.com/norwoodj/helm-docs/cmd/helm-docs: the chart README's values table
#
#   hack/tools/build.sh [OUT_DIR]
#
# Each tool is built once into $MINIAPPS_CACHE_DIR (or ~/.cache/miniapps-operator)/
# tools-<name>-<version>-<hash>/, where <hash> covers exactly the module versions
# (and local sources) that go into that binary, so a changed pin rebuilds only the
# tools it changes (promtool, the slow one, is not rebuilt when helm moves). A tool
# appears atomically: a build that is interrupted leaves nothing that looks finished.
#
# OUT_DIR (default <cache>/tools-set-<hash>/bin) gets one link per tool; with the
# default, the stable link <cache>/tools/bin points at it, so the tests find the
# tools without Go. Prints OUT_DIR.
set -euo pipefail
given=${1:+$(realpath -m -- "$1")}
cd "$(dirname "$0")"

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<'EOF'
hack/tools/build.sh: Go is not installed (no `go` on PATH).
The chart and plugin tests' tools (helm, kstatus, promtool, glua, krew) are built from source with Go.
  - install Go 1.25 or later (Debian: apt-get install golang-go; a newer toolchain is
    fetched on its own from the Go module proxy), then run this again; or
  - point $HELM, $HELM4, $KSTATUS, $PROMTOOL, $LUA and $KREW at binaries you have.
EOF
  exit 127
fi

export GOFLAGS=-mod=readonly CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
# Bump when the way a tool is built (flags below) changes: every tool is rebuilt.
recipe=1

cache=${MINIAPPS_CACHE_DIR:-$HOME/.cache/miniapps-operator}
mkdir -p "$cache"

# name  package  module (whose version names the build)  Go module directory
tools=(
  "helm      helm.sh/helm/v3/cmd/helm                           helm.sh/helm/v3                        ."
  "helm4     helm.sh/helm/v4/cmd/helm                           helm.sh/helm/v4                        ."
  "kstatus   ./kstatus                                          sigs.k8s.io/cli-utils                  ."
  "promtool  github.com/prometheus/prometheus/cmd/promtool      github.com/prometheus/prometheus       ."
  "glua      github.com/yuin/gopher-lua/cmd/glua                github.com/yuin/gopher-lua             ."
  "krew      sigs.k8s.io/krew/cmd/krew                          sigs.k8s.io/krew                       ."
  "registry  github.com/distribution/distribution/v3/cmd/registry github.com/distribution/distribution/v3 release"
  "cosign    github.com/sigstore/cosign/v3/cmd/cosign           github.com/sigstore/cosign/v3          release"
  "helm-docs github.com/norwoodj/helm-docs/cmd/helm-docs        github.com/norwoodj/helm-docs          release"
)

client=$(go list -m -f '{{.Version}}' k8s.io/client-go)
minor=${client#v0.}; minor=${minor%%.*}

ldflags_of() {
  local name=$1 version=$2 flags="-s -w"
  case $name in
    helm)
      # As helm's own Makefile: its default Kubernetes version (helm template without
      # --kube-version, helm lint's deprecation checks) is that of the client-go it
      # builds with, 1.<minor> for v0.<minor>; without this it would be 1.20.
      flags+=" -X helm.sh/helm/v3/internal/version.version=${version} -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
      for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        flags+=" -X ${pkg}.k8sVersionMajor=1 -X ${pkg}.k8sVersionMinor=${minor}"
      done ;;
    helm4)
      # helm v4 reads client-go's version from the build info itself.
      flags+=" -X helm.sh/helm/v4/internal/version.version=${version} -X helm.sh/helm/v4/internal/version.gitTreeState=clean" ;;
    krew)
      # The version `krew version` prints. A build with a release version looks for a newer
      # krew on GitHub now and then, unless KREW_NO_UPGRADE_CHECK is set (the tests set it).
      flags+=" -X sigs.k8s.io/krew/internal/version.gitTag=${version}" ;;
    promtool)
      flags+=" -X github.com/prometheus/common/version.Version=${version#v} -X github.com/prometheus/common/version.Branch=HEAD" ;;
    registry)
      flags+=" -X github.com/distribution/distribution/v3/version.version=${version}" ;;
    cosign)
      flags+=" -X sigs.k8s.io/release-utils/version.gitVersion=${version} -X sigs.k8s.io/release-utils/version.gitTreeState=clean" ;;
    helm-docs)
      flags+=" -X main.version=${version#v}" ;;
  esac
  echo "$flags"
}

# The modules (path@version, and the sum of local sources) that make up a package.
fingerprint() {
  local pkg=$1
  {
    echo "recipe=$recipe $(go env GOVERSION)"
    go list -deps -f '{{with .Module}}{{.Path}}@{{.Version}}{{end}}' "$pkg" | sort -u
    if [[ $pkg == ./* ]]; then cat "$pkg"/*.go; fi
  } | sha256sum | cut -c1-12
}

declare -A built
for row in "${tools[@]}"; do
  read -r name pkg module moddir <<<"$row"
  pushd "$moddir" >/dev/null
  version=$(go list -m -f '{{.Version}}' "$module")
  dir="$cache/tools-$name-$version-$(fingerprint "$pkg")"
  if [ ! -f "$dir/.complete" ]; then
    tmp="$dir.tmp.$$"
    rm -rf "$tmp"; mkdir -p "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    echo "building $name ($module $version)" >&2
    go build -trimpath -ldflags "$(ldflags_of "$name" "$version")" -o "$tmp/$name" "$pkg"
    touch "$tmp/.complete"
    rm -rf "$dir"; mv "$tmp" "$dir"
    trap - EXIT
  fi
  popd >/dev/null
  built[$name]="$dir/$name"
done

# The set: one link per tool, in a directory named by what it links to.
set_hash=$(for name in "${!built[@]}"; do echo "$name ${built[$name]}"; done | sort | sha256sum | cut -c1-12)
out=${given:-$cache/tools-set-$set_hash/bin}
if [ ! -f "$out/.complete" ]; then
  tmp="$out.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  for name in "${!built[@]}"; do ln -s "${built[$name]}" "$tmp/$name"; done
  touch "$tmp/.complete"
  mkdir -p "$(dirname "$out")"
  rm -rf "$out"; mv "$tmp" "$out"
  trap - EXIT
fi

# Points <cache>/tools/bin at $out (atomically), when $out is the default.
if [ -z "$given" ]; then
  mkdir -p "$cache/tools"
  ln -sfn "$out" "$cache/tools/bin.tmp.$$"
  mv -Tf "$cache/tools/bin.tmp.$$" "$cache/tools/bin"
fi
echo "$out"
