# Runnel: a Kafka-compatible broker.
#   docker build -t runnel .
#   docker run -p 9092:9092 -p 9644:9644 -v runnel-data:/data runnel
# Clients outside the container reach it as localhost:9092 (the advertised default when binding 0.0.0.0);
# set RUNNEL_ADVERTISED_HOST / RUNNEL_ADVERTISED_PORT to the address clients use otherwise. Any broker config
# can be set as RUNNEL_<NAME> (dots as underscores), e.g. -e RUNNEL_NUM_PARTITIONS=3.
# test/docker.test.ts checks this file and runs its CMD and HEALTHCHECK outside Docker.

# Build stage: install with dev dependencies, compile, then drop the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY protocol ./protocol
COPY storage ./storage
COPY broker ./broker
COPY replication ./replication
COPY client ./client
COPY test ./test
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: the compiled broker and its production dependencies only, run as the image's non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RUNNEL_DATA_DIR=/data \
    RUNNEL_HOST=0.0.0.0 \
    RUNNEL_PORT=9092 \
    RUNNEL_ADMIN_PORT=9644 \
    RUNNEL_ADMIN_HOST=0.0.0.0 \
    RUNNEL_LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 9092 9644
# Liveness through the admin API's /health, with node itself (no curl in the slim image).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.RUNNEL_ADMIN_PORT || 9644) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/broker/bin.cjs", "start"]
