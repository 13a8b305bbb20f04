import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBatches, decodeFetch, fetchRequest, Reader } from './wire.ts';

// Record batches (magic 2) written byte by byte here, as the broker sends them, and read back:
// offsets, keys, values and headers; a fetch offset or range end inside a batch; a batch cut short
// at the end of the answer; read_committed (aborted transactions left out up to their marker,
// control batches skipped); compacted gaps; gzip; what cannot be read here.

const zigzag = (value: number) => (value << 1) ^ (value >> 31);

function varint(value: number): number[] {
  let rest = zigzag(value) >>> 0;
  const bytes: number[] = [];
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  return [...bytes, rest];
}

const text = (value: string | null) => (value === null ? varint(-1) : [...varint(Buffer.byteLength(value)), ...Buffer.from(value)]);

interface TestRecord {
  delta: number;
  key: string | null;
  value: string | null;
  headers?: [string, string][];
}

function record({ delta, key, value, headers = [] }: TestRecord): number[] {
  const body = [0, ...varint(delta * 3), ...varint(delta), ...text(key), ...text(value), ...varint(headers.length), ...headers.flatMap(([name, v]) => [...text(name), ...text(v)])];
  return [...varint(body.length), ...body];
}

interface TestBatch {
  base: number;
  records: TestRecord[];
  lastDelta?: number;
  producerId?: number;
  transactional?: boolean;
  control?: 'abort' | 'commit';
  compression?: number;
  magic?: number;
}

function batch({ base, records, lastDelta, producerId = -1, transactional = false, control, compression = 0, magic = 2 }: TestBatch): Buffer {
  const rows = control ? [{ delta: 0, key: null, value: null }] : records;
  let body = Buffer.from(rows.flatMap(record));
  if (control) {
    // A control record's key: version 0, then its type (0 abort, 1 commit).
    const key = [0, 0, 0, control === 'abort' ? 0 : 1];
    const inner = [0, ...varint(0), ...varint(0), ...varint(key.length), ...key, ...varint(-1), ...varint(0)];
    body = Buffer.from([...varint(inner.length), ...inner]);
  }
  if (compression === 1) body = gzipSync(body);
  const head = Buffer.alloc(61);
  head.writeBigInt64BE(BigInt(base), 0);
  head.writeInt32BE(49 + body.length, 8);
  head.writeInt8(magic, 16);
  head.writeInt16BE(compression | (transactional ? 0x10 : 0) | (control ? 0x20 : 0), 21);
  head.writeInt32BE(lastDelta ?? Math.max(0, rows.length - 1), 23);
  head.writeBigInt64BE(BigInt(producerId), 43);
  head.writeInt32BE(rows.length, 57);
  return Buffer.concat([head, body]);
}

const r = (delta: number, value: string, headers?: [string, string][]): TestRecord => ({ delta, key: `k${delta}`, value, ...(headers ? { headers } : {}) });
const values = (read: ReturnType<typeof decodeBatches>) => read.records.map((one) => [one.offset, one.value?.toString() ?? null]);

describe('record batches read from a fetch answer', () => {
  it('gives each record its offset, key, value and headers, a repeated header keeping every value', () => {
    const read = decodeBatches(Buffer.concat([
      batch({ base: 10, records: [r(0, 'a', [['trapline-schema', 'EventReceived'], ['v', '1'], ['v', '2']]), { delta: 1, key: null, value: null }, r(2, 'é')] }),
    ]), 10, 100, []);
    expect(read).toMatchObject({ ok: true, nextOffset: 13 });
    expect(read.records.map((one) => ({ offset: one.offset, key: one.key?.toString() ?? null, value: one.value?.toString() ?? null, headers: one.headers }))).toEqual([
      { offset: 10, key: 'k0', value: 'a', headers: { 'trapline-schema': 'EventReceived', v: ['1', '2'] } },
      { offset: 11, key: null, value: null, headers: {} },
      { offset: 12, key: 'k2', value: 'é', headers: {} },
    ]);
  });

  it('starts at the offset asked for and stops before the range\'s end, inside batches', () => {
    const bytes = Buffer.concat([batch({ base: 0, records: [r(0, 'a'), r(1, 'b'), r(2, 'c')] }), batch({ base: 3, records: [r(0, 'd'), r(1, 'e')] })]);
    const read = decodeBatches(bytes, 1, 4, []);
    expect(values(read)).toEqual([[1, 'b'], [2, 'c'], [3, 'd']]);
    expect(read.nextOffset).toBe(5);
  });

  it('leaves a batch cut short at the end of the answer for the next fetch', () => {
    const whole = batch({ base: 0, records: [r(0, 'a')] });
    const cut = batch({ base: 1, records: [r(0, 'b'), r(1, 'c')] }).subarray(0, 40);
    const read = decodeBatches(Buffer.concat([whole, cut]), 0, 100, []);
    expect(values(read)).toEqual([[0, 'a']]);
    expect(read.nextOffset).toBe(1);
    expect(decodeBatches(Buffer.alloc(5), 7, 100, [])).toEqual({ ok: true, records: [], nextOffset: 7 });
  });

  it('leaves out an aborted transaction up to its marker, keeps the producer\'s later committed one, and passes markers and compacted gaps', () => {
    const bytes = Buffer.concat([
      batch({ base: 0, records: [r(0, 'plain')], producerId: 3 }),
      batch({ base: 1, records: [r(0, 'aborted'), r(1, 'aborted too')], producerId: 7, transactional: true }),
      batch({ base: 3, records: [r(0, 'other producer')], producerId: 8, transactional: true }),
      batch({ base: 4, records: [], producerId: 7, transactional: true, control: 'abort' }),
      batch({ base: 5, records: [r(0, 'committed')], producerId: 7, transactional: true }),
      batch({ base: 6, records: [], producerId: 7, transactional: true, control: 'commit' }),
      // Compaction left offsets 7–9 empty but for 9.
      batch({ base: 7, records: [{ delta: 2, key: 'k', value: 'after the gap' }], lastDelta: 2 }),
      batch({ base: 10, records: [], lastDelta: 4 }),
    ]);
    const read = decodeBatches(bytes, 0, 100, [{ producerId: 7, firstOffset: 1 }]);
    expect(values(read)).toEqual([[0, 'plain'], [3, 'other producer'], [5, 'committed'], [9, 'after the gap']]);
    expect(read.nextOffset).toBe(15);
    // Without the aborted transaction in the answer (read_uncommitted's view), they are there.
    expect(values(decodeBatches(bytes, 0, 100, [])).map(([, value]) => value)).toContain('aborted');
  });

  it('reads gzip batches, and leaves lz4, snappy and old formats to the full client where they start', () => {
    const first = batch({ base: 0, records: [r(0, 'zipped'), r(1, 'too')], compression: 1 });
    expect(values(decodeBatches(first, 0, 100, []))).toEqual([[0, 'zipped'], [1, 'too']]);
    for (const [compression, name] of [[2, 'snappy'], [3, 'lz4']] as const) {
      const read = decodeBatches(Buffer.concat([first, batch({ base: 2, records: [r(0, 'x')], compression })]), 0, 100, []);
      expect(read).toMatchObject({ ok: false, nextOffset: 2, reason: `record batches compressed with ${name} are left to the per-batch path` });
      expect(read.records).toHaveLength(2);
    }
    expect(decodeBatches(batch({ base: 0, records: [r(0, 'old')], magic: 1 }), 0, 100, [])).toMatchObject({ ok: false, nextOffset: 0, reason: 'record batches of magic 1 are left to the per-batch path' });
  });

  it('refuses a record whose length does not match its fields, and an answer that ends early', () => {
    const good = batch({ base: 0, records: [r(0, 'abc')] });
    const bad = Buffer.from(good);
    bad[61] = bad[61]! + 2; // the record's length, two bytes longer than its fields
    expect(() => decodeBatches(bad, 0, 100, [])).toThrow(RangeError);
    expect(() => new Reader(Buffer.from([0, 0, 0])).int32()).toThrow(/the answer ends at 3/);
    expect(new Reader(Buffer.from(varint(-300))).varint()).toBe(-300);
  });
});

describe('fetch requests and answers', () => {
  it('asks for committed records of each partition from its offset, and reads the answer\'s partitions back', () => {
    const request = fetchRequest(9, 'me', 'events', [{ partition: 2, offset: 1234, leaderEpoch: -1, maxBytes: 4096 }], { maxWaitMs: 100, maxBytes: 1 << 20 });
    expect(request.readInt32BE(0)).toBe(request.length - 4);
    expect([request.readInt16BE(4), request.readInt16BE(6), request.readInt32BE(8)]).toEqual([1, 11, 9]);
    const body = new Reader(request, 14 + 2); // past the size, the header and the client id 'me'
    expect([body.int32(), body.int32(), body.int32(), body.int32(), body.int8()]).toEqual([-1, 100, 1, 1 << 20, 1]);

    const records = batch({ base: 5, records: [r(0, 'a')] });
    const answer = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // throttle, error, session
      Buffer.from([0, 0, 0, 1, 0, 6, ...Buffer.from('events'), 0, 0, 0, 1]),
      Buffer.from([0, 0, 0, 2, 0, 0]),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 3]),
      Buffer.from([255, 255, 255, 255]),
      Buffer.from([0, 0, 0, records.length]), records,
    ]);
    const { errorCode, partitions } = decodeFetch(answer);
    expect(errorCode).toBe(0);
    expect(partitions).toMatchObject([{ partition: 2, errorCode: 0, highWatermark: 9, lastStableOffset: 8, aborted: [{ producerId: 7, firstOffset: 3 }] }]);
    expect(values(decodeBatches(partitions[0]!.records, 5, 9, partitions[0]!.aborted))).toEqual([[5, 'a']]);
  });
});
