import { Appender, createKafka, createLogger, createMetrics, createPool, deadLetterCounter, postgresCheck, readConfig, runService, startHealthServer, TransactionalAppender } from '@trapline/runtime';
import { Codec, topicNames } from '@trapline/schemas';
import { Counter } from 'prom-client';
import { startDeleter } from './app.ts';
import { startRetentionScheduler } from './adapters/retention-scheduler.ts';
import { DeletionSource } from './adapters/source.ts';

const config = readConfig();
const logger = createLogger('deleter', config.LOG_LEVEL);

await runService(logger, async () => {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const metrics = createMetrics('deleter');
  const steps = new Counter({ name: 'trapline_deleter_steps_total', help: 'Deletion steps by outcome', labelNames: ['outcome'], registers: [metrics] });
  const deadLetters = deadLetterCounter(metrics);
  const pool = createPool(config.DATABASE_URL, 3); // one is held by the retention scheduler while it is the active one
  const kafka = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-deleter`, logger);
  const codec = new Codec();
  const appender = await TransactionalAppender.connect(kafka, codec, `${config.deleterGroup}.${config.deleterInstance}`);
  const source = new DeletionSource(pool);
  const deleter = await startDeleter({
    kafka, codec, appender, topics, logger, source, metrics,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    maxPollIntervalMs: config.KAFKA_MAX_POLL_INTERVAL_MS,
    groupId: config.deleterGroup,
    projectorGroup: config.projectorGroup,
    settings: {
      delayMs: config.DELETION_DELAY_SECONDS * 1000,
      chunkSize: config.DELETION_CHUNK_SIZE,
      expiryChunkSize: config.EXPIRY_CHUNK_SIZE,
      maxAttempts: config.DELETION_MAX_ATTEMPTS,
      backoffMs: config.DELETION_RETRY_BACKOFF_MS,
      maxBackoffMs: config.DELETION_RETRY_MAX_BACKOFF_MS,
    },
    now: Date.now,
    onOutcome: (outcome, count) => {
      steps.inc({ outcome }, count);
      // A step out of attempts and an unreadable step both go to the deletions' dead-letter topic.
      if (outcome === 'dead' || outcome === 'dead_letter') deadLetters.inc({ topic: topics.deletionsDlq }, count);
    },
  });
  const retentionRequests = new Counter({ name: 'trapline_retention_requests_total', help: 'Retention deletions requested by the scheduler', registers: [metrics] });
  const retentionChecks = new Counter({ name: 'trapline_retention_checks_total', help: 'Retention checks made by the active scheduler', registers: [metrics] });
  const requestAppender = await Appender.connect(kafka, codec);
  const retention = startRetentionScheduler({
    pool, source, topics, logger,
    appender: requestAppender,
    lockName: `${config.deleterGroup}.retention`,
    defaultDays: config.RETENTION_DAYS,
    intervalMs: config.RETENTION_CHECK_SECONDS * 1000,
    now: Date.now,
    onRequested: (count) => retentionRequests.inc(count),
    onChecked: () => retentionChecks.inc(),
  });
  const health = await startHealthServer(config.HOST, config.DELETER_PORT, metrics, { consumer: () => deleter.check(), postgres: postgresCheck(pool) });
  return {
    stop: async () => {
      await retention.stop();
      await deleter.stop();
      await requestAppender.close();
      await appender.close();
      await health.close();
      await pool.end();
    },
  };
});
