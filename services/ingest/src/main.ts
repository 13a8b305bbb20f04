import { Appender, createKafka, createLogger, createMetrics, createPool, createRedis, kafkaCheck, ProjectionWatcher, readConfig, runService, runsService, superviseWorkers } from '@trapline/runtime';
import { Codec, topicNames } from '@trapline/schemas';
import { Dedupe } from './adapters/dedupe.ts';
import { KeyCache } from './adapters/key-cache.ts';
import { RateLimiter } from './adapters/rate-limiter.ts';
import { buildIngestApp } from './app.ts';

const config = readConfig();
const logger = createLogger('ingest', config.LOG_LEVEL);

// INGEST_WORKERS > 1: this process only supervises that many workers, each running what follows.
if (!runsService(config.INGEST_WORKERS)) await superviseWorkers(logger, config.INGEST_WORKERS);

await runService(logger, async () => {
  const pool = createPool(config.DATABASE_URL, 4);
  const keys = new KeyCache(pool, config.KEY_CACHE_REFRESH_MS, logger);
  await keys.start();
  // A key the API created or revoked is in the admin model once the API answers; the projector's
  // notification tells ingest to load it now rather than at the next periodic refresh.
  const adminTopic = topicNames(config.KAFKA_TOPIC_PREFIX).admin;
  const watcher = await ProjectionWatcher.start(config.DATABASE_URL, logger);
  watcher.onAdvance((topic) => {
    if (topic === adminTopic) keys.adminChanged();
  });
  const redis = createRedis(config.REDIS_URL);
  await redis.connect().catch((error: unknown) => logger.warn({ err: error }, 'Redis unavailable at start; dedupe fails open until it answers'));
  const kafka = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-ingest`, logger);
  // INGEST_LINGER_MS: the trade between CPU per event and the ack's latency (bench/results/2026-12-03-ingest-workers.md).
  const appender = await Appender.connect(kafka, new Codec(), { lingerMs: config.INGEST_LINGER_MS });
  const admin = kafka.admin();
  await admin.connect();
  const app = buildIngestApp({
    appender,
    eventsTopic: topicNames(config.KAFKA_TOPIC_PREFIX).events,
    lookupKey: keys.lookup,
    allowedOrigins: keys.allowedOrigins,
    refreshKeys: () => keys.refreshAfterMiss(),
    dedupe: new Dedupe(redis, config.KAFKA_TOPIC_PREFIX, config.DEDUPE_WINDOW_SECONDS, logger),
    rateLimiter: new RateLimiter(
      redis,
      config.KAFKA_TOPIC_PREFIX,
      { projectPerWindow: config.RATE_LIMIT_PROJECT_EVENTS, keyPerWindow: config.RATE_LIMIT_KEY_EVENTS, windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS },
      logger,
    ),
    limits: { maxEventBytes: config.MAX_EVENT_BYTES, maxRequestBytes: config.MAX_REQUEST_BYTES },
    appendTimeoutMs: config.APPEND_TIMEOUT_MS,
    maxInflightAppends: config.MAX_INFLIGHT_APPENDS,
    logger,
    metrics: createMetrics('ingest'),
    readiness: { keys: () => (keys.ready ? undefined : 'DSN keys not loaded yet') },
    kafkaReachable: kafkaCheck(admin),
  });
  await app.listen({ host: config.HOST, port: config.INGEST_PORT });
  return {
    stop: async () => {
      await app.close();
      keys.stop();
      await watcher.close();
      await appender.close();
      await admin.disconnect();
      redis.disconnect();
      await pool.end();
    },
  };
});
