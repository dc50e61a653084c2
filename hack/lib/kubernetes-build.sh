# Sourced by hack/controlplane/build.sh and hack/node/build.sh, which build commands of the
# same Kubernetes: its version stamped the same way (a kubelet's version is checked against
# the API server's), and binaries that appear atomically in the cache.

# The linker flags that stamp Kubernetes' version into its commands, as its own build does
# (stripped binaries; a fixed build date, so the same pin gives the same bytes).
kubernetes_ldflags() {
  local version=$1 minor flags="-s -w" pkg
  minor=${version#v1.}; minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    flags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

# build_atomically OUT BUILD_FUNCTION: runs BUILD_FUNCTION DIR on an empty directory beside
# OUT, then marks it complete and moves it to OUT in one rename; an interrupted build leaves
# nothing that looks finished (no .complete) and removes its directory.
build_atomically() {
  local out=$1 build=$2
  tmp="$out.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  "$build" "$tmp"
  touch "$tmp/.complete"
  mkdir -p "$(dirname "$out")"
  rm -rf "$out"; mv "$tmp" "$out"
  trap - EXIT
}
