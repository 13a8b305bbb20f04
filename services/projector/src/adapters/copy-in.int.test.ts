import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '@trapline/runtime';
import { isolated, type Isolated } from '../../../../test/harness.ts';
import { copyInto } from './copy-in.ts';
import { CopyRows } from './copy-rows.ts';

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
});
