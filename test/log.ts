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
          records.push({ partition: batch.partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value, schema: message.headers?.['trapline-schema']?.toString() });
        }
      },
    });
    while ((!joined || Date.now() - lastBatch < idleMs) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  } finally {
    await consumer.disconnect();
  }
  return records;
}
