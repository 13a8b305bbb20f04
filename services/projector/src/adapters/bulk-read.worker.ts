import { parentPort, workerData } from 'node:worker_threads';
import { readRangesByWire, type WireRecord } from '@trapline/runtime/wire';
import { Codec, headerText, SCHEMA_HEADER, VERSION_HEADER } from '@trapline/schemas';
import { newBulkEvents, parseBulkEvent, pushBulkEvent } from './bulk-parse.ts';
import { type ReadBatch, type ReaderJob, type ReaderMessage, READ_BATCH } from './bulk-read.ts';
import { CopySegments } from './copy-rows.ts';
import { TagPairs } from './tag-sums.ts';

// A worker of readOnWorkers (bulk-read.ts): reads its partitions of the events topic over the wire
// protocol, parses each EventReceived into its rows, and sends the batches to the loader in the
// main thread, at most `credits` not yet taken; a partition the loader stopped is read no further.

const job = workerData as ReaderJob;
const codec = new Codec();
const stopped = new Set<number>();
/**
 * Projects whose artifact bundles this worker has read: only their events' values travel to the
 * main thread, which groups them on resolved frames. A project's bundles and events share its
 * partition, so a bundle is read before the events that come after it in the log.
 */
const withBundles = new Set<number>();
/** Each partition's tag pairs, numbered as first met. */
const tagPairs = new Map<number, TagPairs>();
const pairsOf = (partition: number) => {
  let pairs = tagPairs.get(partition);
  if (!pairs) tagPairs.set(partition, (pairs = new TagPairs()));
  return pairs;
};
let credits = job.credits;
let wake: (() => void) | undefined;

parentPort!.on('message', (message: { type: 'credit' } | { type: 'stop'; partition: number }) => {
  if (message.type === 'stop') stopped.add(message.partition);
  else credits += 1;
  wake?.();
});

const post = (message: ReaderMessage) => parentPort!.postMessage(message);

/** An exact copy (a view would clone its whole response buffer). */
const own = (bytes: Buffer | null) => (bytes === null ? null : new Uint8Array(bytes));

/** Adds one record to the batch: an EventReceived parsed into its columns and rows, any other as it is. */
function add(batch: ReadBatch, record: WireRecord, rows: CopySegments, pairs: TagPairs): void {
  batch.offsets.push(record.offset);
  const schema = headerText(record.headers, SCHEMA_HEADER);
  if (record.value === null || schema !== 'EventReceived') {
    if (record.value !== null && schema === 'ArtifactBundleAssembled') {
      const decoded = codec.decode(record.headers, record.value);
      if (decoded.ok && decoded.record.name === 'ArtifactBundleAssembled') withBundles.add(decoded.record.value.projectId);
    }
    batch.kinds.push(-1 - batch.others.length);
    batch.others.push({ key: own(record.key), value: own(record.value), headers: record.headers });
    return;
  }
  const parsed = parseBulkEvent(codec, record.headers, record.value, rows, pairs);
  if (!parsed.ok) {
    batch.kinds.push(-1 - batch.others.length);
    batch.others.push({ reason: parsed.reason });
    return;
  }
  batch.kinds.push(pushBulkEvent(batch.events, parsed.event));
  batch.versions.push(headerText(record.headers, VERSION_HEADER) ?? null);
  if (!parsed.event.mayHaveSourceMaps || !withBundles.has(parsed.event.projectId)) {
    batch.raws.push(-1);
    return;
  }
  // What may have to be read again on the main thread (grouped on symbolicated frames) travels
  // in the rows' buffer, which moves: no copy of its own to clone and collect.
  batch.raws.push(rows.mark());
  rows.append(record.value);
  rows.mark();
}

async function take(partition: number, records: WireRecord[], nextOffset: number): Promise<void> {
  for (let from = 0; from < records.length || from === 0; from += READ_BATCH) {
    while (credits === 0 && !stopped.has(partition)) await new Promise<void>((resolve) => (wake = resolve));
    if (stopped.has(partition)) return;
    credits -= 1;
    const slice = records.slice(from, from + READ_BATCH);
    // About the size of the rows (an events row is about its payload; the rest is small), grown if need be, cut to size when done.
    const rows = new CopySegments(64 * 1024 + Math.ceil(1.5 * slice.reduce((sum, record) => sum + (record.value?.length ?? 0), 0)));
    const last = from + READ_BATCH >= records.length;
    const batch: ReadBatch = {
      partition, offsets: [], kinds: [], events: newBulkEvents(), raws: [], versions: [], others: [],
      rows: { bytes: new Uint8Array(0), marks: new Uint32Array(0) }, tagPairs: null, nextOffset: last ? nextOffset : slice.at(-1)!.offset + 1,
    };
    const pairs = pairsOf(partition);
    for (const record of slice) add(batch, record, rows, pairs);
    batch.rows = rows.done();
    batch.tagPairs = pairs.take();
    const moved = [batch.rows.bytes.buffer as ArrayBuffer, batch.rows.marks.buffer as ArrayBuffer];
    if (batch.tagPairs) moved.push(batch.tagPairs.ids.buffer as ArrayBuffer);
    job.batches.postMessage(batch, moved);
    post({ type: 'batch' });
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
