import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BINARY_HEADER, BINARY_TRAILER, BinaryRows, ChunkPool, copyFromStdin, CopyRows, CopySegments } from './copy-rows.ts';

/** COPY's text format as Postgres reads it back: rows by newline, fields by tab, escapes undone, \N as null. */
function parseCopy(text: string): (string | null)[][] {
  return text.split('\n').slice(0, -1).map((line) => line.split('\t').map((field) =>
    field === '\\N' ? null : field.replace(/\\(.)/g, (_, letter: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[letter] ?? letter)));
}

const written = (rows: CopyRows) => Buffer.concat(rows.take()).toString('utf8');

describe('CopyRows', () => {
  it('writes escaped text, raw fields and nulls as COPY text rows', () => {
    const rows = new CopyRows();
    rows.raw(42).text('a\tb\\c\nd\re').text(null).raw('2026-12-02T00:00:00.000Z').end();
    rows.text('plain').text('ünïcødé ✓ 😀').raw('f').end();
    expect(rows.rows).toBe(2);
    expect(written(rows)).toBe('42\ta\\tb\\\\c\\nd\\re\t\\N\t2026-12-02T00:00:00.000Z\nplain\tünïcødé ✓ 😀\tf\n');
    expect(rows.rows).toBe(0);
    expect(rows.take()).toEqual([]);
  });

  it('reads back as written across chunks, a field larger than a chunk included', () => {
    const rows = new CopyRows();
    const expected = Array.from({ length: 3000 }, (_, n) => [String(n), `${n}\\\t✓`.repeat(40)]);
    expected.splice(1500, 0, ['huge', 'ü\\'.repeat(200000)]);
    for (const row of expected) {
      for (const field of row) rows.text(field);
      rows.end();
    }
    const chunks = rows.take();
    expect(chunks.length).toBeGreaterThan(3);
    expect(parseCopy(Buffer.concat(chunks).toString('utf8'))).toEqual(expected);
  });

  it('reads back as written, whatever the text', () => {
    // Whole code points (a lone surrogate has no UTF-8 form).
    const field = fc.option(fc.string({ unit: 'grapheme', maxLength: 100 }), { nil: null });
    fc.assert(fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 30 }), fc.nat({ max: 2 }), (table, big) => {
      const rows = new CopyRows();
      const expected = table.map((row, at) => (at === 0 && big > 0 ? [`${'\\\t✓'.repeat(big * 5)}\n`, ...row] : row));
      for (const row of expected) {
        for (const field of row) rows.text(field);
        rows.end();
      }
      expect(parseCopy(written(rows))).toEqual(expected);
    }), { numRuns: 100 });
  });

  it('writes a text given as its UTF-8 bytes as it writes the text, escapes included', () => {
    const same = (texts: string[]) => {
      const asText = new CopyRows();
      const asBytes = new CopyRows();
      for (const text of texts) {
        asText.text(text);
        asBytes.textBytes(Buffer.from(text));
      }
      asText.end();
      asBytes.end();
      return Buffer.concat(asBytes.take()).equals(Buffer.concat(asText.take()));
    };
    fc.assert(fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 300 }), { minLength: 1, maxLength: 20 }), (texts) => same([...texts, '\\', '\t', '\n', '\r'])), { numRuns: 100 });
    // Larger than a chunk, plain and escaped.
    expect(same(['a', 'x'.repeat(300 * 1024), `\t${'y'.repeat(300 * 1024)}\\`])).toBe(true);
  });

  it('writes the same rows into chunks used again, and keeps only whole chunks of its own size', () => {
    const pool = new ChunkPool();
    const fill = (rows: CopyRows, round: number) => {
      for (let n = 0; n < 3000; n += 1) rows.raw(n).text(`round ${round}, row ${n}\t${'x'.repeat(n % 200)}`).end();
      rows.text('y'.repeat(300 * 1024)).end();
    };
    const first = new CopyRows(pool);
    fill(first, 1);
    const chunks = first.take();
    const bytes = Buffer.concat(chunks).toString('utf8');
    pool.give(chunks);
    const reused = new Set(chunks.map((chunk) => chunk.buffer));
    const second = new CopyRows(pool);
    fill(second, 2);
    const again = second.take();
    expect(again.some((chunk) => reused.has(chunk.buffer))).toBe(true);
    const plain = new CopyRows();
    fill(plain, 2);
    expect(Buffer.concat(again).toString('utf8')).toBe(written(plain));
    expect(bytes).not.toBe(written(plain));
    // The field larger than a chunk had a buffer of its own: not kept.
    expect(again.filter((chunk) => reused.has(chunk.buffer)).every((chunk) => chunk.buffer.byteLength === 256 * 1024)).toBe(true);
  });
});

/** COPY's binary rows read back: each row its fields' bytes (null for SQL null). */
function parseBinary(bytes: Buffer): (Buffer | null)[][] {
  const rows: (Buffer | null)[][] = [];
  for (let at = 0; at < bytes.length;) {
    const count = bytes.readInt16BE(at);
    at += 2;
    const row: (Buffer | null)[] = [];
    for (let field = 0; field < count; field += 1) {
      const length = bytes.readInt32BE(at);
      at += 4;
      row.push(length < 0 ? null : bytes.subarray(at, at + length));
      at += Math.max(length, 0);
    }
    rows.push(row);
  }
  return rows;
}

/** A binary text[] read back (one dimension from 1, or none). */
function textArrayOf(field: Buffer): string[] {
  const dimensions = field.readInt32BE(0);
  expect(field.readInt32BE(4)).toBe(0); // no nulls
  expect(field.readInt32BE(8)).toBe(25); // text
  if (dimensions === 0) return [];
  expect(dimensions).toBe(1);
  expect(field.readInt32BE(16)).toBe(1); // lower bound
  const values: string[] = [];
  for (let at = 20, n = 0; n < field.readInt32BE(12); n += 1) {
    const length = field.readInt32BE(at);
    values.push(field.toString('utf8', at + 4, at + 4 + length));
    at += 4 + length;
  }
  return values;
}

const binaryWritten = (rows: BinaryRows) => Buffer.concat(rows.take());

describe('BinaryRows', () => {
  it('writes each field as its length and its bytes in the column type\'s binary form', () => {
    const rows = new BinaryRows();
    const at = Date.UTC(2026, 11, 8, 1, 2, 3, 456);
    rows.row(7).int8(42).int8(-(2 ** 40) - 7).text('ünïcødé ✓ 😀\t\\').null().bool(true).timestamp(at).textArray(['a', '', 'NULL', '"{,}"\\']).end();
    rows.row(3).textBytes(Buffer.from('{"a":"\\n"}')).textArray([]).bool(false).end();
    expect(rows.rows).toBe(2);
    const [first, second] = parseBinary(binaryWritten(rows));
    expect(first!.length).toBe(7);
    expect(first![0]!.readBigInt64BE()).toBe(42n);
    expect(first![1]!.readBigInt64BE()).toBe(-(2n ** 40n) - 7n);
    expect(first![2]!.toString('utf8')).toBe('ünïcødé ✓ 😀\t\\');
    expect(first![3]).toBeNull();
    expect([...first![4]!]).toEqual([1]);
    expect(first![5]!.readBigInt64BE()).toBe((BigInt(at) - BigInt(Date.UTC(2000, 0, 1))) * 1000n);
    expect(textArrayOf(first![6]!)).toEqual(['a', '', 'NULL', '"{,}"\\']);
    expect(second!.map((field) => field?.length)).toEqual([10, 12, 1]);
    expect(second![0]!.toString('utf8')).toBe('{"a":"\\n"}');
    expect(textArrayOf(second![1]!)).toEqual([]);
    expect([...second![2]!]).toEqual([0]);
    expect(rows.rows).toBe(0);
  });

  it('writes times exactly in microseconds since 2000, before it and far past it included', () => {
    const since2000 = (ms: number) => (BigInt(ms) - BigInt(Date.UTC(2000, 0, 1))) * 1000n;
    fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
      const rows = new BinaryRows();
      rows.row(1).timestamp(ms).end();
      expect(parseBinary(binaryWritten(rows))[0]![0]!.readBigInt64BE()).toBe(since2000(ms));
    }), { numRuns: 500 });
    for (const ms of [0, Date.UTC(2000, 0, 1), Date.UTC(2285, 0, 1), Date.UTC(10000, 0, 1), 8.64e15]) {
      const rows = new BinaryRows();
      rows.row(1).timestamp(ms).end();
      expect(parseBinary(binaryWritten(rows))[0]![0]!.readBigInt64BE()).toBe(since2000(ms));
    }
  });

  it('reads back as written across chunks, whatever the text, a field larger than a chunk included', () => {
    const field = fc.option(fc.string({ unit: 'grapheme', maxLength: 100 }), { nil: null });
    fc.assert(fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 300 }), fc.nat({ max: 2 }), (table, big) => {
      const rows = new BinaryRows();
      const expected = table.map((row, at) => (at === 0 && big > 0 ? ['✓'.repeat(big * 100 * 1024), ...row] : row));
      for (const row of expected) {
        rows.row(row.length);
        for (const value of row) rows.text(value);
        rows.end();
      }
      expect(parseBinary(binaryWritten(rows)).map((row) => row.map((value) => value?.toString('utf8') ?? null))).toEqual(expected);
    }), { numRuns: 50 });
  });

  it('frames its chunks as a binary COPY (signature, flags, no extension; the end marker) and names the format', () => {
    const chunks = [Buffer.from([1]), Buffer.from([2])];
    expect(copyFromStdin('t (a)', true, chunks)).toEqual({ statement: 'COPY t (a) FROM STDIN (FORMAT binary)', data: [BINARY_HEADER, ...chunks, BINARY_TRAILER] });
    expect(BINARY_HEADER.toString('latin1')).toBe('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0');
    expect([...BINARY_TRAILER]).toEqual([0xff, 0xff]);
    expect(copyFromStdin('t (a)', false, chunks)).toEqual({ statement: 'COPY t (a) FROM STDIN', data: chunks });
  });

  it('rows put together from segments (fields written ahead, a field added between) are the rows written whole', () => {
    const field = fc.option(fc.string({ unit: 'grapheme', maxLength: 3000 }), { nil: null });
    fc.assert(fc.property(fc.array(fc.tuple(field, field, fc.nat(), field), { minLength: 1, maxLength: 40 }), (table) => {
      const segments = new CopySegments(16);
      const marks = table.map(([head, , , tail]) => {
        const at = segments.mark();
        segments.row(4).text(head);
        segments.mark();
        segments.text(tail);
        return at;
      });
      segments.mark();
      const { bytes, marks: bounds } = segments.done();
      const joined = new BinaryRows();
      const whole = new BinaryRows();
      table.forEach(([head, middle, n, tail], row) => {
        const m = marks[row]!;
        joined.copied(bytes, bounds[m]!, bounds[m + 1]!).text(middle).int8(n).copied(bytes, bounds[m + 1]!, bounds[m + 2]!).ended();
        whole.row(4).text(head).text(middle).int8(n).text(tail).end();
      });
      expect(joined.rows).toBe(table.length);
      expect(binaryWritten(joined).equals(binaryWritten(whole))).toBe(true);
    }), { numRuns: 100 });
  });
});
