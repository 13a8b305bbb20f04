# One image for every Trapline service; docker-compose.yml picks the command.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0
# librdkafka (the Kafka client's native add-on) is built by npm ci's postinstall against these.
RUN apt-get update && apt-get install -y --no-install-recommends build-essential python3 libssl-dev zlib1g-dev libzstd-dev \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY packages/runtime/scripts packages/runtime/scripts
COPY schemas/package.json schemas/
COPY packages/runtime/package.json packages/runtime/
COPY packages/stack/package.json packages/stack/
COPY packages/cli/package.json packages/cli/
COPY packages/symbolication/package.json packages/symbolication/
COPY services/ingest/package.json services/ingest/
COPY services/api/package.json services/api/
COPY services/projector/package.json services/projector/
COPY services/deleter/package.json services/deleter/
COPY services/notifier/package.json services/notifier/
COPY test/package.json test/
COPY web/package.json web/
# tsx runs the TypeScript sources directly, so dev dependencies stay.
RUN npm ci --include=dev && npm cache clean --force
COPY schemas schemas
COPY packages packages
COPY services services
# The web UI's production build (web/dist), which the api service serves at /.
COPY web web
RUN npm run build -w web
USER node
CMD ["node", "--import", "tsx", "packages/cli/src/main.ts", "--help"]
