import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Codec, type EventReceived, type Headers } from '@trapline/schemas';
import { eventTags, userIdentity, type IssueFacts } from '../domain/issue.ts';
import { parseEvent } from '../domain/received.ts';
import { mayHaveSourceMaps } from '../domain/source-maps.ts';

// The bulk load's reading of EventReceived records (Avro, then the payload's JSON, grouping and the
// issue's facts: most of the rebuild's CPU), on worker threads, so a rebuild uses every core: the
// main thread keeps the decisions, in log order, and the COPYs. What a worker hands back is what
// the bulk load writes, not the parsed event (cloning that back would cost as much as parsing it).
//
// The parse itself is the projector's one parse (domain/received.ts), which a worker can load:
// it needs neither Kafka nor Postgres.

/** An EventReceived as the bulk load writes it. */
export interface BulkEvent {
  record: EventReceived;
  hash: string;
  groupingVersion: string;
  facts: IssueFacts;
  level: string;
  platform: string;
  logger: string | null;
  /** occurred, epoch ms */
  occurredAt: number;
  message: string;
  release: string | null;
  environment: string | null;
  userIdent: string | null;
  tags: [string, string][];
  /** The per-batch path would try its source maps first (resolved-frames.ts), if its project has any. */
  mayHaveSourceMaps: boolean;
}

export type BulkParse = { ok: true; event: BulkEvent } | { ok: false; reason: string };

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

/** Decodes and parses one EventReceived as parseEvents does, refusing what it refuses. */
export function parseBulkEvent(codec: Codec, raw: RawEvent, bytes: Uint8Array): BulkParse {
  const headers: Headers = {};
  if (raw.schema !== undefined) headers['trapline-schema'] = raw.schema;
  if (raw.version !== undefined) headers['trapline-schema-version'] = raw.version;
  const decoded = codec.decode(headers, Buffer.from(bytes.buffer, bytes.byteOffset + raw.start, raw.end - raw.start));
  if (!decoded.ok) return decoded;
  if (decoded.record.name !== 'EventReceived') return { ok: false, reason: `unexpected ${decoded.record.name}` };
  const record = decoded.record.value;
  const parsed = parseEvent(record);
  if (!parsed.ok) return parsed;
  const { event, hash, groupingVersion, facts } = parsed.parsed;
  return {
    ok: true,
    event: {
      record, hash, groupingVersion, facts,
      level: event.level, platform: event.platform, logger: event.logger ?? null, occurredAt: Math.round(event.timestamp * 1000), message: event.message ?? '',
      release: event.release ?? null, environment: event.environment ?? null, userIdent: userIdentity(event) ?? null, tags: eventTags(event),
      mayHaveSourceMaps: mayHaveSourceMaps(event),
    },
  };
}

/** Worker threads parsing batches of records; each batch's answers come back in its order. */
export class BulkParsers {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (parsed: BulkParse[]) => void; reject: (error: unknown) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(count = Math.max(1, Math.min(4, availableParallelism()))) {
    // The code runs from source: a worker needs tsx (Node's own type stripping refuses parts of it).
    // Only the process' loaders are passed on: a worker refuses V8 flags (`--max-semi-space-size`).
    const execArgv = ['--import', 'tsx'];
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL('./bulk-parse.worker.ts', import.meta.url), { execArgv });
      worker.on('message', ({ id, parsed }: { id: number; parsed: BulkParse[] }) => {
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
  parse(batch: RawBatch): Promise<BulkParse[]> {
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
