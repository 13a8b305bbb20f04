import { parentPort, workerData } from 'node:worker_threads';
import { readRangesByWire, type WireRecord } from '@trapline/runtime/wire';
import { Codec, headerText, SCHEMA_HEADER, VERSION_HEADER } from '@trapline/schemas';
import { parseBulkEvent } from './bulk-parse.ts';
import { type ReadBatch, type ReadEntry, type ReaderJob, type ReaderMessage, READ_BATCH } from './bulk-read.ts';
import { CopySegments } from './copy-rows.ts';

// A worker of BulkReaders (bulk-read.ts): reads its partitions of the events topic over the wire
// protocol, parses each EventReceived into its rows, and sends the batches to the loader in the
// main thread, at most `credits` unanswered at a time; a partition the loader stopped is read no
// further.

const job = workerData as ReaderJob;
const codec = new Codec();
const stopped = new Set<number>();
let credits = job.credits;
let wake: (() => void) | undefined;

parentPort!.on('message', (message: { type: 'credit' } | { type: 'stop'; partition: number }) => {
  if (message.type === 'stop') stopped.add(message.partition);
  else credits += 1;
  wake?.();
});

const post = (message: ReaderMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

/** An exact copy (a view would clone its whole response buffer). */
const own = (bytes: Buffer | null) => (bytes === null ? null : new Uint8Array(bytes));

function entryOf(record: WireRecord, rows: CopySegments): ReadEntry {
  if (record.value !== null && headerText(record.headers, SCHEMA_HEADER) === 'EventReceived') {
    const parsed = parseBulkEvent(codec, record.headers, record.value, rows);
    if (!parsed.ok || !parsed.event.mayHaveSourceMaps) return { offset: record.offset, parsed };
    // What may have to be read again on the main thread (grouped on symbolicated frames) travels
    // in the rows' buffer, which moves: no copy of its own to clone and collect.
    const mark = rows.mark();
    rows.append(record.value);
    rows.mark();
    return { offset: record.offset, parsed, raw: { version: headerText(record.headers, VERSION_HEADER), mark } };
  }
  return { offset: record.offset, record: { key: own(record.key), value: own(record.value), headers: record.headers } };
}

async function take(partition: number, records: WireRecord[], nextOffset: number): Promise<void> {
  for (let from = 0; from < records.length || from === 0; from += READ_BATCH) {
    while (credits === 0 && !stopped.has(partition)) await new Promise<void>((resolve) => (wake = resolve));
    if (stopped.has(partition)) return;
    credits -= 1;
    const slice = records.slice(from, from + READ_BATCH);
    const rows = new CopySegments(Math.max(64 * 1024, 3 * slice.reduce((sum, record) => sum + (record.value?.length ?? 0), 0)));
    const entries = slice.map((record) => entryOf(record, rows));
    const done = rows.done();
    const last = from + READ_BATCH >= records.length;
    const batch: ReadBatch = { partition, entries, rows: done, nextOffset: last ? nextOffset : slice.at(-1)!.offset + 1 };
    post({ type: 'batch', batch }, [done.bytes.buffer as ArrayBuffer, done.marks.buffer as ArrayBuffer]);
  }
}

try {
  const result = await readRangesByWire({
    brokers: job.brokers, clientId: job.clientId, topic: job.topic, ranges: job.ranges, idleMs: job.idleMs, maxBytesPerPartition: job.maxBytesPerPartition,
    wanted: (partition) => !stopped.has(partition),
    onRecords: take,
  });
  post({ type: 'done', ...result });
} catch (error) {
  post({ type: 'error', message: (error as Error).message });
}
