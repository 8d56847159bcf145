# Runnel: a Kafka-compatible broker. Build: docker build -t runnel .
# Run:   docker run -p 9092:9092 -v runnel-data:/data runnel
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY protocol ./protocol
COPY storage ./storage
COPY broker ./broker
COPY replication ./replication
COPY client ./client
COPY test ./test
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RUNNEL_DATA_DIR=/data \
    RUNNEL_HOST=0.0.0.0 \
    RUNNEL_PORT=9092
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 9092 9644
# Set RUNNEL_ADVERTISED_HOST / RUNNEL_ADVERTISED_PORT to the address clients use to reach the container.
CMD ["node", "dist/broker/cli.js", "start"]
