import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolated, type Isolated } from '../../../test/harness.ts';
import { createLogger } from './logger.ts';
import { inTransaction } from './postgres.ts';
import { ProjectionWatcher, RECORD_POSITION_SQL, WATCHER_APPLICATION_NAME } from './projection-watch.ts';

// The watcher of the projector's positions against the real server: woken by the projector's
// committed transaction (never by an uncommitted or another schema's), bounded, and back after
// its connection breaks.

let env: Isolated;
let watcher: ProjectionWatcher;
const logger = createLogger('test', 'silent');

beforeAll(async () => {
  env = await isolated();
  watcher = await ProjectionWatcher.start(env.config.DATABASE_URL, logger);
});

afterAll(async () => {
  await watcher?.close();
  await env?.dispose();
});

const record = (topic: string, partition: number, nextOffset: number) => env.pool.query(RECORD_POSITION_SQL, [topic, partition, nextOffset]);

describe('ProjectionWatcher', () => {
  it('wakes a wait when the projector commits a position past the record, not before', async () => {
    const waiting = watcher.awaitProjected([{ topic: 'events', partition: 2, offset: 10 }], 10000);
    let settled = false;
    void waiting.then(() => (settled = true));
    await record('events', 2, 10); // up to offset 9 only
    await inTransaction(env.pool, async (db) => {
      await db.query(RECORD_POSITION_SQL, ['events', 2, 11]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false); // not committed yet: nothing is visible
    });
    expect(await waiting).toBe(true);
    expect(watcher.applied([{ topic: 'events', partition: 2, offset: 10 }])).toBe(true);
  });

  it('answers false after the bound when the projector has not got there', async () => {
    const startedAt = Date.now();
    expect(await watcher.awaitProjected([{ topic: 'events', partition: 3, offset: 0 }], 300)).toBe(false);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
  });

  it("ignores a rebuild's positions: another schema's tables are not the ones read", async () => {
    await env.pool.query('CREATE SCHEMA rebuild_test');
    await env.pool.query('CREATE TABLE rebuild_test.projector_positions (LIKE public.projector_positions INCLUDING ALL)');
    const waiting = watcher.awaitProjected([{ topic: 'events', partition: 4, offset: 5 }], 1000);
    await inTransaction(env.pool, async (db) => {
      await db.query('SET LOCAL search_path = rebuild_test');
      await db.query(RECORD_POSITION_SQL, ['events', 4, 100]);
    });
    expect(await waiting).toBe(false);
  });

  it('starts from the positions already recorded, and listens again after its connection breaks', async () => {
    await record('admin', 0, 7);
    const late = await ProjectionWatcher.start(env.config.DATABASE_URL, logger);
    try {
      expect(late.applied([{ topic: 'admin', partition: 0, offset: 6 }])).toBe(true);
      await env.pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [WATCHER_APPLICATION_NAME]);
      const waiting = late.awaitProjected([{ topic: 'admin', partition: 0, offset: 20 }], 15000);
      // Recorded while it may still be reconnecting: it reads the table again once back.
      await record('admin', 0, 21);
      expect(await waiting).toBe(true);
      const after = late.awaitProjected([{ topic: 'admin', partition: 0, offset: 30 }], 15000);
      await new Promise((resolve) => setTimeout(resolve, 2500)); // surely reconnected by now
      await record('admin', 0, 31);
      expect(await after).toBe(true);
    } finally {
      await late.close();
    }
  });

  it('starts without Postgres (waits then run to their bound) and keeps trying until closed', async () => {
    const url = new URL(env.config.DATABASE_URL);
    url.pathname = '/trapline_no_such_database';
    const orphan = await ProjectionWatcher.start(url.toString(), logger);
    try {
      expect(await orphan.awaitProjected([{ topic: 'events', partition: 0, offset: 0 }], 200)).toBe(false);
    } finally {
      await orphan.close();
    }
  });
});
