import { type Kafka, type OffsetRange, type Pool, settingsOf } from '@trapline/runtime';
import type { Codec } from '@trapline/schemas';
import { BulkLoader, type BulkFigures } from '../adapters/bulk.ts';
import { readOnWorkers } from '../adapters/bulk-read.ts';

// The bulk phase of `trapline rebuild`: the events topic read to the end offsets captured at its
// start (on worker threads, bulk-read.ts, apart from the write path in the projector's bulk.ts),
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
  maxTagValues?: number;
  onIndexing?: () => void;
  /** Records read so far, for the progress line. */
  onRecords?: (records: number) => void;
}

export interface BulkPhaseResult extends BulkFigures {
  /** Seconds from the read's start to its end, and of them the time spent taking the records (the rest: waiting for the readers). */
  readingSeconds: number;
  takingSeconds: number;
  /** Next offset per partition of the events topic: where the per-batch path starts. */
  positions: Map<number, number>;
  /** Keys of events refused as expired on arrival, to erase from the log. */
  erasures: string[];
}

export async function bulkPhase({ kafka, pool, codec, topic, ranges, partitionWidthSeconds, maxEvents, maxTagValues, onIndexing, onRecords }: BulkPhaseOptions): Promise<BulkPhaseResult> {
  const loader = new BulkLoader({
    pool, codec, topic, ...(partitionWidthSeconds === undefined ? {} : { partitionWidthSeconds }), ...(maxEvents === undefined ? {} : { maxEvents }),
    ...(maxTagValues === undefined ? {} : { maxTagValues }),
  });
  await loader.prepare();
  for (const range of ranges) loader.reached(range.partition, Number(range.from));
  let records = 0;
  let shown = 0;
  // Time spent taking records (deciding, waiting for COPYs): the rest of the loading is the read and the parse.
  let takingMs = 0;
  const readFrom = Date.now();
  const { brokers, clientId } = settingsOf(kafka);
  const read = await readOnWorkers(
    { brokers, clientId: `${clientId}.rebuild`, topic, ranges: ranges.map((range) => ({ partition: range.partition, from: Number(range.from), end: Number(range.end) })), maxBytesPerPartition: 4 * 1024 * 1024, idleMs: 5000 },
    async (batch) => {
      const from = performance.now();
      await loader.take(batch);
      takingMs += performance.now() - from;
      records += batch.offsets.length;
      if (records - shown >= 1024) {
        shown = records;
        onRecords?.(records);
      }
    },
    (partition) => loader.stopped(partition),
  );
  // What the wire reader cannot read, and what was not read (an open transaction holds it back),
  // is the per-batch path's; the rest was read to its end, transaction markers and compacted gaps included.
  for (const { partition, offset, reason } of read.unreadable) loader.leave(partition, offset, reason);
  loader.stopAll('nothing more arrived (an open transaction?)', read.idle);
  for (const range of ranges) loader.reached(range.partition, Number(range.end));
  const readingSeconds = (Date.now() - readFrom) / 1000;
  const figures = await loader.finish(onIndexing);
  return { ...figures, readingSeconds, takingSeconds: takingMs / 1000, positions: loader.positions(), erasures: loader.erasures };
}
