import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolated, type Isolated } from '../../../test/harness.ts';
import pg from 'pg';
import { ensureDatabase, inTransaction } from './postgres.ts';

// The Postgres adapter against the real server: a connection that breaks in the middle of a
// transaction (server restart, terminated backend) fails that transaction and nothing else.

let env: Isolated;

beforeAll(async () => {
  env = await isolated();
});

afterAll(async () => {
  await env?.dispose();
});

describe('inTransaction', () => {
  it('rejects when its connection is terminated mid-transaction, without an unhandled error, and the pool goes on', async () => {
    const attempt = inTransaction(env.pool, async (db) => {
      const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await env.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      // The server closes the connection while the transaction holds it between two queries.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await db.query('SELECT 1');
    });
    await expect(attempt).rejects.toThrow();
    expect(await inTransaction(env.pool, async (db) => (await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one)).toBe(1);
  });
});

describe('ensureDatabase', () => {
  it("makes a missing database with the C collation and template1's encoding and character classes, so text compares by byte and still folds case beyond ASCII", async () => {
    const url = new URL(env.config.DATABASE_URL);
    const name = `${decodeURIComponent(url.pathname.slice(1))}_made`;
    url.pathname = `/${name}`;
    await ensureDatabase(url.toString());
    const made = new pg.Client({ connectionString: url.toString() });
    await made.connect();
    try {
      const settings = await made.query<{ collate: string; ctype: string; encoding: string; template_ctype: string; template_encoding: string }>(
        `SELECT d.datcollate AS collate, d.datctype AS ctype, pg_encoding_to_char(d.encoding) AS encoding, t.datctype AS template_ctype, pg_encoding_to_char(t.encoding) AS template_encoding
         FROM pg_database d, pg_database t WHERE d.datname = current_database() AND t.datname = 'template1'`,
      );
      const row = settings.rows[0]!;
      expect(row.collate).toBe('C');
      expect([row.ctype, row.encoding]).toEqual([row.template_ctype, row.template_encoding]);
      // Byte order (code points for UTF-8), and case folding through the character classes.
      const answers = await made.query<{ ordered: string[]; folded: boolean; lowered: string }>(
        "SELECT (SELECT array_agg(v ORDER BY v) FROM unnest(ARRAY['b', 'é', 'B', 'a', 'Z']) v) AS ordered, 'ÉCHEC dû' ILIKE '%échec DÛ%' AS folded, lower('ÀÉÎ') AS lowered",
      );
      expect(answers.rows[0]).toEqual({ ordered: ['B', 'Z', 'a', 'b', 'é'], folded: true, lowered: 'àéî' });
      // Made once: a second call finds it.
      await ensureDatabase(url.toString());
    } finally {
      await made.end();
      await env.pool.query(`DROP DATABASE "${name}"`);
    }
  });
});
