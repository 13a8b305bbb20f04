import type { Kafka } from 'kafkajs';
import { Appender, createPool, inTransaction, migrate, type Config, type Logger, type Pool } from '@trapline/runtime';
import { startProjectorConsumer } from '@trapline/projector/consumer';
import { Codec, PROJECTED_TOPICS, topicNames } from '@trapline/schemas';

// `trapline rebuild`: replays the retained log into fresh tables in a new schema while the live
// projector is stopped, swaps the schemas in one transaction (the API never sees a half-built
// state), and moves the projector's consumer group to where the rebuild stopped.

export class RebuildError extends Error {}

export interface RebuildOptions {
  config: Config;
  kafka: Kafka;
  logger: Logger;
  /** Keep the replaced tables in schema `replaced_<stamp>` instead of dropping them. */
  keepOld?: boolean;
  progress?: (line: string) => void;
  now?: () => number;
}

type Offsets = { topic: string; partition: number; offset: string }[];

async function endOffsets(kafka: Kafka, topics: string[]): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const all = await Promise.all(topics.map(async (topic) => (await admin.fetchTopicOffsets(topic)).map((partition) => ({ topic, partition: partition.partition, offset: partition.high }))));
    return all.flat();
  } finally {
    await admin.disconnect();
  }
}

async function committed(kafka: Kafka, groupId: string, topics: string[]): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const fetched = await admin.fetchOffsets({ groupId, topics });
    return fetched.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition: partition.partition, offset: partition.offset })));
  } finally {
    await admin.disconnect();
  }
}

/** Records still to apply: per partition, target end minus committed (a never-committed partition counts from its start). */
function lag(targets: Offsets, done: Offsets): number {
  return targets.reduce((sum, target) => {
    const at = done.find((entry) => entry.topic === target.topic && entry.partition === target.partition)?.offset ?? '-1';
    return sum + Math.max(0, Number(target.offset) - Math.max(0, Number(at)));
  }, 0);
}

export async function rebuild({ config, kafka, logger, keepOld = false, progress = () => undefined, now = Date.now }: RebuildOptions): Promise<{ records: number; seconds: number }> {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const sources = PROJECTED_TOPICS.map((id) => topics[id]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [live] = (await admin.describeGroups([config.projectorGroup])).groups;
    if (live && live.members.length > 0) throw new RebuildError(`the projector group ${config.projectorGroup} has ${live.members.length} live member(s): stop the projector first`);
  } finally {
    await admin.disconnect();
  }

  const stamp = String(now());
  const schema = `rebuild_${stamp}`;
  const groupId = `${config.projectorGroup}.rebuild.${stamp}`;
  await migrate(config.DATABASE_URL, logger, schema);
  // Nothing in the new schema is used before the swap (a rebuild stopped halfway is started again),
  // so its commits need not wait for the disk: the swap itself commits synchronously.
  const pool: Pool = createPool(config.DATABASE_URL, 4, schema, { synchronous_commit: 'off' });
  const codec = new Codec();
  const appender = await Appender.connect(kafka, codec);
  const targets = await endOffsets(kafka, sources);
  const total = lag(targets, []);
  const started = now();
  progress(`rebuilding ${total} records into schema ${schema}`);
  const consumer = await startProjectorConsumer({ kafka, pool, codec, appender, groupId, topics: sources, dlqTopic: topics.eventsDlq, logger, partitionWidthSeconds: config.EVENTS_PARTITION_SECONDS });
  try {
    for (;;) {
      const remaining = lag(targets, await committed(kafka, groupId, sources));
      const elapsed = Math.max(0.001, (now() - started) / 1000);
      const rate = (total - remaining) / elapsed;
      progress(`${total - remaining}/${total} records, ${rate.toFixed(0)} records/s, lag ${remaining}, ETA ${rate > 0 ? (remaining / rate).toFixed(0) : '?'} s`);
      if (remaining === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await consumer.disconnect();
    await appender.close();
    await pool.end();
  }

  const reached = await committed(kafka, groupId, sources);
  const swapPool = createPool(config.DATABASE_URL, 1);
  try {
    await inTransaction(swapPool, async (db) => {
      await db.query(`ALTER SCHEMA public RENAME TO "replaced_${stamp}"`);
      await db.query(`ALTER SCHEMA "${schema}" RENAME TO public`);
    });
    if (!keepOld) await swapPool.query(`DROP SCHEMA "replaced_${stamp}" CASCADE`);
  } finally {
    await swapPool.end();
  }

  const groups = kafka.admin();
  await groups.connect();
  try {
    for (const topic of sources) {
      const partitions = reached.filter((entry) => entry.topic === topic && Number(entry.offset) >= 0).map(({ partition, offset }) => ({ partition, offset }));
      if (partitions.length > 0) await groups.setOffsets({ groupId: config.projectorGroup, topic, partitions });
    }
    await groups.deleteGroups([groupId]);
  } finally {
    await groups.disconnect();
  }
  const seconds = (now() - started) / 1000;
  progress(`done: ${total} records in ${seconds.toFixed(1)} s; the projector group now continues from the rebuilt state`);
  return { records: total, seconds };
}
