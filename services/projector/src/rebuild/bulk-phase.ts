import { type Kafka, type OffsetRange, type Pool, readRange } from '@trapline/runtime';
import type { Codec } from '@trapline/schemas';
import { BulkLoader, type BulkFigures } from '../adapters/bulk.ts';

// The bulk phase of `trapline rebuild`: the events topic read to the end offsets captured at its
// start (the reading is the runtime's readRange, apart from the write path in the projector's bulk.ts),
// loaded into the rebuild's schema, indexed, and the positions handed to the per-batch path, which
// catches up from them (see rebuild.ts).

export interface BulkPhaseOptions {
  kafka: Kafka;
  pool: Pool;
  codec: Codec;
  topic: string;
  /** Per partition: first offset held and end offset, captured before reading. */
  ranges: OffsetRange[];
  partitionWidthSeconds?: number;
  maxEvents?: number;
  onIndexing?: () => void;
  /** Records read so far, for the progress line. */
  onRecords?: (records: number) => void;
}

export interface BulkPhaseResult extends BulkFigures {
  /** Seconds from the read's start to its end, and of them the time spent taking the records (the rest: waiting for Kafka). */
  readingSeconds: number;
  takingSeconds: number;
  /** Next offset per partition of the events topic: where the per-batch path starts. */
  positions: Map<number, number>;
  /** Keys of events refused as expired on arrival, to erase from the log. */
  erasures: string[];
}

export async function bulkPhase({ kafka, pool, codec, topic, ranges, partitionWidthSeconds, maxEvents, onIndexing, onRecords }: BulkPhaseOptions): Promise<BulkPhaseResult> {
  const loader = new BulkLoader({ pool, codec, topic, ...(partitionWidthSeconds === undefined ? {} : { partitionWidthSeconds }), ...(maxEvents === undefined ? {} : { maxEvents }) });
  await loader.prepare();
  const open = new Set(ranges.filter((range) => range.from < range.end).map((range) => range.partition));
  for (const range of ranges) loader.reached(range.partition, Number(range.from));
  let idle: number[] = [];
  let records = 0;
  // Time spent taking records (decoding, deciding, waiting for COPYs): the rest of the loading is the read.
  let takingMs = 0;
  const readFrom = Date.now();
  try {
    await readRange({
      kafka, topic, ranges, idleMs: 5000, maxBytesPerPartition: 4 * 1024 * 1024,
      onIdle: (partitions) => (idle = partitions),
      onRecord: async (partition, message) => {
        const from = performance.now();
        await loader.accept(partition, { offset: message.offset, key: message.key, value: message.value, headers: message.headers });
        takingMs += performance.now() - from;
        if ((++records & 1023) === 0) onRecords?.(records);
        if (loader.stopped(partition)) open.delete(partition);
        return open.size === 0 ? 'stop' : 'continue';
      },
    });
    // The records taken are parsed ahead, on worker threads: applied to the end before going on.
    const from = performance.now();
    await loader.drain();
    takingMs += performance.now() - from;
  } finally {
    await loader.close();
  }
  // What was not read (an open transaction holds it back) is the per-batch path's; the rest was
  // read to its end, transaction markers and compacted gaps included.
  loader.stopAll('nothing more arrived (an open transaction?)', idle);
  for (const range of ranges) loader.reached(range.partition, Number(range.end));
  const readingSeconds = (Date.now() - readFrom) / 1000;
  const figures = await loader.finish(onIndexing);
  return { ...figures, readingSeconds, takingSeconds: takingMs / 1000, positions: loader.positions(), erasures: loader.erasures };
}
