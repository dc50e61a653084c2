# miniapps-operator container image.
#
# NOT BUILT HERE: the development machines have no Docker engine, so this file is
# written to be correct but has never been built by the project's CI. Build it where
# an engine exists:
#
#   docker build -t miniapps-operator:0.1.0 .
#
# Node 24 runs the TypeScript sources directly (type stripping), so there is no
# build step: the first stage only installs the production dependencies.

ARG NODE_IMAGE=node:24-slim

# --- dependencies: production only, from the lockfile ---------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# --- runtime ---------------------------------------------------------------------
FROM ${NODE_IMAGE}
# The heap: Node reads the container's memory limit (cgroup v1 or v2) and V8's old space
# gets this share of it, so a larger limit is all that more objects need (no second
# number to keep in step; the chart sets NODE_OPTIONS itself from heapPercentage). Without
# the flag Node would give the old space half the limit but never less than 256 MiB, more
# than a small container holds. See "A heap sized by the memory limit" in the README.
#
# NODE_COMPILE_CACHE: the modules' stripped TypeScript and V8 code, made once below, so
# that the process does not load the type stripper (about 18 MB of RSS) nor compile at
# every start.
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-old-space-size-percentage=75" \
    NODE_COMPILE_CACHE=/app/.compile-cache
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root operator/ ./operator/
COPY --chown=root:root schemas/ ./schemas/
# Tests, the test environment and benchmarks are left out by .dockerignore.

# The compile cache, filled by loading everything the operator loads at start (--help
# imports all of it). Node keys the cache by its version, V8's flags and the uid, so it
# is made as the runtime user, then handed to root: read-only at run time, as the rest.
RUN mkdir .compile-cache && chown 1000:1000 .compile-cache
USER 1000:1000
RUN node operator/cli/main.ts --help > /dev/null && test -n "$(ls -A .compile-cache)"
USER 0:0
RUN chown -R root:root .compile-cache && chmod -R a-w,a+rX .compile-cache

# The image's `node` user (uid/gid 1000), numeric so that the kubelet can verify
# runAsNonRoot. The files above belong to root and are read-only to it.
USER 1000:1000

# 8080: /healthz, /readyz (/metrics with --metrics-secure=false)   9443: the API server's webhooks (TLS)
# 8443: the APIs and /metrics (TLS)   8081: invitation acceptance page
EXPOSE 8080 9443 8443 8081

ENTRYPOINT ["node", "operator/cli/main.ts"]
