import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChunkPool, CopyRows, CopySegments } from './copy-rows.ts';

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

  it('rows put together from segments (fields written ahead, a field added between) read back as written whole', () => {
    const field = fc.option(fc.string({ unit: 'grapheme', maxLength: 3000 }), { nil: null });
    fc.assert(fc.property(fc.array(fc.tuple(field, field, fc.nat(), field), { minLength: 1, maxLength: 40 }), (table) => {
      const segments = new CopySegments(16);
      const marks = table.map(([head, , , tail]) => {
        const at = segments.mark();
        segments.text(head);
        segments.mark();
        segments.text(tail).end();
        return at;
      });
      segments.mark();
      const { bytes, marks: bounds } = segments.done();
      const joined = new CopyRows();
      const whole = new CopyRows();
      table.forEach(([head, middle, n, tail], row) => {
        const m = marks[row]!;
        joined.copied(bytes, bounds[m]!, bounds[m + 1]!).text(middle).raw(n).copied(bytes, bounds[m + 1]!, bounds[m + 2]!).ended();
        whole.text(head).text(middle).raw(n).text(tail).end();
      });
      expect(joined.rows).toBe(table.length);
      expect(written(joined)).toBe(written(whole));
    }), { numRuns: 100 });
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
