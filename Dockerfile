# syntax=docker/dockerfile:1
# secure-defaults webhook image: built with the full Node.js 24 LTS toolchain on Debian 13 (trixie),
# run on distroless Node.js 24 on the same Debian release (distroless publishes nodejs24 for Debian 13 only)
# as a numeric non-root user with nothing but node, the compiled JavaScript and production
# dependencies. Nothing is written at run time (the chart mounts an emptyDir at /tmp), so the
# root filesystem can be read-only.
# test/image/dockerfile.test.ts and test/e2e/image-contents.test.ts replay these steps; keep
# instructions in the simple forms they understand (exec-form ENTRYPOINT/CMD, one COPY per line).

FROM node:24-trixie AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# A separate install so that no dev dependency (TypeScript, jest…) reaches the runtime image.
FROM node:24-trixie AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian13:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="secure-defaults" \
      org.opencontainers.image.description="Kubernetes mutating admission webhook that fills in Pod Security Standards restricted defaults and per-namespace UID ranges" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/secure-defaults/secure-defaults" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs24-debian13:nonroot"
WORKDIR /app
ENV NODE_ENV=production
# The heap cap keeps RSS well under the chart's 256Mi memory limit: V8 sizes its heap from that
# limit (~260 MB) and, with @kubernetes/client-node's ~40 MB live heap, let RSS reach 237-294 MB
# under load before a full collection (bench/README.md "Memory"); capped, 150-175 MB for ~9-14%
# more CPU per admission at saturation. The young generation is capped too: Node 24's V8 sizes it
# at up to ~200 MB beside a 128 MB old generation, and at that size every scavenge walks far more
# memory than the webhook keeps alive; 16 MB semi-spaces gave 2-3x less CPU per admission and
# 80 MB less RSS under load (bench/README.md, "Node 24's young generation").
ENV NODE_OPTIONS="--enable-source-maps --max-old-space-size=128 --max-semi-space-size=16"
# Owned by root and only readable by the app user: the process cannot alter its own code.
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY policies ./policies
USER 65532:65532
EXPOSE 8443
# Distroless has no shell and does not put node on PATH: name it by its absolute path.
ENTRYPOINT ["/nodejs/bin/node", "dist/src/cli/main.js"]
CMD ["serve"]
