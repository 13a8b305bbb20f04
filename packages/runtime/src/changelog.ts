import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { Kafka } from './kafka.ts';

/**
 * Reads a topic from its start to its current end (committed records only), for a service that
 * keeps its state in a compacted changelog topic. A consumer group of its own, used once and then
 * deleted, so no other member takes partitions from it.
 */
export async function readTopicToEnd(kafka: Kafka, topic: string, groupPrefix: string, onMessage: (message: KafkaMessage) => void, timeoutMs = 120000): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const pending = new Map(ends.filter(({ high, low }) => BigInt(high) > BigInt(low)).map(({ partition, high }) => [partition, BigInt(high)]));
    if (pending.size === 0) return 0;
    const groupId = `${groupPrefix}.restore.${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    let read = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            onMessage(message);
            read += 1;
          }
          // lastOffset counts the transaction markers after the records, so it reaches high - 1.
          const high = pending.get(batch.partition);
          if (high !== undefined && BigInt(batch.lastOffset()) + 1n >= high) pending.delete(batch.partition);
        },
      });
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0) {
        if (Date.now() > deadline) throw new Error(`${topic} was not read to its end within ${timeoutMs / 1000}s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return read;
  } finally {
    await admin.disconnect();
  }
}
