import { topicNames, type TopicId } from '@trapline/schemas';
import type { Config } from './config.ts';
import { createKafka, ensureTopics } from './kafka.ts';
import type { Logger } from './logger.ts';
import { ensureDatabase, migrate } from './postgres.ts';

/** The partition counts the configuration sets instead of the declared ones. */
export function topicPartitions(config: Config): Partial<Record<TopicId, number>> {
  const deletions = config.KAFKA_DELETIONS_PARTITIONS;
  return {
    ...(config.KAFKA_EVENTS_PARTITIONS === undefined ? {} : { events: config.KAFKA_EVENTS_PARTITIONS }),
    ...(deletions === undefined ? {} : { deletionsDelay: deletions, deletionsRun: deletions, deletionsRetry: deletions }),
  };
}

/** Database, migrations and every topic: what must exist before any service starts. Idempotent. */
export async function provision(config: Config, logger: Logger): Promise<string[]> {
  await ensureDatabase(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, logger);
  const admin = createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-provision`, logger).admin();
  await admin.connect();
  try {
    // Replicated on up to three brokers, as many as the cluster has.
    const { brokers } = await admin.describeCluster();
    return await ensureTopics(admin, topicNames(config.KAFKA_TOPIC_PREFIX), Math.min(3, brokers.length), topicPartitions(config));
  } finally {
    await admin.disconnect();
  }
}
