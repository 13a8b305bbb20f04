import type { Kafka, KafkaMessage } from 'kafkajs';

// Reads a bounded range of one topic, the way an operator's console consumer would (committed
// records only), and stops at end offsets captured beforehand instead of waiting for new records.
// kafkajs has no manual partition assignment, so reading goes through a consumer group: a
// throwaway one for looking (positions set by seeking), or a durable one that commits each record
// once it is handled (so a second run continues after it).

export interface PartitionRange {
  partition: number;
  /** first offset to read */
  from: bigint;
  /** end offset captured before reading: records at or after it are left alone */
  end: bigint;
}

export type RecordVerdict = 'continue' | 'stop';

export interface ReadRangeOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** One range per partition of the topic; partitions with an empty range are paused. */
  ranges: PartitionRange[];
  /** true: a throwaway group, positioned at each range's `from`; false: continue from the group's committed offsets. */
  seek: boolean;
  /** Commit each record's offset after `onRecord` resolved (also moves the group past trailing transaction markers). */
  commit: boolean;
  onRecord(partition: number, message: KafkaMessage): Promise<RecordVerdict>;
  /** Gives up when nothing arrived for this long (an open transaction holds back everything after it). */
  idleMs?: number;
  onIdle?(partitions: number[]): void;
}

export async function readRange({ kafka, topic, groupId, ranges, seek, commit, onRecord, idleMs = 5000, onIdle }: ReadRangeOptions): Promise<void> {
  // Next offset to hand over per partition: a fetch that raced a seek may repeat or precede records.
  const next = new Map(ranges.filter((range) => range.from < range.end).map((range) => [range.partition, range.from]));
  const ends = new Map(ranges.map((range) => [range.partition, range.end]));
  const pending = new Set(next.keys());
  if (pending.size === 0) return;

  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500, allowAutoTopicCreation: false });
  let stopped = false;
  let lastProgress = Date.now();
  // Batches of control records only (transaction markers) reach no handler, but this event reports
  // every batch's last offset, markers included, so a partition ending in a marker still finishes.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic !== topic) return;
    lastProgress = Date.now();
    const end = ends.get(payload.partition);
    if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) pending.delete(payload.partition);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: commit,
      autoCommitThreshold: 1,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const end = ends.get(batch.partition);
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          const expected = next.get(batch.partition);
          if (stopped || end === undefined || expected === undefined || offset >= end) break;
          if (offset < expected) continue;
          next.set(batch.partition, offset + 1n);
          const verdict = await onRecord(batch.partition, message);
          if (commit) resolveOffset(message.offset);
          if (verdict === 'stop') stopped = true;
        }
      },
    });
    const idle = [...ends.keys()].filter((partition) => !next.has(partition));
    if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
    if (seek) for (const [partition, from] of next) consumer.seek({ topic, partition, offset: from.toString() });
    lastProgress = Date.now();
    while (!stopped && pending.size > 0) {
      if (Date.now() - lastProgress > idleMs) {
        onIdle?.([...pending]);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await consumer.disconnect();
  }
}
