import type pg from 'pg';
import { inTransaction } from './postgres.ts';

// The events table (`events`, which carries each event's tags too) is range-partitioned by received
// time. A partition covers [from, to) in epoch seconds and is named `<table>_<from>_<to>`. Which
// range a new partition takes is pure (planPartition); creating, listing and dropping them are the
// adapter below, run by the projector (the only writer) inside its batch transaction.

export const PARTITIONED_TABLES = ['events'] as const;

export interface PartitionRange {
  /** Epoch seconds, inclusive. */
  from: number;
  /** Epoch seconds, exclusive. */
  to: number;
}

const NAME = /^events_(\d+)_(\d+)$/;

export const partitionName = (table: (typeof PARTITIONED_TABLES)[number], range: PartitionRange) => `${table}_${range.from}_${range.to}`;

/** The range a partition of `events` covers, from its name; null for any other table. */
export function parsePartitionName(name: string): PartitionRange | null {
  const match = NAME.exec(name);
  return match ? { from: Number(match[1]), to: Number(match[2]) } : null;
}

/** The partition holding `atMs`, if one exists. */
export function partitionHolding(atMs: number, existing: readonly PartitionRange[]): PartitionRange | undefined {
  const at = Math.floor(atMs / 1000);
  return existing.find((range) => range.from <= at && at < range.to);
}

/**
 * The range of the partition to create for `atMs`: the width-aligned slot holding it, shrunk so it
 * never overlaps an existing partition (created under another width: changing the width takes
 * effect for new partitions without touching the old ones).
 */
export function planPartition(atMs: number, widthSeconds: number, existing: readonly PartitionRange[]): PartitionRange {
  const at = Math.floor(atMs / 1000);
  let from = Math.floor(at / widthSeconds) * widthSeconds;
  let to = from + widthSeconds;
  for (const range of existing) {
    if (range.to <= at && range.to > from) from = range.to;
    if (range.from > at && range.from < to) to = range.from;
  }
  return { from, to };
}

type Queryable = Pick<pg.PoolClient, 'query'>;

/** The partitions of `events` in the schema the connection resolves first, oldest first. */
export async function listEventPartitions(db: Queryable): Promise<PartitionRange[]> {
  const result = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`,
  );
  return result.rows.flatMap((row) => parsePartitionName(row.name) ?? []).sort((a, b) => a.from - b.from);
}

/** A partition was asked for a time the expiry horizon has passed: the batch is tried again, and the event then placed as expired. */
export class ExpiredPartitionError extends Error {}

const PARTITIONS_LOCK = `SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.events partitions'))`;

/**
 * Makes sure a partition holds each of the times (epoch ms), creating the missing ones. A new
 * partition is created as a plain table and then attached, which locks the parent only against
 * other attaches (never against reads or writes). Serialized across processes by an advisory lock
 * held to the end of the caller's transaction. `known` caches what exists; returns the ranges created.
 */
export async function ensureEventPartitions(db: Queryable, timesMs: Iterable<number>, widthSeconds: number, known: PartitionRange[]): Promise<PartitionRange[]> {
  const missing = [...timesMs].filter((at) => !partitionHolding(at, known));
  if (missing.length === 0) return [];
  await db.query(PARTITIONS_LOCK);
  known.splice(0, known.length, ...(await listEventPartitions(db)));
  // Under the lock an expiry also takes: no partition comes back in a range it has dropped.
  const expired = (await db.query<{ before: Date }>('SELECT before FROM events_expired')).rows[0]?.before.getTime() ?? null;
  const created: PartitionRange[] = [];
  for (const at of missing) {
    if (partitionHolding(at, known)) continue;
    if (expired !== null && at < expired) throw new ExpiredPartitionError(`no partition for ${new Date(at).toISOString()}: expired (before ${new Date(expired).toISOString()})`);
    const range = planPartition(at, widthSeconds, known);
    for (const table of PARTITIONED_TABLES) {
      const name = partitionName(table, range);
      await db.query(`CREATE TABLE "${name}" (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMPRESSION)`);
      await db.query(`ALTER TABLE ${table} ATTACH PARTITION "${name}" FOR VALUES FROM (to_timestamp(${range.from})) TO (to_timestamp(${range.to}))`);
    }
    known.push(range);
    known.sort((a, b) => a.from - b.from);
    created.push(range);
  }
  return created;
}

/**
 * Locks every partition wholly before `beforeMs` against any other use, for the rest
 * of the caller's transaction, and returns their ranges: what they hold can then be counted and
 * dropped without another instance adding to it or taking from it meanwhile. Takes the lock that
 * partition creation takes, so none is made in the expired range either. The wait for a lock is
 * bounded by `lockTimeoutMs` (the caller's transaction fails and is tried again later).
 */
export async function lockEventPartitionsBefore(db: Queryable, beforeMs: number, lockTimeoutMs = 5000): Promise<PartitionRange[]> {
  await db.query(PARTITIONS_LOCK);
  const before = Math.floor(beforeMs / 1000);
  const doomed = (await listEventPartitions(db)).filter((range) => range.to <= before);
  if (doomed.length === 0) return [];
  const previous = (await db.query<{ value: string }>("SELECT current_setting('lock_timeout') AS value")).rows[0]!.value;
  await db.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
  const names = doomed.flatMap((range) => PARTITIONED_TABLES.map((table) => `"${partitionName(table, range)}"`));
  await db.query(`LOCK TABLE ${names.join(', ')} IN ACCESS EXCLUSIVE MODE`);
  await db.query("SELECT set_config('lock_timeout', $1, true)", [previous]);
  return doomed;
}

/**
 * Empties partitions locked by lockEventPartitionsBefore. TRUNCATE locks only the partitions (held
 * already), never the parent tables, so readers of the parent, who take the parent first and a
 * partition second, cannot deadlock with it; the space goes back like a drop's. The empty tables
 * are dropped afterwards, on their own (dropExpiredPartitions).
 */
export async function truncateEventPartitions(db: Queryable, ranges: PartitionRange[]): Promise<void> {
  if (ranges.length === 0) return;
  await db.query(`TRUNCATE ${ranges.flatMap((range) => PARTITIONED_TABLES.map((table) => `"${partitionName(table, range)}"`)).join(', ')}`);
}

/**
 * Drops the empty partitions wholly before the expiry horizon, in a short transaction of its own:
 * dropping needs the parent tables to itself for a moment, so it waits at most `lockTimeoutMs`
 * behind readers and otherwise gives up until the next time (an empty partition costs nothing but
 * its name). A partition still holding rows is one whose expiry has not finished: left alone.
 */
export async function dropExpiredPartitions(pool: pg.Pool, lockTimeoutMs = 2000): Promise<PartitionRange[]> {
  return inTransaction(pool, async (db) => {
    await db.query(PARTITIONS_LOCK);
    const expired = (await db.query<{ before: Date }>('SELECT before FROM events_expired')).rows[0]?.before.getTime() ?? null;
    const candidates = expired === null ? [] : (await listEventPartitions(db)).filter((range) => range.to * 1000 <= expired);
    const dropped: PartitionRange[] = [];
    await db.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
    for (const range of candidates) {
      const names = PARTITIONED_TABLES.map((table) => `"${partitionName(table, range)}"`);
      const holding = await db.query(`${names.map((name) => `SELECT 1 FROM ${name}`).join(' UNION ALL ')} LIMIT 1`);
      if (holding.rows.length > 0) continue;
      // The parents first, as every reader takes them: waiting for readers, never deadlocking with one.
      await db.query(`LOCK TABLE ONLY ${PARTITIONED_TABLES.join(', ONLY ')} IN ACCESS EXCLUSIVE MODE`);
      await db.query(`DROP TABLE ${names.join(', ')}`);
      dropped.push(range);
    }
    return dropped;
  });
}
