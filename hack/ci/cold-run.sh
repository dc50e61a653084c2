#!/usr/bin/env bash
# Measures a cold `.ci/run`: runs it with every cache it would reuse pointed at a new,
# empty directory (the control plane and tools cache, Go's module and build caches, npm's
# cache, podman's image storage), as on a new machine, and prints how long it took.
# Run it from a fresh clone with ../shared beside it, with the machine otherwise idle
# (the number is only meaningful alone). Usage: bash hack/ci/cold-run.sh [DIR]
# DIR (default: a new temporary directory) holds the empty caches and the log; delete it after.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-$(mktemp -d /var/tmp/miniapps-cold.XXXXXX)}
mkdir -p "$dir"
cat > "$dir/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$dir/containers/storage"
runroot = "$dir/containers/run"
CONF
export MINIAPPS_CACHE_DIR="$dir/cache" GOMODCACHE="$dir/gomod" GOCACHE="$dir/gocache" \
  npm_config_cache="$dir/npm" CONTAINERS_STORAGE_CONF="$dir/storage.conf"
echo "cold .ci/run: caches in $dir, log in $dir/ci.log"
start=$SECONDS
set +e
bash .ci/run > "$dir/ci.log" 2>&1
status=$?
set -e
echo "cold .ci/run: exit $status after $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s; each step's start: grep '^== ' $dir/ci.log"
exit $status
