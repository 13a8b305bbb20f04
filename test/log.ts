import { randomBytes } from 'node:crypto';
import { createKafka, createLogger, type Config } from '@trapline/runtime';

// Reads a topic from its beginning as an operator's console consumer would (committed records
// only), to assert what the log itself holds.

export interface LoggedRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  schema: string | undefined;
  headers: Record<string, string>;
}

/** Every record of `topic`, read until no new batch has come for `idleMs`. */
export async function readTopic(config: Config, topic: string, idleMs = 3000): Promise<LoggedRecord[]> {
  const kafka = createKafka(config.kafkaBrokers, 'test-reader', createLogger('test', 'error'));
  const consumer = kafka.consumer({ groupId: `test-reader-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 500 });
  const records: LoggedRecord[] = [];
  let lastBatch = Date.now();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    lastBatch = Date.now();
  });
  const deadline = Date.now() + 60000;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        lastBatch = Date.now();
        for (const message of batch.messages) {
          records.push({ partition: batch.partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value, schema: message.headers?.['trapline-schema']?.toString(), headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])) });
        }
      },
    });
    while ((!joined || Date.now() - lastBatch < idleMs) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Topic settings under which the broker's cleaner compacts `topic` within seconds. */
export async function compactQuickly(config: Config, topic: string): Promise<void> {
  const admin = createKafka(config.kafkaBrokers, 'test-admin', createLogger('test', 'error')).admin();
  await admin.connect();
  try {
    await admin.setTopicConfigs(topic, {
      'cleanup.policy': 'compact',
      'segment.ms': '500',
      'min.cleanable.dirty.ratio': '0.001',
      'min.compaction.lag.ms': '0',
      'max.compaction.lag.ms': '1000',
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until no record with one of `keys` carries a value any more. The cleaner never touches the
 * active segment, so `roll` appends something each round to close it.
 */
export async function untilCompactedAway(config: Config, topic: string, keys: Set<string>, roll: () => Promise<unknown>, timeoutMs = 90000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await roll();
    const log = await readTopic(config, topic, 1500);
    if (!log.some((record) => record.key !== null && keys.has(record.key) && record.value !== null)) return;
    if (Date.now() > deadline) throw new Error(`payloads of ${[...keys].join(', ')} still on ${topic}`);
  }
}

/** What `kafka-consumer-groups --describe` sums up: end offsets minus the group's committed offsets. */
export async function groupLag(config: Config, groupId: string, topics: string[]): Promise<number> {
  const admin = createKafka(config.kafkaBrokers, 'test-admin', createLogger('test', 'error')).admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics });
    let lag = 0;
    for (const topic of topics) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        const at = committed.find((entry) => entry.topic === topic)?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1';
        lag += Number(high) - (at === '-1' ? Number(low) : Number(at));
      }
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}
