import { join } from 'node:path';
import { Appender, createKafka, createLogger, createMetrics, createPool, createRedis, kafkaCheck, postgresCheck, ProjectionWatcher, readConfig, runService } from '@trapline/runtime';
import { Codec, topicNames } from '@trapline/schemas';
import { projectionState } from './adapters/projection-state.ts';
import { ReadModel } from './adapters/read-model.ts';
import { loadWebAssets } from './adapters/web-assets.ts';
import { SessionStore, SignInThrottle } from './adapters/sessions.ts';
import { buildApiApp } from './app.ts';

const config = readConfig();
const logger = createLogger('api', config.LOG_LEVEL);

await runService(logger, async () => {
  const pool = createPool(config.DATABASE_URL, 10);
  const kafka = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-api`, logger);
  const appender = await Appender.connect(kafka, new Codec());
  // One LISTEN connection for every write waiting to be projected (read your own writes).
  const watcher = await ProjectionWatcher.start(config.DATABASE_URL, logger);
  const admin = kafka.admin();
  await admin.connect();
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const redis = createRedis(config.REDIS_URL);
  await redis.connect().catch((error: unknown) => logger.warn({ err: error }, 'Redis unavailable at start; sign-in answers 500 until it answers'));
  const throttle = { perEmail: config.SIGN_IN_FAILURES_PER_EMAIL, perAddress: config.SIGN_IN_FAILURES_PER_ADDRESS, windowSeconds: config.SIGN_IN_THROTTLE_SECONDS };
  // The web UI's production build (`npm run build -w web`; npm start and the image build it).
  const webAssets = loadWebAssets(join(import.meta.dirname, '..', '..', '..', 'web', 'dist'));
  if (!webAssets) logger.warn('web/dist has no build: serving the API only (npm run build -w web)');
  const app = await buildApiApp({
    readModel: new ReadModel(pool), appender, eventsTopic: topics.events, adminTopic: topics.admin, auditTopic: topics.audit,
    sessions: new SessionStore(redis, config.KAFKA_TOPIC_PREFIX, config.SESSION_TTL_SECONDS), throttle: new SignInThrottle(redis, config.KAFKA_TOPIC_PREFIX, throttle), publicUrl: config.PUBLIC_URL, logger, webAssets,
    metrics: createMetrics('api'),
    visibility: { watcher, timeoutMs: config.WRITE_VISIBILITY_TIMEOUT_MS },
    projection: projectionState(admin, pool, config.projectorGroup, [topics.events, topics.admin, topics.audit]),
    // Reads need Postgres; status changes and deletion requests need Kafka.
    readiness: { postgres: postgresCheck(pool), kafka: kafkaCheck(admin) },
  });
  await app.listen({ host: config.HOST, port: config.API_PORT });
  return {
    stop: async () => {
      await app.close();
      await appender.close();
      await watcher.close();
      await admin.disconnect();
      await pool.end();
      redis.disconnect();
    },
  };
});
