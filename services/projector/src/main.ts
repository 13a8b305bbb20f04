import { Appender, createKafka, createLogger, createMetrics, createPool, deadLetterCounter, postgresCheck, readConfig, runService, runsService, startHealthServer, superviseWorkers } from '@trapline/runtime';
import { Codec, PROJECTED_TOPICS, topicNames } from '@trapline/schemas';
import { Counter } from 'prom-client';
import { startProjectorConsumer } from './app.ts';

const config = readConfig();
const logger = createLogger('projector', config.LOG_LEVEL);

// PROJECTOR_WORKERS > 1: this process only supervises that many workers, each a member of the
// projector's consumer group running what follows (its share of the partitions, its own
// connections); they share PROJECTOR_PORT, and /metrics on any of them counts all of them.
if (!runsService(config.PROJECTOR_WORKERS)) await superviseWorkers(logger, config.PROJECTOR_WORKERS);

await runService(logger, async () => {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const metrics = createMetrics('projector');
  const projected = new Counter({ name: 'trapline_projector_records_total', help: 'Records applied to the read models, by record name', labelNames: ['record'], registers: [metrics] });
  const deadLetters = deadLetterCounter(metrics);
  const pool = createPool(config.DATABASE_URL, 4);
  const kafka = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-projector`, logger);
  const codec = new Codec();
  const appender = await Appender.connect(kafka, codec);
  const consumer = await startProjectorConsumer({
    kafka, pool, codec, appender, logger, metrics,
    groupId: config.projectorGroup,
    topics: PROJECTED_TOPICS.map((id) => topics[id]),
    dlqTopic: topics.eventsDlq,
    partitionWidthSeconds: config.EVENTS_PARTITION_SECONDS,
    onBatch: (outcome) => {
      for (const [record, count] of outcome.projected) projected.inc({ record }, count);
      if (outcome.deadLettered > 0) deadLetters.inc({ topic: topics.eventsDlq }, outcome.deadLettered);
    },
  });
  const health = await startHealthServer(config.HOST, config.PROJECTOR_PORT, metrics, { consumer: () => consumer.check(), postgres: postgresCheck(pool) });
  return {
    stop: async () => {
      await consumer.stop();
      await appender.close();
      await health.close();
      await pool.end();
    },
  };
});
