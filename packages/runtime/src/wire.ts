import { gunzipSync, zstdDecompressSync } from 'node:zlib';

// As much of Kafka's wire protocol as reading a partition's committed records by offset needs,
// as pure functions over buffers: Metadata (v8) to find each partition's leader, Fetch (v11,
// read_committed) and the record batches of its answer (magic 2), decoded without copying keys,
// values or headers out of the response. It is what the rebuild's parse workers read with
// (wire-reader.ts): the librdkafka binding cannot be loaded on a worker thread, and handing its
// messages over cost the rebuild's JavaScript thread about 10 µs a record.
//
// Versions: Kafka 4 removed Fetch below v4 and Metadata below v4 (KIP-896); v11 and v8 are the
// newest before the flexible encodings (tagged fields) and are served by Kafka 2.3 onwards.

export const FETCH_API = { key: 1, version: 11 } as const;
export const METADATA_API = { key: 3, version: 8 } as const;

/** Error codes the reader acts on (the rest fail the read with their number). */
export const KAFKA_ERRORS = {
  none: 0,
  offsetOutOfRange: 1,
  unknownTopicOrPartition: 3,
  leaderNotAvailable: 5,
  notLeaderOrFollower: 6,
  requestTimedOut: 7,
  fencedLeaderEpoch: 74,
  unknownLeaderEpoch: 75,
} as const;

/** Errors that a fresh look at the partition's leader may cure. */
export const LEADER_ERRORS: ReadonlySet<number> = new Set([
  KAFKA_ERRORS.unknownTopicOrPartition, KAFKA_ERRORS.leaderNotAvailable, KAFKA_ERRORS.notLeaderOrFollower,
  KAFKA_ERRORS.requestTimedOut, KAFKA_ERRORS.fencedLeaderEpoch, KAFKA_ERRORS.unknownLeaderEpoch,
]);

/**
 * Writes a request in Kafka's non-flexible encoding (big-endian integers, int16-length strings,
 * int32-length arrays; null as -1), starting with its header, and frames it with its size.
 */
export class Writer {
  private readonly parts: Buffer[] = [];

  /** A request's header (v1): API key and version, correlation id, client id. */
  static request(api: { key: number; version: number }, correlationId: number, clientId: string): Writer {
    return new Writer().int16(api.key).int16(api.version).int32(correlationId).string(clientId);
  }

  int8(value: number): this {
    return this.fixed(1, (buffer) => buffer.writeInt8(value));
  }

  int16(value: number): this {
    return this.fixed(2, (buffer) => buffer.writeInt16BE(value));
  }

  int32(value: number): this {
    return this.fixed(4, (buffer) => buffer.writeInt32BE(value));
  }

  int64(value: number): this {
    return this.fixed(8, (buffer) => buffer.writeBigInt64BE(BigInt(value)));
  }

  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = Buffer.from(value, 'utf8');
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  array<T>(items: readonly T[] | null, each: (item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) each(item);
    return this;
  }

  /** The request, its size first. */
  framed(): Buffer {
    const body = Buffer.concat(this.parts);
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(body.length);
    return Buffer.concat([size, body]);
  }

  private fixed(bytes: number, write: (buffer: Buffer) => void): this {
    const buffer = Buffer.allocUnsafe(bytes);
    write(buffer);
    this.parts.push(buffer);
    return this;
  }
}

/** Reads a response body from `at`; every read checks the bounds (a short answer throws). */
export class Reader {
  at: number;

  constructor(readonly buffer: Buffer, at = 0) {
    this.at = at;
  }

  private take(bytes: number): number {
    const from = this.at;
    if (from + bytes > this.buffer.length) throw new RangeError(`the answer ends at ${this.buffer.length}, ${bytes} bytes wanted at ${from}`);
    this.at += bytes;
    return from;
  }

  int8(): number {
    return this.buffer.readInt8(this.take(1));
  }

  int16(): number {
    return this.buffer.readInt16BE(this.take(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  /** An int64 as a number: offsets and producer ids stay far below 2^53. */
  int64(): number {
    return Number(this.buffer.readBigInt64BE(this.take(8)));
  }

  string(): string {
    const length = this.int16();
    const from = this.take(length);
    return this.buffer.toString('utf8', from, from + length);
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const from = this.take(length);
    return this.buffer.toString('utf8', from, from + length);
  }

  /** An int32-sized byte string, as a view of the answer (null for -1). */
  bytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    const from = this.take(length);
    return this.buffer.subarray(from, from + length);
  }

  array<T>(each: () => T): T[] {
    const count = this.int32();
    const items: T[] = [];
    for (let i = 0; i < count; i += 1) items.push(each());
    return items;
  }

  /** A zigzag varint (32 bits). */
  varint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buffer[this.take(1)]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) throw new RangeError('a varint longer than 5 bytes');
    }
    return (value >>> 1) ^ -(value & 1);
  }

  /** A zigzag varlong, skipped (record timestamps are not read). */
  skipVarlong(): void {
    for (let bytes = 1; (this.buffer[this.take(1)]! & 0x80) !== 0; bytes += 1) if (bytes === 10) throw new RangeError('a varlong longer than 10 bytes');
  }

  /** A varint-sized byte string, as a view (null for -1). */
  varBytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) return null;
    const from = this.take(length);
    return this.buffer.subarray(from, from + length);
  }
}

export interface Broker {
  nodeId: number;
  host: string;
  port: number;
}

export interface PartitionLeader {
  partition: number;
  /** -1: none right now */
  leader: number;
  leaderEpoch: number;
  errorCode: number;
}

export interface TopicMetadata {
  brokers: Broker[];
  /** The topic's error (e.g. 3: unknown), 0 when it was found. */
  errorCode: number;
  partitions: PartitionLeader[];
}

export function metadataRequest(correlationId: number, clientId: string, topic: string): Buffer {
  const writer = Writer.request(METADATA_API, correlationId, clientId);
  // The topic; no auto-creation, no authorized operations.
  return writer.array([topic], (name) => writer.string(name)).int8(0).int8(0).int8(0).framed();
}

export function decodeMetadata(body: Buffer, topic: string): TopicMetadata {
  const reader = new Reader(body);
  reader.int32(); // throttle time
  const brokers = reader.array(() => {
    const nodeId = reader.int32();
    const host = reader.string();
    const port = reader.int32();
    reader.nullableString(); // rack
    return { nodeId, host, port };
  });
  reader.nullableString(); // cluster id
  reader.int32(); // controller
  const topics = reader.array(() => {
    const errorCode = reader.int16();
    const name = reader.string();
    reader.int8(); // internal
    const partitions = reader.array(() => {
      const partitionError = reader.int16();
      const partition = reader.int32();
      const leader = reader.int32();
      const leaderEpoch = reader.int32();
      for (let list = 0; list < 3; list += 1) reader.array(() => reader.int32()); // replicas, in sync, offline
      return { partition, leader, leaderEpoch, errorCode: partitionError };
    });
    reader.int32(); // authorized operations
    return { errorCode, name, partitions };
  });
  const found = topics.find((entry) => entry.name === topic);
  return { brokers, errorCode: found ? found.errorCode : KAFKA_ERRORS.unknownTopicOrPartition, partitions: found?.partitions ?? [] };
}

export interface PartitionFetch {
  partition: number;
  offset: number;
  leaderEpoch: number;
  maxBytes: number;
}

/** A full fetch (no fetch session) of committed records only. */
export function fetchRequest(correlationId: number, clientId: string, topic: string, partitions: PartitionFetch[], options: { maxWaitMs: number; maxBytes: number }): Buffer {
  const writer = Writer.request(FETCH_API, correlationId, clientId)
    .int32(-1).int32(options.maxWaitMs).int32(1).int32(options.maxBytes).int8(1).int32(0).int32(-1);
  writer.array([topic], (name) => {
    writer.string(name).array(partitions, (p) => writer.int32(p.partition).int32(p.leaderEpoch).int64(p.offset).int64(-1).int32(p.maxBytes));
  });
  return writer.array([], () => undefined).string('').framed();
}

export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
}

export interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  aborted: AbortedTransaction[];
  /** The record batches, a view of the answer (empty when none). */
  records: Buffer;
}

export function decodeFetch(body: Buffer): { errorCode: number; partitions: FetchedPartition[] } {
  const reader = new Reader(body);
  reader.int32(); // throttle time
  const errorCode = reader.int16();
  reader.int32(); // session id
  const partitions: FetchedPartition[] = [];
  reader.array(() => {
    reader.string(); // topic: one per request
    reader.array(() => {
      const partition = reader.int32();
      const partitionError = reader.int16();
      const highWatermark = reader.int64();
      const lastStableOffset = reader.int64();
      reader.int64(); // log start
      const aborted = reader.array(() => ({ producerId: reader.int64(), firstOffset: reader.int64() }));
      reader.int32(); // preferred read replica
      const records = reader.bytes() ?? Buffer.alloc(0);
      partitions.push({ partition, errorCode: partitionError, highWatermark, lastStableOffset, aborted, records });
    });
  });
  return { errorCode, partitions };
}

export interface WireRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values as text (a repeated key keeps every value, in order). */
  headers: Record<string, string | string[]>;
}

export type BatchesRead =
  | { ok: true; records: WireRecord[]; nextOffset: number }
  /** The batches up to one that cannot be read here (`nextOffset` is that batch's first offset). */
  | { ok: false; records: WireRecord[]; nextOffset: number; reason: string };

const BATCH_HEADER = 61;
const ATTRIBUTE = { compression: 0x07, transactional: 0x10, control: 0x20 } as const;
const CONTROL_ABORT = 0;

function decompress(codec: number, bytes: Buffer): Buffer | string {
  if (codec === 0) return bytes;
  if (codec === 1) return gunzipSync(bytes);
  if (codec === 4) return zstdDecompressSync(bytes);
  return `record batches compressed with ${codec === 2 ? 'snappy' : codec === 3 ? 'lz4' : `codec ${codec}`} are left to the per-batch path`;
}

function decodeRecord(reader: Reader, baseOffset: number): { offsetDelta: number; record: Omit<WireRecord, 'offset'> } {
  const length = reader.varint();
  const end = reader.at + length;
  reader.int8(); // attributes
  reader.skipVarlong(); // timestamp delta
  const offsetDelta = reader.varint();
  const key = reader.varBytes();
  const value = reader.varBytes();
  const headers: Record<string, string | string[]> = {};
  for (let count = reader.varint(); count > 0; count -= 1) {
    const name = reader.varBytes()?.toString('utf8') ?? '';
    const text = reader.varBytes()?.toString('utf8') ?? '';
    const existing = headers[name];
    headers[name] = existing === undefined ? text : Array.isArray(existing) ? [...existing, text] : [existing, text];
  }
  if (reader.at !== end) throw new RangeError(`a record at ${baseOffset + offsetDelta} is ${length} bytes long but its fields end at ${reader.at - end + length}`);
  return { offsetDelta, record: { key, value, headers } };
}

/**
 * The committed records of one partition's record batches, from `fetchOffset` on and before `end`,
 * as a read_committed consumer sees them (Kafka's own consumer, Fetcher): a transactional batch
 * of a producer in `aborted` (from its first offset to its abort marker) is left out, as are
 * control batches; a batch cut short at the end of the answer is left for the next fetch.
 * `nextOffset` is past the last whole batch, compacted gaps and markers included.
 */
export function decodeBatches(records: Buffer, fetchOffset: number, end: number, aborted: readonly AbortedTransaction[]): BatchesRead {
  const out: WireRecord[] = [];
  const pendingAborts = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<number>();
  let nextOffset = fetchOffset;
  let at = 0;
  while (at + 12 <= records.length) {
    const baseOffset = Number(records.readBigInt64BE(at));
    const size = 12 + records.readInt32BE(at + 8);
    // Cut short by the bytes asked: fetched again next time. A batch larger than that comes whole
    // once its partition is the first in an answer with records (KIP-74), so a read always moves on.
    if (at + size > records.length) break;
    const magic = records.readInt8(at + 16);
    if (magic !== 2) return { ok: false, records: out, nextOffset, reason: `record batches of magic ${magic} are left to the per-batch path` };
    const attributes = records.readInt16BE(at + 21);
    const lastOffset = baseOffset + records.readInt32BE(at + 23);
    const producerId = Number(records.readBigInt64BE(at + 43));
    const count = records.readInt32BE(at + 57);
    const batch = records.subarray(at, at + size);
    at += size;
    if (lastOffset < nextOffset) continue; // before the offset asked for
    const control = (attributes & ATTRIBUTE.control) !== 0;
    if (producerId >= 0) {
      while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= lastOffset) abortedProducers.add(pendingAborts.shift()!.producerId);
      if (control) {
        const marker = count > 0 ? decodeRecord(new Reader(batch, BATCH_HEADER), baseOffset).record.key : null;
        if (marker !== null && marker.length >= 4 && marker.readInt16BE(2) === CONTROL_ABORT) abortedProducers.delete(producerId);
      } else if ((attributes & ATTRIBUTE.transactional) !== 0 && abortedProducers.has(producerId)) {
        nextOffset = lastOffset + 1;
        continue;
      }
    }
    if (!control) {
      const body = decompress(attributes & ATTRIBUTE.compression, batch.subarray(BATCH_HEADER));
      if (typeof body === 'string') return { ok: false, records: out, nextOffset, reason: body };
      const reader = new Reader(body);
      for (let i = 0; i < count; i += 1) {
        const { offsetDelta, record } = decodeRecord(reader, baseOffset);
        const offset = baseOffset + offsetDelta;
        if (offset >= nextOffset && offset < end) out.push({ offset, ...record });
      }
    }
    nextOffset = lastOffset + 1;
  }
  return { ok: true, records: out, nextOffset };
}
