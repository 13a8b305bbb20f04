import type { Kafka, KafkaMessage } from '@trapline/runtime';

// Reads a bounded range of one topic, the way an operator's console consumer would (committed
// records only), and stops at end offsets captured beforehand instead of waiting for new records.
// kafkajs has no manual partition assignment, so reading goes through a consumer group: a
// throwaway one for looking (positions set by seeking), or a durable one that commits each record
// once it is handled (so a second run continues after it).
//
// kafkajs fetches each partition from its *resolved* offset (eachBatchAutoResolve is off here), so
// every record handed over or skipped is resolved, with or without committing (resolving commits
// nothing while autoCommit is off). Otherwise a partition whose range needs more than one fetch
// (maxBytesPerPartition, 1 MiB) is fetched from the same offset again and again, forever.

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
  /** Bytes fetched per partition and request (kafkajs' default: 1 MiB); a bulk read takes more at once. */
  maxBytesPerPartition?: number;
  onIdle?(partitions: number[]): void;
}

export async function readRange({ kafka, topic, groupId, ranges, seek, commit, onRecord, idleMs = 5000, onIdle, maxBytesPerPartition }: ReadRangeOptions): Promise<void> {
  // Next offset to hand over per partition: a fetch that raced a seek may repeat or precede records.
  const next = new Map(ranges.filter((range) => range.from < range.end).map((range) => [range.partition, range.from]));
  const ends = new Map(ranges.map((range) => [range.partition, range.end]));
  const pending = new Set(next.keys());
  if (pending.size === 0) return;

  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500, allowAutoTopicCreation: false, ...(maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition, maxBytes: 8 * maxBytesPerPartition }) });
  let stopped = false;
  let lastProgress = Date.now();
  // Highest offset seen per partition: only a batch reaching past it is progress, so a fetch that
  // repeats itself (the same records again) cannot keep the read alive past `idleMs`.
  const reached = new Map<number, bigint>();
  // Batches of control records only (transaction markers) reach no handler, but this event reports
  // every batch's last offset, markers included, so a partition ending in a marker still finishes.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic !== topic) return;
    const last = BigInt(payload.lastOffset);
    if (last > (reached.get(payload.partition) ?? -1n)) {
      reached.set(payload.partition, last);
      lastProgress = Date.now();
    }
    const end = ends.get(payload.partition);
    if (end !== undefined && last + 1n >= end) pending.delete(payload.partition);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: commit,
      autoCommitThreshold: 1,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isStale }) => {
        const end = ends.get(batch.partition);
        for (const message of batch.messages) {
          // isStale: a seek is pending for this partition, the next fetch starts where it points.
          if (stopped || isStale()) break;
          const offset = BigInt(message.offset);
          const expected = next.get(batch.partition);
          if (end === undefined || expected === undefined || offset >= end) break;
          if (offset >= expected) {
            next.set(batch.partition, offset + 1n);
            const verdict = await onRecord(batch.partition, message);
            lastProgress = Date.now();
            if (verdict === 'stop') stopped = true;
          }
          // Handed over (or already handed over before a seek repeated it): the next fetch starts after it.
          resolveOffset(message.offset);
        }
      },
    });
    const idle = [...ends.keys()].filter((partition) => !next.has(partition));
    if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
    if (seek) for (const [partition, from] of next) consumer.seek({ topic, partition, offset: from.toString() });
    lastProgress = Date.now();
    while (!stopped && pending.size > 0) {
      if (Date.now() - lastProgress > idleMs) {
        stopped = true;
        onIdle?.([...pending]);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await consumer.disconnect();
  }
}
