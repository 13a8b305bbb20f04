import { randomBytes } from 'node:crypto';
import { createKafka, createLogger, settingsOf, startConsumeLoop, withAdmin, type Config } from '@trapline/runtime';

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
  const groupId = `test-reader-${randomBytes(4).toString('hex')}`;
  const records: LoggedRecord[] = [];
  let lastBatch = Date.now();
  let joined = false;
  const deadline = Date.now() + 60000;
  const loop = await startConsumeLoop({
    client: settingsOf(kafka),
    groupId,
    topics: [topic],
    fetchMaxWaitMs: 500,
    onJoin: () => {
      joined = true;
      lastBatch = Date.now();
    },
    handle: async (batch) => {
      lastBatch = Date.now();
      for (const record of batch.records) {
        records.push({ partition: batch.partition, offset: record.offset, key: record.key?.toString() ?? null, value: record.value, schema: record.schema, headers: Object.fromEntries(Object.entries(record.headers).map(([name, value]) => [name, String(value)])) });
      }
    },
  });
  try {
    while ((!joined || Date.now() - lastBatch < idleMs) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  } finally {
    await loop.stop();
    await withAdmin(kafka, (admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
  return records;
}

/** Topic settings under which the broker's cleaner compacts `topic` within seconds. */
export async function compactQuickly(config: Config, topic: string): Promise<void> {
  await withAdmin(createKafka(config.kafkaBrokers, 'test-admin', createLogger('test', 'error')), (admin) =>
    admin.setTopicConfigs(topic, {
      'cleanup.policy': 'compact',
      'segment.ms': '500',
      'min.cleanable.dirty.ratio': '0.001',
      'min.compaction.lag.ms': '0',
      'max.compaction.lag.ms': '1000',
    }));
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
  return withAdmin(createKafka(config.kafkaBrokers, 'test-admin', createLogger('test', 'error')), async (admin) => {
    const committed = await admin.fetchOffsets({ groupId, topics });
    let lag = 0;
    for (const topic of topics) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        const at = committed.find((entry) => entry.topic === topic)?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1';
        lag += Number(high) - (at === '-1' ? Number(low) : Number(at));
      }
    }
    return lag;
  });
}
