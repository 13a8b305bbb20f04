import { createKafka, createLogger, createMetrics, createPool, readConfig, runService, startHealthServer, TransactionalAppender } from '@trapline/runtime';
import { Codec, topicNames } from '@trapline/schemas';
import { Counter } from 'prom-client';
import { startDeleter } from './adapters/pipeline.ts';
import { DeletionSource } from './adapters/source.ts';

const config = readConfig();
const logger = createLogger('deleter', config.LOG_LEVEL);

await runService(logger, async () => {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const metrics = createMetrics('deleter');
  const steps = new Counter({ name: 'trapline_deleter_steps_total', help: 'Deletion steps by outcome', labelNames: ['outcome'], registers: [metrics] });
  const pool = createPool(config.DATABASE_URL, 2);
  const kafka = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-deleter`, logger);
  const codec = new Codec();
  const appender = await TransactionalAppender.connect(kafka, codec, `${config.deleterGroup}.${config.deleterInstance}`);
  let ready = false;
  const deleter = await startDeleter({
    kafka, codec, appender, topics, logger,
    source: new DeletionSource(pool),
    groupId: config.deleterGroup,
    projectorGroup: config.projectorGroup,
    settings: {
      delayMs: config.DELETION_DELAY_SECONDS * 1000,
      chunkSize: config.DELETION_CHUNK_SIZE,
      maxAttempts: config.DELETION_MAX_ATTEMPTS,
      backoffMs: config.DELETION_RETRY_BACKOFF_MS,
      maxBackoffMs: config.DELETION_RETRY_MAX_BACKOFF_MS,
    },
    now: Date.now,
    onOutcome: (outcome, count) => steps.inc({ outcome }, count),
    onJoin: () => {
      ready = true;
    },
  });
  const health = await startHealthServer(config.HOST, config.DELETER_PORT, () => ready, metrics);
  return {
    stop: async () => {
      await deleter.stop();
      await appender.close();
      await health.close();
      await pool.end();
    },
  };
});
