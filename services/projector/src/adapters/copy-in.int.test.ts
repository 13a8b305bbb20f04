import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '@trapline/runtime';
import { isolated, type Isolated } from '../../../../test/harness.ts';
import { copyInto } from './copy-in.ts';
import fc from 'fast-check';
import { BinaryRows, CopyRows } from './copy-rows.ts';

// The per-batch path's COPY against Postgres: rows arrive as written, several megabytes at once
// (more than the socket takes without waiting); a row Postgres refuses fails the COPY with its
// code and leaves the connection and its transaction usable (the batch rolls back to a savepoint
// and tries the records one by one).

let env: Isolated;

beforeAll(async () => {
  env = await isolated();
  await env.pool.query('CREATE TABLE copy_in_test (id bigint PRIMARY KEY, body text, note text)');
});

afterAll(async () => {
  await env?.dispose();
});

/** A time as Postgres reads it in text: years past 9999 without V8's sign, years before 1 as BC. */
function postgresText(epochMs: number): string {
  const at = new Date(epochMs);
  const iso = at.toISOString();
  if (at.getUTCFullYear() > 0) return iso.replace(/^\+0*/, '');
  return `${String(1 - at.getUTCFullYear()).padStart(4, '0')}${iso.slice(iso.indexOf('-', 1)).replace('T', ' ').replace('Z', '+00 BC')}`;
}

const BODY = `{"message":"tab\there, newline\nthere, a backslash \\\\ and \\"quotes\\"","é":"ünïcødé ✓ 🚀"}`.repeat(20);

function rowsOf(ids: number[]): CopyRows {
  const rows = new CopyRows();
  for (const id of ids) rows.raw(id).text(`${id}:${BODY}`).text(id % 3 === 0 ? null : `note\r${id}`).end();
  return rows;
}

describe('copyInto', () => {
  it('writes every row as it was written, megabytes at once', async () => {
    const ids = Array.from({ length: 3000 }, (_, i) => i + 1);
    await inTransaction(env.pool, (db) => copyInto(db, 'copy_in_test (id, body, note)', rowsOf(ids)));
    const stored = await env.pool.query<{ id: string; body: string; note: string | null }>('SELECT id, body, note FROM copy_in_test ORDER BY id');
    expect(stored.rows.length).toBe(ids.length);
    for (const row of [stored.rows[0]!, stored.rows[1]!, stored.rows[2]!, stored.rows.at(-1)!]) {
      expect(row.body).toBe(`${row.id}:${BODY}`);
      expect(row.note).toBe(Number(row.id) % 3 === 0 ? null : `note\r${row.id}`);
    }
  });

  it('writes text arrays element for element, whatever their characters', async () => {
    const values = ['plain', '', 'NULL', 'with "quotes"', 'back\\slash \\"', '{braces},commas', '  spaces  ', 'tab\tnew\nline\r', 'ünïcødé 🚀'];
    await env.pool.query('CREATE TABLE copy_in_arrays (id bigint, items text[])');
    const rows = new CopyRows();
    rows.raw(1).textArray(values).end();
    rows.raw(2).textArray([]).end();
    rows.raw(3).textArray(['"']).end();
    await inTransaction(env.pool, (db) => copyInto(db, 'copy_in_arrays (id, items)', rows));
    const stored = await env.pool.query<{ id: string; items: string[] }>('SELECT id, items FROM copy_in_arrays ORDER BY id');
    expect(stored.rows.map((row) => row.items)).toEqual([values, [], ['"']]);
  });

  it('fails with the row\'s error mid-way and leaves the transaction usable after a savepoint', async () => {
    // 3000 new rows, one of them (near the start) an id already there: Postgres refuses it while
    // most of the data is still to come.
    const ids = [...Array.from({ length: 10 }, (_, i) => 10001 + i), 5, ...Array.from({ length: 3000 }, (_, i) => 20001 + i)];
    const outcome = await inTransaction(env.pool, async (db) => {
      await db.query('SAVEPOINT copy');
      const error = await copyInto(db, 'copy_in_test (id, body, note)', rowsOf(ids)).then(() => undefined, (failure: { code?: string }) => failure);
      await db.query('ROLLBACK TO SAVEPOINT copy');
      // The same connection, straight after: another COPY and a query.
      await copyInto(db, 'copy_in_test (id, body, note)', rowsOf([30001]));
      return { error, count: (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_in_test')).rows[0]!.n };
    });
    expect(outcome.error?.code).toBe('23505');
    expect(outcome.count).toBe(3001);
    // A pause for the socket to drain everything the refused COPY still had queued.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_in_test')).rows[0]!.n).toBe(3001);
  });

  it('sends nothing for no rows', async () => {
    await inTransaction(env.pool, (db) => copyInto(db, 'no_such_table (id)', new CopyRows()));
  });

  it('stores binary rows as it stores the same rows in text, for every column type the events rows use', async () => {
    await env.pool.query(`CREATE TABLE copy_in_both (format text, n bigint, id bigint, body text, note text, at timestamptz, flag boolean, doc json, items text[])`);
    const text = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((value) => !value.includes('\0'));
    const row = fc.record({
      id: fc.maxSafeInteger().map((value) => value - 2 ** 52),
      body: text,
      note: fc.option(text, { nil: null }),
      // Postgres holds times from 4713 BC; a Date reaches 275760.
      at: fc.oneof(fc.integer({ min: -210_000_000_000_000, max: 8.64e15 }), fc.constantFrom(0, Date.UTC(2000, 0, 1), Date.UTC(2285, 0, 1) + 1, Date.UTC(10000, 0, 1), 8.64e15)),
      flag: fc.boolean(),
      doc: fc.jsonValue().map((value) => JSON.stringify(value)),
      items: fc.array(text, { maxLength: 6 }),
    });
    const table = fc.sample(fc.array(row, { minLength: 200, maxLength: 200 }), 1)[0]!;
    const asText = new CopyRows();
    const asBinary = new BinaryRows();
    table.forEach((value, n) => {
      asText.text('text').raw(n).raw(value.id).text(value.body).text(value.note).raw(postgresText(value.at))
        .raw(value.flag ? 't' : 'f').textBytes(Buffer.from(value.doc)).textArray(value.items).end();
      asBinary.row(9).text('binary').int8(n).int8(value.id).text(value.body).text(value.note).timestamp(value.at).bool(value.flag).textBytes(Buffer.from(value.doc)).textArray(value.items).end();
    });
    await inTransaction(env.pool, async (db) => {
      await copyInto(db, 'copy_in_both (format, n, id, body, note, at, flag, doc, items)', asText);
      await copyInto(db, 'copy_in_both (format, n, id, body, note, at, flag, doc, items)', asBinary);
    });
    const differing = await env.pool.query(
      `SELECT t.n FROM copy_in_both t JOIN copy_in_both b ON b.n = t.n AND b.format = 'binary'
       WHERE t.format = 'text' AND (t.id, t.body, t.note, t.at, t.flag, t.doc::text, t.items) IS DISTINCT FROM (b.id, b.body, b.note, b.at, b.flag, b.doc::text, b.items)`,
    );
    expect(differing.rows).toEqual([]);
    const counts = await env.pool.query<{ format: string; n: number }>('SELECT format, count(*)::int AS n FROM copy_in_both GROUP BY format ORDER BY format');
    expect(counts.rows).toEqual([{ format: 'binary', n: 200 }, { format: 'text', n: 200 }]);
    // And as the values were meant (not only alike): times to the microsecond, the arrays element for element.
    const stored = await env.pool.query<{ id: string; micros: string; items: string[] }>(
      `SELECT n, id::text, (extract(epoch FROM at) * 1000000)::bigint::text AS micros, items FROM copy_in_both WHERE format = 'binary' ORDER BY n`,
    );
    expect(stored.rows.map((value) => [value.id, value.micros, value.items])).toEqual(table.map((value) => [String(value.id), String(BigInt(value.at) * 1000n), value.items]));
  });

  it('refuses in binary what it refuses in text: a NUL in a text, a json that is not JSON', async () => {
    const refused = async (rows: CopyRows | BinaryRows) => inTransaction(env.pool, (db) => copyInto(db, 'copy_in_both (format, doc)', rows)).then(() => undefined, (error: { code?: string }) => error.code);
    const nul = [new CopyRows(), new BinaryRows()] as const;
    nul[0].text('text').textBytes(Buffer.from('"a\\u0000b"')).end();
    nul[1].row(2).text('binary').textBytes(Buffer.from('"a\\u0000b"')).end();
    // A json holding the escape \u0000 is valid JSON: stored by both.
    expect([await refused(nul[0]), await refused(nul[1])]).toEqual([undefined, undefined]);
    const zero = [new BinaryRows(), new BinaryRows()] as const;
    zero[0].row(2).text('a\0b').null().end();
    zero[1].row(2).text('binary').textBytes(Buffer.from('{"a": ')).end();
    const text = [new CopyRows(), new CopyRows()] as const;
    text[0].text('a\0b').raw('\\N').end();
    text[1].text('text').textBytes(Buffer.from('{"a": ')).end();
    expect([await refused(zero[0]), await refused(text[0])]).toEqual(['22021', '22021']);
    expect([await refused(zero[1]), await refused(text[1])]).toEqual(['22P02', '22P02']);
  });
});
