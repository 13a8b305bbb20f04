import { Appender, createKafka, createLogger, createMetrics, createPool, readConfig, runService, startHealthServer } from '@trapline/runtime';
import { Codec, PROJECTED_TOPICS, topicNames } from '@trapline/schemas';
import { Counter } from 'prom-client';
import { startProjectorConsumer } from './adapters/consumer.ts';

const config = readConfig();
const logger = createLogger('projector', config.LOG_LEVEL);

await runService(logger, async () => {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const metrics = createMetrics('projector');
  const projected = new Counter({ name: 'trapline_projector_records_total', help: 'Records projected', registers: [metrics] });
  const pool = createPool(config.DATABASE_URL, 4);
  const kafka = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-projector`, logger);
  const codec = new Codec();
  const appender = await Appender.connect(kafka, codec);
  let ready = false;
  const consumer = await startProjectorConsumer({
    kafka, pool, codec, appender, logger,
    groupId: config.projectorGroup,
    topics: PROJECTED_TOPICS.map((id) => topics[id]),
    dlqTopic: topics.eventsDlq,
    onBatch: (count) => projected.inc(count),
    onJoin: () => {
      ready = true;
    },
  });
  const health = await startHealthServer(config.HOST, config.PROJECTOR_PORT, () => ready, metrics);
  return {
    stop: async () => {
      await consumer.disconnect();
      await appender.close();
      await health.close();
      await pool.end();
    },
  };
});
