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
# The heap budget (the chart sets it from heapLimitMB): about 96 MB holds a few
# thousand organizations with their RBAC; see the README.
ENV NODE_ENV=production \
    NODE_OPTIONS="--enable-source-maps --max-old-space-size=96 --max-semi-space-size=4"
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --chown=root:root operator/ ./operator/
# Tests, the test environment and benchmarks are left out by .dockerignore.

# The image's `node` user (uid/gid 1000), numeric so that the kubelet can verify
# runAsNonRoot. The files above belong to root and are read-only to it.
USER 1000:1000

# 8080: /metrics, /healthz, /readyz   9443: validating webhook (TLS)
# 8081: invitation acceptance page
EXPOSE 8080 9443 8081

ENTRYPOINT ["node", "operator/cli/main.ts"]
