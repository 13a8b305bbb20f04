import { createKafka, createLogger, createMetrics, readConfig, runService, startHealthServer } from '@trapline/runtime';
import { Codec, topicNames } from '@trapline/schemas';
import { Counter } from 'prom-client';

// The deleter's process and consumer group. It reads the domain log and recognizes deletion
// requests; carrying them out (delay topic, chunked purge, retries, DLQ, audit) is the deletion
// pipeline's work and lands with it.

const config = readConfig();
const logger = createLogger('deleter', config.LOG_LEVEL);

await runService(logger, async () => {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const metrics = createMetrics('deleter');
  const requests = new Counter({ name: 'trapline_deleter_requests_seen_total', help: 'Deletion requests read from the log', labelNames: ['kind'], registers: [metrics] });
  const codec = new Codec();
  const consumer = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-deleter`, logger).consumer({ groupId: config.deleterGroup, allowAutoTopicCreation: false });
  let ready = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    ready = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.events], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = codec.decode(message.headers, message.value);
      if (!decoded.ok) return; // the projector dead-letters undecodable records of this topic
      if (decoded.record.name === 'GroupDeletionRequested' || decoded.record.name === 'EventDeletionRequested') {
        requests.inc({ kind: decoded.record.name });
        logger.info({ transactionId: decoded.record.value.transactionId, kind: decoded.record.name }, 'deletion requested');
      }
    },
  });
  const health = await startHealthServer(config.HOST, config.DELETER_PORT, () => ready, metrics);
  return {
    stop: async () => {
      await consumer.disconnect();
      await health.close();
    },
  };
});
