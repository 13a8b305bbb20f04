import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Codec, type Headers } from '@trapline/schemas';
import type { IssueFacts } from '../domain/issue.ts';
import { type Parsed, readEvent } from '../domain/received.ts';
import { CopySegments } from './copy-rows.ts';

// The bulk load's reading of EventReceived records (Avro, then the payload's JSON, grouping and the
// issue's facts: most of the rebuild's CPU), on worker threads, so a rebuild uses every core: the
// main thread keeps the decisions, in log order, and the COPYs. What a worker hands back is what
// the decisions need and the rows already written in COPY's form but for the issue's id, in one
// buffer moved back (not the parsed event, nor its payload: cloning them back, then encoding the
// rows on the main thread, was most of the main thread's work).
//
// The parse itself is the projector's one parse (domain/received.ts), which a worker can load:
// it needs neither Kafka nor Postgres.

/**
 * An EventReceived as the bulk load decides on it, with its rows written ahead in COPY's text form
 * (`BulkRows`): all of each row but the issue's id, which only the decisions in log order give.
 */
export interface BulkEvent {
  projectId: number;
  eventId: string;
  receivedAt: number;
  hash: string;
  groupingVersion: string;
  type: IssueFacts['type'];
  title: string;
  culprit: string;
  /** The issue's metadata as the JSON written (the last event's wins). */
  metadata: string;
  level: string;
  platform: string;
  logger: string | null;
  release: string | null;
  /** The value of its `release` tag (what the releases' first appearance is taken from). */
  releaseTag: string | null;
  /** How many tags it carries (in its events row). */
  tags: number;
  /** The per-batch path would try its source maps first (resolved-frames.ts), if its project has any. */
  mayHaveSourceMaps: boolean;
  /**
   * Its first mark in its batch's rows; from it, in order: the start of the events row's head
   * (`project_id, event_id`), the head's end and the row's rest (after `group_id`, its tags
   * included), then the event_ids row.
   */
  mark: number;
}

/** The rows of a batch's events: bytes and marks of a `CopySegments`. */
export interface BulkRows {
  bytes: Uint8Array;
  marks: Uint32Array;
}

export type BulkParse = { ok: true; event: BulkEvent } | { ok: false; reason: string };

/** A batch parsed: each record's answer, in order, and the rows of those parsed. */
export interface ParsedBatch {
  parsed: BulkParse[];
  rows: BulkRows;
}

/** One record: the two headers the codec reads, and where its value lies in its batch's bytes. */
export interface RawEvent {
  schema: string | undefined;
  version: string | undefined;
  start: number;
  end: number;
}

/** Records and their values packed into one buffer (moved to the worker, not copied). */
export interface RawBatch {
  records: RawEvent[];
  bytes: Uint8Array;
}

/** Packs the records' values one after the other. */
export function packBatch(records: { schema: string | undefined; version: string | undefined; value: Buffer }[]): RawBatch {
  const bytes = new Uint8Array(records.reduce((sum, record) => sum + record.value.length, 0));
  let at = 0;
  const raw = records.map(({ schema, version, value }) => {
    bytes.set(value, at);
    at += value.length;
    return { schema, version, start: at - value.length, end: at };
  });
  return { records: raw, bytes };
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** The event as the bulk load writes it, its rows into `rows`. */
export function bulkEvent(parsed: Parsed, rows: CopySegments): BulkEvent {
  const { record, fields, hash, groupingVersion, facts } = parsed;
  const tags = fields.tags;
  const received = iso(record.receivedAt);
  const release = fields.release ?? null;
  const mark = rows.mark();
  rows.raw(record.projectId).text(record.eventId);
  rows.mark();
  rows.raw(received).raw(fields.occurred).text(fields.level).text(fields.platform)
    .text(facts.title).text(fields.message ?? '').text(release).text(fields.environment ?? null)
    .text(fields.user ?? null).raw('f').textBytes(parsed.payload)
    .textArray(tags.map(([key]) => key)).textArray(tags.map(([, value]) => value)).end();
  rows.mark();
  rows.raw(record.projectId).text(record.eventId).raw(received).end();
  rows.mark();
  const releaseTag = tags.find(([key]) => key === 'release')?.[1] ?? null;
  return {
    projectId: record.projectId, eventId: record.eventId, receivedAt: record.receivedAt, hash, groupingVersion,
    type: facts.type, title: facts.title, culprit: facts.culprit, metadata: JSON.stringify(facts.metadata),
    level: fields.level, platform: fields.platform, logger: fields.logger ?? null, release, releaseTag, tags: tags.length,
    mayHaveSourceMaps: fields.mayHaveSourceMaps, mark,
  };
}

/** Decodes and parses one EventReceived as parseEvents does, refusing what it refuses; its rows go to `rows`. */
export function parseBulkEvent(codec: Codec, raw: RawEvent, bytes: Uint8Array, rows: CopySegments): BulkParse {
  const headers: Headers = {};
  if (raw.schema !== undefined) headers['trapline-schema'] = raw.schema;
  if (raw.version !== undefined) headers['trapline-schema-version'] = raw.version;
  const parsed = readEvent(codec, headers, Buffer.from(bytes.buffer, bytes.byteOffset + raw.start, raw.end - raw.start));
  return parsed.ok ? { ok: true, event: bulkEvent(parsed.parsed, rows) } : parsed;
}

/** Every record of the batch parsed, the rows into one buffer (about the size of the records' values, and their tag rows). */
export function parseBatch(codec: Codec, batch: RawBatch): ParsedBatch {
  const rows = new CopySegments(Math.max(64 * 1024, batch.bytes.length * 2));
  const parsed = batch.records.map((record) => parseBulkEvent(codec, record, batch.bytes, rows));
  return { parsed, rows: rows.done() };
}

/** Worker threads parsing batches of records; each batch's answers come back in its order. */
export class BulkParsers {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (parsed: ParsedBatch) => void; reject: (error: unknown) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(count = Math.max(1, Math.min(4, availableParallelism()))) {
    // The code runs from source: a worker needs tsx (Node's own type stripping refuses parts of it).
    // Only the process' loaders are passed on: a worker refuses V8 flags (`--max-semi-space-size`).
    const execArgv = ['--import', 'tsx'];
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL('./bulk-parse.worker.ts', import.meta.url), { execArgv });
      worker.on('message', ({ id, parsed }: { id: number; parsed: ParsedBatch }) => {
        const job = this.waiting.get(id);
        this.waiting.delete(id);
        job?.resolve(parsed);
      });
      worker.on('error', (error) => {
        for (const job of this.waiting.values()) job.reject(error);
        this.waiting.clear();
      });
      return worker;
    });
  }

  /** Parses the records on the next worker in turn. */
  parse(batch: RawBatch): Promise<ParsedBatch> {
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, batch }, [batch.bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
