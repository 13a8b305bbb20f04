import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolated, type Isolated } from '../../../test/harness.ts';
import { inTransaction } from './postgres.ts';

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
