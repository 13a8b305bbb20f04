import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropExpiredPartitions, inTransaction, type PoolClient } from '@trapline/runtime';
import type { DomainRecord, EventsPurged } from '@trapline/schemas';
import { eventually, isolated, type Isolated, EVENT_TAG_ROWS } from '../../../../test/harness.ts';
import { applyContext, applyRecord } from './index.ts';

// Expiry against Postgres, record by record and with two projector instances at once (two
// connections, each its own transaction): whatever happens around an expiry, an issue's count is
// its visible events, its tag values are what their tags say, and the event directory names only
// events that are there.

let env: Isolated;
const WIDTH = 4; // seconds per partition

beforeAll(async () => {
  env = await isolated();
});

afterAll(async () => {
  await env?.dispose();
});

let counter = 0;
const id = () => `${(++counter).toString(16).padStart(8, '0')}${'e'.repeat(24)}`;

const received = (projectId: number, eventId: string, receivedAt: number, message: string): DomainRecord => ({
  name: 'EventReceived',
  version: 1,
  value: {
    projectId, eventId, receivedAt, keyId: 'k',
    payload: JSON.stringify({ event_id: eventId, timestamp: receivedAt / 1000, received: receivedAt / 1000, level: 'error', platform: 'node', tags: [['region', `r${counter % 2}`]], message }),
  },
});

const expiry = (projectId: number, cutoff: number): DomainRecord => ({
  name: 'EventsPurged',
  version: 2,
  value: { projectId, transactionId: `x${cutoff}`, groupId: null, eventIds: [], chunk: 0, final: true, eventsRemoved: 0, rowsRemoved: 0, purgedAt: Date.now(), expiredBefore: cutoff } satisfies EventsPurged,
});

/** The end of the partition holding `at`: an expiry to it takes everything received up to `at`. */
const boundaryAfter = (at: number) => (Math.floor(at / 1000 / WIDTH) + 1) * WIDTH * 1000;

/** What must hold after anything: counts and tag values from the remaining visible events, no stray directory rows. */
async function invariants() {
  const { rows } = await env.pool.query<{ miscounted: number; tags_miscounted: number; stray_ids: number; missing_ids: number }>(
    `SELECT
       (SELECT count(*) FROM groups g WHERE g.times_seen <> (SELECT count(*) FROM events e WHERE e.group_id = g.id AND NOT e.pending_deletion))::int AS miscounted,
       (SELECT count(*) FROM (SELECT group_id, key, value, count(*) AS n, min(received_at) AS first_seen, max(received_at) AS last_seen FROM ${EVENT_TAG_ROWS} GROUP BY 1, 2, 3) t
          FULL JOIN group_tag_values v USING (group_id, key, value)
          WHERE t.n IS DISTINCT FROM v.times_seen OR t.first_seen IS DISTINCT FROM v.first_seen OR t.last_seen IS DISTINCT FROM v.last_seen)::int AS tags_miscounted,
       (SELECT count(*) FROM event_ids d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.project_id = d.project_id AND e.event_id = d.event_id))::int AS stray_ids,
       (SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM event_ids d WHERE d.project_id = e.project_id AND d.event_id = e.event_id))::int AS missing_ids`,
  );
  return rows[0]!;
}

const timesSeen = async (eventId: string) => (await env.pool.query<{ times_seen: number }>('SELECT g.times_seen FROM groups g JOIN events e ON e.group_id = g.id WHERE e.event_id = $1', [eventId])).rows[0]?.times_seen;

/**
 * Resolves once another session waits for a lock `holder` holds: Postgres says so (pg_locks, through
 * pg_blocking_pids), where a sleep could only hope. Asked on a connection of its own, outside the pool.
 */
async function untilBlockedBy(holder: PoolClient, what: string): Promise<void> {
  const { pid } = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
  const observer = new pg.Client({ connectionString: env.config.DATABASE_URL });
  await observer.connect();
  try {
    await eventually(async () => ((await observer.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid])).rowCount! > 0 ? true : undefined), what, 10000);
  } finally {
    await observer.end();
  }
}

const inOwnTransaction = <T>(work: (db: PoolClient) => Promise<T>) => inTransaction(env.pool, work);

describe('expiry in the read models', () => {
  it('leaves an issue counting its visible events when one of them, deleted on its own, expires before its purge', async () => {
    const projection = applyContext(WIDTH);
    const now = Date.now();
    const [old, fresh] = [id(), id()];
    await inOwnTransaction((db) => applyRecord(db, received(1, old, now - 60_000, 'pending then expired'), projection));
    await inOwnTransaction((db) => applyRecord(db, received(1, fresh, now, 'pending then expired'), projection));
    await inOwnTransaction((db) => applyRecord(db, { name: 'EventDeletionRequested', version: 1, value: { projectId: 1, eventId: old, transactionId: 't-pending', actor: 'u', requestedAt: now } }, projection));
    expect(await timesSeen(fresh)).toBe(1); // hidden: no longer counted
    await inOwnTransaction((db) => applyRecord(db, expiry(1, boundaryAfter(now - 60_000)), projection));
    await inOwnTransaction((db) => applyRecord(db, { name: 'EventsPurged', version: 2, value: { projectId: 1, transactionId: 't-pending', groupId: null, eventIds: [old], chunk: 0, final: true, eventsRemoved: 1, rowsRemoved: 1, purgedAt: now, expiredBefore: null } }, projection));
    expect(await timesSeen(fresh)).toBe(1);
    expect(await invariants()).toEqual({ miscounted: 0, tags_miscounted: 0, stray_ids: 0, missing_ids: 0 });
  });

  it('counts exactly when another instance purges old events of an issue while the expiry runs', async () => {
    const [a, b] = [applyContext(WIDTH), applyContext(WIDTH)];
    const now = Date.now();
    // Newer than the horizon the test above left: older events would be expired on arrival, never
    // projected, and there would be nothing to wait for (the test passed that way, saying nothing).
    const old = now - 50_000;
    const events = [id(), id(), id(), id()];
    await inOwnTransaction(async (db) => {
      for (const [n, eventId] of events.entries()) await applyRecord(db, received(2, eventId, n < 2 ? old + n : now + n, 'purged during expiry'), b);
    });
    // Instance B purges one old event (a row-by-row retention chunk) and has not committed yet.
    const bConnection = await env.pool.connect();
    await bConnection.query('BEGIN');
    await applyRecord(bConnection, { name: 'EventsPurged', version: 2, value: { projectId: 2, transactionId: 'r2', groupId: null, eventIds: [events[0]!], chunk: 0, final: false, eventsRemoved: 1, rowsRemoved: 2, purgedAt: now, expiredBefore: null } }, b);
    // Instance A applies the expiry's last chunk meanwhile: it waits for B, then counts what is there.
    const expiring = inOwnTransaction((db) => applyRecord(db, expiry(2, boundaryAfter(old + 1)), a));
    await untilBlockedBy(bConnection, 'the expiry waiting for the purge in flight (it must lock the doomed partitions before counting)');
    await bConnection.query('COMMIT');
    bConnection.release();
    await expiring;
    expect(await timesSeen(events[3]!)).toBe(2);
    expect(await invariants()).toEqual({ miscounted: 0, tags_miscounted: 0, stray_ids: 0, missing_ids: 0 });
  });

  it('takes along what another instance adds to a partition being expired, and projects nothing into it afterwards', async () => {
    const [a, b] = [applyContext(WIDTH), applyContext(WIDTH)];
    const now = Date.now();
    const old = now - 40_000; // newer than the horizon the tests above left
    const [first, lagging, late, fresh] = [id(), id(), id(), id()];
    await inOwnTransaction(async (db) => {
      await applyRecord(db, received(3, first, old, 'lagging instance'), b);
      await applyRecord(db, received(3, fresh, now, 'lagging instance'), b);
    });
    // Instance B (lagging on another Kafka partition) adds an old event and has not committed yet.
    const bConnection = await env.pool.connect();
    await bConnection.query('BEGIN');
    await applyRecord(bConnection, received(3, lagging, old + 1, 'lagging instance'), b);
    const expiring = inOwnTransaction((db) => applyRecord(db, expiry(3, boundaryAfter(old + 1)), a));
    await untilBlockedBy(bConnection, 'the expiry waiting for the insert in flight (it must lock the doomed partitions before counting)');
    await bConnection.query('COMMIT');
    bConnection.release();
    await expiring;
    expect(await timesSeen(fresh)).toBe(1);
    // B's cache still names the dropped partition: an old event now is expired, not projected, and erased.
    const erased = await inOwnTransaction((db) => applyRecord(db, received(3, late, old + 2, 'lagging instance'), { ...applyContext(WIDTH), partitions: b.partitions }));
    expect((await env.pool.query('SELECT 1 FROM events WHERE event_id = ANY($1)', [[first, lagging, late]])).rows).toEqual([]);
    expect(erased.erasures).toEqual([`3/${late}`]);
    expect(await invariants()).toEqual({ miscounted: 0, tags_miscounted: 0, stray_ids: 0, missing_ids: 0 });
  });

  it('expires while a reader holds the events table, never needing the table itself; the empty tables go once it is free', async () => {
    const projection = applyContext(WIDTH);
    const now = Date.now();
    const old = now - 30_000; // newer than the horizon the tests above left
    const [gone, kept] = [id(), id()];
    await inOwnTransaction(async (db) => {
      await applyRecord(db, received(4, gone, old, 'read during expiry'), projection);
      await applyRecord(db, received(4, kept, now, 'read during expiry'), projection);
    });
    const reader = await env.pool.connect();
    await reader.query('BEGIN');
    await reader.query('LOCK TABLE ONLY events IN ACCESS SHARE MODE'); // as any query of the table does first
    const expired = await inOwnTransaction((db) => applyRecord(db, expiry(4, boundaryAfter(old)), projection));
    expect(expired.partitionsEmptied).toBe(true);
    expect((await reader.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE project_id = 4')).rows[0]!.n).toBe(1);
    // Dropping the emptied tables needs the parents to itself: it gives up while the reader is there…
    await expect(dropExpiredPartitions(env.pool, 200)).rejects.toThrow(/lock timeout/);
    await reader.query('COMMIT');
    reader.release();
    // …and drops them once it is gone.
    const dropped = await dropExpiredPartitions(env.pool, 2000);
    expect(dropped.some((range) => range.from * 1000 <= old && old < range.to * 1000)).toBe(true);
    expect(await invariants()).toEqual({ miscounted: 0, tags_miscounted: 0, stray_ids: 0, missing_ids: 0 });
  });
});

describe("tag values' ends", () => {
  const tagged = (projectId: number, eventId: string, receivedAt: number, tags: [string, string][]): DomainRecord => ({
    name: 'EventReceived',
    version: 1,
    value: {
      projectId, eventId, receivedAt, keyId: 'k',
      payload: JSON.stringify({ event_id: eventId, timestamp: receivedAt / 1000, received: receivedAt / 1000, level: 'error', platform: 'node', tags, message: 'ends of tag values' }),
    },
  });
  const values = async (projectId: number) =>
    (await env.pool.query<{ key: string; value: string; times_seen: number; first_seen: Date; last_seen: Date }>(
      "SELECT v.key, v.value, v.times_seen, v.first_seen, v.last_seen FROM group_tag_values v JOIN groups g ON g.id = v.group_id WHERE g.project_id = $1 AND v.key NOT LIKE 'extra%' ORDER BY v.key, v.value",
      [projectId],
    )).rows.map((row) => [row.key, row.value, row.times_seen, row.first_seen.getTime(), row.last_seen.getTime()]);
  const deleteEvent = (projectId: number, eventId: string, projection: ReturnType<typeof applyContext>) =>
    inOwnTransaction((db) => applyRecord(db, { name: 'EventDeletionRequested', version: 1, value: { projectId, eventId, transactionId: `t-${eventId}`, actor: 'u', requestedAt: Date.now() } }, projection));

  // With a few values to settle in an issue each walks to its end; with many, one pass finds them all.
  it.each([
    { values: 'a few values', projectId: 5, extra: 0, later: 0 },
    // Four partitions later: the expiry above has moved the horizon past the first one's events.
    { values: 'many values', projectId: 6, extra: 12, later: 4 * WIDTH * 1000 },
  ])('reads an end back across partitions from the events left, after a deletion at either end and an expiry ($values)', async ({ projectId, extra, later }) => {
    const projection = applyContext(WIDTH);
    // Six events of one issue over four partitions, two in the middle ones (early and late in
    // each); the first and the last also carry the `extra` tags, whose ends then lie two
    // partitions apart.
    const base = Math.ceil((Date.now() - 20_000) / (WIDTH * 1000)) * WIDTH * 1000 + later;
    const at = (partition: number, late = false) => base + partition * WIDTH * 1000 + (late ? 300 : 100);
    const extras = Array.from({ length: extra }, (_, n): [string, string] => [`extra${n}`, 'x']);
    const [e0, e1, e1b, e2, e2b, e3] = [id(), id(), id(), id(), id(), id()];
    await inOwnTransaction(async (db) => {
      await applyRecord(db, tagged(projectId, e0, at(0), [['color', 'red'], ['size', 's'], ...extras]), projection);
      await applyRecord(db, tagged(projectId, e1, at(1), [['color', 'blue']]), projection);
      await applyRecord(db, tagged(projectId, e1b, at(1, true), [['color', 'blue']]), projection);
      await applyRecord(db, tagged(projectId, e2, at(2), [['color', 'blue'], ['size', 's']]), projection);
      await applyRecord(db, tagged(projectId, e2b, at(2, true), [['color', 'green']]), projection);
      await applyRecord(db, tagged(projectId, e3, at(3), [['color', 'red'], ...extras]), projection);
    });
    const blue = ['color', 'blue', 3, at(1), at(2)];
    const green = ['color', 'green', 1, at(2, true), at(2, true)];
    expect(await values(projectId)).toEqual([blue, green, ['color', 'red', 2, at(0), at(3)], ['level', 'error', 6, at(0), at(3)], ['size', 's', 2, at(0), at(2)]]);

    // The newest goes: red's last seen is three partitions back (past blue's and green's), level's
    // the late event one partition back.
    await deleteEvent(projectId, e3, projection);
    expect(await values(projectId)).toEqual([blue, green, ['color', 'red', 1, at(0), at(0)], ['level', 'error', 5, at(0), at(2, true)], ['size', 's', 2, at(0), at(2)]]);
    // The oldest goes: red with it, size's first seen is two partitions on, level's the early event of the next.
    await deleteEvent(projectId, e0, projection);
    expect(await values(projectId)).toEqual([blue, green, ['level', 'error', 4, at(1), at(2, true)], ['size', 's', 1, at(2), at(2)]]);
    expect(await invariants()).toEqual({ miscounted: 0, tags_miscounted: 0, stray_ids: 0, missing_ids: 0 });

    // The first two partitions expire: blue and level start at the third.
    await inOwnTransaction((db) => applyRecord(db, expiry(projectId, base + 2 * WIDTH * 1000), projection));
    expect(await values(projectId)).toEqual([['color', 'blue', 1, at(2), at(2)], green, ['level', 'error', 2, at(2), at(2, true)], ['size', 's', 1, at(2), at(2)]]);
    expect(await invariants()).toEqual({ miscounted: 0, tags_miscounted: 0, stray_ids: 0, missing_ids: 0 });
  });
});
