#!/usr/bin/env bash
# npm run image: builds the operator's image with podman from the Dockerfile, on the two
# bases hack/image/base.sh makes from Debian's packages, tagged
# localhost/miniapps-operator:<version of package.json>, and writes its SBOM (SPDX 2.3:
# the production npm packages, the Node binary, the runtime base's Debian packages) to
# dist/image/. Prints the image reference on the last line.
#
# Reproducible: every file and the image's creation time get the epoch (--timestamp 0),
# so the same sources, lockfile and bases give the same image ID (operator/itest/image.itest.ts
# builds twice and compares).
#
#   npm run image [-- --tag=REF] [-- --no-cache]
set -euo pipefail
cd "$(dirname "$0")/../.."
# The project's Node 24 (node_modules/.bin/node), as every npm script runs on.
export PATH="$PWD/node_modules/.bin:$PATH"
version=$(node -p 'require("./package.json").version')
tag="localhost/miniapps-operator:$version"
cache_flag=()
for arg in "$@"; do
  case "$arg" in
    --tag=*) tag=${arg#--tag=} ;;
    --no-cache) cache_flag=(--no-cache) ;;
    *) echo "image: unknown argument $arg (--tag=REF, --no-cache)" >&2; exit 2 ;;
  esac
done
mapfile -t bases < <(bash hack/image/base.sh)
build_base=${bases[0]} runtime_base=${bases[1]}
cache=${MINIAPPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/miniapps-operator}/image

# The machine's CA bundle, for npm ci behind a TLS-inspecting proxy (mounted, never copied).
ca_flags=()
ca=${NPM_CONFIG_CAFILE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
[ -f "$ca" ] && ca_flags=(--volume "$ca:/run/build-ca.crt:ro" --build-arg NPM_CAFILE=/run/build-ca.crt)

# runc: crun cannot set rlimits in this sandbox; host network: the build's npm ci reaches
# the npm registry as this machine does.
podman --runtime runc build --quiet --network host --timestamp 0 "${cache_flag[@]}" \
  --ulimit nofile=1024:4096 --ulimit nproc=4096:4096 "${ca_flags[@]}" \
  --build-arg BUILD_IMAGE="$build_base" --build-arg RUNTIME_IMAGE="$runtime_base" \
  --label org.opencontainers.image.version="$version" \
  --label org.opencontainers.image.title=miniapps-operator \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  -t "$tag" . >&2

mkdir -p dist/image
node hack/image/sbom.ts --image="$tag" --debian="$cache/miniapps-runtime-base.packages" > dist/image/sbom.spdx.json
podman image inspect --format '{{.Id}}' "$tag" > dist/image/id
echo "image: $tag ($(cut -c1-19 dist/image/id), $(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')), SBOM dist/image/sbom.spdx.json" >&2
echo "$tag"
