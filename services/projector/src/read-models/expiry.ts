import { lockEventPartitionsBefore, truncateEventPartitions, type PoolClient } from '@trapline/runtime';
import type { Effects } from './effects.ts';
import { expireTagValues } from './tag-values.ts';

// Expiry: everything older than a partition boundary goes for every project at once, partitions
// and all (docs/deletions-and-retention.md).

/**
 * Everything received before `before` (a partition boundary) goes for every project, as a rebuild
 * of the erased log would have it: each issue loses the events it had there (an issue left with
 * none goes, the others start at their oldest remaining event), the directory forgets them, and
 * the partitions are emptied at once (TRUNCATE), and dropped once the transaction has committed
 * (the effect returned): no row-by-row delete of the events and tags themselves.
 */
export async function expire(db: PoolClient, before: number): Promise<Effects> {
  const cutoff = new Date(before);
  // First the partitions, locked against every other instance: once we hold them, what they hold
  // is settled (a purge or an insert in flight has committed), and counting it is exact.
  const doomed = await lockEventPartitionsBefore(db, before);
  await setExpiryHorizon(db, cutoff);
  const touched = await db.query<{ group_id: number }>(
    `UPDATE groups g SET times_seen = g.times_seen - gone.n
     FROM (SELECT group_id, count(*) FILTER (WHERE NOT pending_deletion) AS n FROM events WHERE received_at < $1 GROUP BY group_id) gone
     WHERE g.id = gone.group_id RETURNING g.id AS group_id`,
    [cutoff],
  );
  await db.query('DELETE FROM event_ids d USING events e WHERE e.received_at < $1 AND d.project_id = e.project_id AND d.event_id = e.event_id', [cutoff]);
  const settleTags = await expireTagValues(db, cutoff);
  await truncateEventPartitions(db, doomed);
  await settleTags();
  const partitionsEmptied: Effects = { erasures: [], partitionsEmptied: true };
  const groups = touched.rows.map((row) => row.group_id);
  if (groups.length === 0) return partitionsEmptied;
  const emptied = await db.query<{ id: number }>(
    'DELETE FROM groups g WHERE g.id = ANY($1) AND NOT EXISTS (SELECT 1 FROM events e WHERE e.group_id = g.id AND NOT e.pending_deletion) RETURNING g.id',
    [groups],
  );
  if (emptied.rows.length > 0) {
    await db.query('DELETE FROM group_hashes WHERE group_id = ANY($1)', [emptied.rows.map((row) => row.id)]);
    await db.query('DELETE FROM group_tag_values WHERE group_id = ANY($1)', [emptied.rows.map((row) => row.id)]);
  }
  await db.query(
    `UPDATE groups g SET first_seen = oldest.received_at
     FROM unnest($1::bigint[]) AS a(id)
     CROSS JOIN LATERAL (SELECT e.received_at FROM events e WHERE e.group_id = a.id AND NOT e.pending_deletion ORDER BY e.received_at LIMIT 1) oldest
     WHERE g.id = a.id`,
    [groups],
  );
  return partitionsEmptied;
}

/** From here on an event received before `cutoff` is expired on arrival (refused and erased from the log). */
export async function setExpiryHorizon(db: PoolClient, cutoff: Date): Promise<void> {
  await db.query(
    `INSERT INTO events_expired (before) VALUES ($1) ON CONFLICT (singleton) DO UPDATE SET before = GREATEST(events_expired.before, EXCLUDED.before)`,
    [cutoff],
  );
}
