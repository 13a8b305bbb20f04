import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from './logger.ts';

// bigint (int8) columns hold ids and counts below 2^53: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'migrations');

/**
 * A pool; with `schema`, every connection resolves unqualified table names in that schema first.
 * `settings` are further session settings (e.g. `synchronous_commit: 'off'` for a rebuild, whose
 * work is thrown away and done again if Postgres stops before the swap).
 */
export function createPool(databaseUrl: string, max = 10, schema?: string, settings: Record<string, string> = {}): pg.Pool {
  const options = [...(schema ? [`-c search_path=${schema}`] : []), ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)].join(' ');
  const pool = new pg.Pool({ connectionString: databaseUrl, max, ...(options ? { options } : {}) });
  // An idle connection that breaks (server restart, terminated backend) is dropped by the pool and
  // the next query connects again; unhandled, the event would end the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs every pending migration; safe to call from several processes at once (advisory lock). */
export async function migrate(databaseUrl: string, logger: Logger, schema = 'public'): Promise<void> {
  await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    schema,
    createSchema: true,
    count: Infinity,
    // Migrations are named by time ranges of parallel work; one merged later may sort before one
    // already applied. Each stands alone, so a database runs whatever it has not run yet.
    checkOrder: false,
    log: (message) => logger.debug(message),
  });
}

/**
 * Creates the database named in `databaseUrl` when it is missing (the stack and the tests use it),
 * with the encoding and character classes of the server's template1 and the C collation: text
 * compares byte by byte. For UTF-8 that is the order of code points, which is what C.UTF-8 (the
 * stack's locale) gives too, but Postgres takes only C or POSIX for plain byte compares and
 * abbreviated sort keys; under any other name every comparison of text in an index (event ids, tag
 * keys and values, hashes) calls strcoll(). Measured on the rebuild of 200,000 events: Postgres'
 * CPU −8 to −16 %, its index builds −5 to −25 % (bench/results/2026-12-03-projector-runs.md). Case
 * folding (lower(), ILIKE, the word index) follows the character classes, so it is unchanged.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      const template = await client.query<{ encoding: string; ctype: string }>("SELECT pg_encoding_to_char(encoding) AS encoding, datctype AS ctype FROM pg_database WHERE datname = 'template1'");
      const { encoding, ctype } = template.rows[0]!;
      const quoted = (value: string) => `'${value.replaceAll("'", "''")}'`;
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}" TEMPLATE template0 ENCODING ${quoted(encoding)} LC_COLLATE 'C' LC_CTYPE ${quoted(ctype)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created by a concurrent caller
      });
    }
  } finally {
    await client.end();
  }
}

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has lost the pool's error listener: a connection that breaks now (server
  // restart, terminated backend) would emit an unhandled 'error' and end the process. Its queries
  // fail instead, and the broken client is discarded on release.
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
