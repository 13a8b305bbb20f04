import type { PoolClient } from '@trapline/runtime';

// Tag values per issue (group_tag_values), kept equal to what the issue's visible events carry in
// event_tags: counts go down with the rows that leave, and first/last seen are read back from the
// (group, key, value, received_at) index only when a leaving row sat at either end.

interface Subtracted {
  group_id: number;
  key: string;
  value: string;
  times_seen: number;
  at_first: boolean;
  at_last: boolean;
}

/** The `gone` relation (group_id, key, value, n, lo, hi) taken off the aggregates. */
const subtract = (gone: string) => `
  UPDATE group_tag_values v SET times_seen = v.times_seen - gone.n
  FROM (${gone}) gone
  WHERE v.group_id = gone.group_id AND v.key = gone.key AND v.value = gone.value
  RETURNING v.group_id, v.key, v.value, v.times_seen, gone.lo <= v.first_seen AS at_first, gone.hi >= v.last_seen AS at_last`;

/** Values no event carries any more go; those that lost an end read it back from the remaining rows. */
async function settle(db: PoolClient, rows: Subtracted[]): Promise<void> {
  const empty = rows.filter((row) => row.times_seen <= 0);
  const ends = rows.filter((row) => row.times_seen > 0 && (row.at_first || row.at_last));
  if (empty.length > 0) {
    await db.query('DELETE FROM group_tag_values v USING unnest($1::bigint[], $2::text[], $3::text[]) AS b(group_id, key, value) WHERE v.group_id = b.group_id AND v.key = b.key AND v.value = b.value', [
      empty.map((row) => row.group_id), empty.map((row) => row.key), empty.map((row) => row.value),
    ]);
  }
  if (ends.length > 0) {
    await db.query(
      `UPDATE group_tag_values v
       SET first_seen = (SELECT min(t.received_at) FROM event_tags t WHERE t.group_id = v.group_id AND t.key = v.key AND t.value = v.value),
           last_seen = (SELECT max(t.received_at) FROM event_tags t WHERE t.group_id = v.group_id AND t.key = v.key AND t.value = v.value)
       FROM unnest($1::bigint[], $2::text[], $3::text[]) AS b(group_id, key, value)
       WHERE v.group_id = b.group_id AND v.key = b.key AND v.value = b.value`,
      [ends.map((row) => row.group_id), ends.map((row) => row.key), ends.map((row) => row.value)],
    );
  }
}

/**
 * The DELETE of the tag rows of events (of project $1, by id $2, in the partitions of the times $3),
 * found through their issue and received time (the `(group_id, received_at)` index): an event's
 * row in `events` names both, so it must still be there.
 */
export const deleteEventTags = (returning?: string) =>
  `DELETE FROM event_tags t USING events e
   WHERE e.project_id = $1 AND e.event_id = ANY($2) AND e.received_at = ANY($3)
     AND t.group_id = e.group_id AND t.received_at = e.received_at AND t.project_id = e.project_id AND t.event_id = e.event_id${returning ? ` RETURNING ${returning}` : ''}`;

/**
 * Removes the tag rows of events (of one project, by id, in the partitions of `times`) and takes
 * them off their issues' tag values. Returns how many rows went.
 */
export async function removeEventTags(db: PoolClient, projectId: number, eventIds: string[], times: Date[]): Promise<number> {
  const result = await db.query<Subtracted>(
    `WITH removed AS (${deleteEventTags('t.group_id, t.key, t.value, t.received_at')})
     ${subtract('SELECT group_id, key, value, count(*) AS n, min(received_at) AS lo, max(received_at) AS hi FROM removed GROUP BY group_id, key, value')}`,
    [projectId, eventIds, times],
  );
  await settle(db, result.rows);
  return result.rows.length;
}

/**
 * Takes the tag rows received before `cutoff` off the tag values, ahead of their partitions being
 * dropped; the returned function settles first/last seen once they are gone.
 */
export async function expireTagValues(db: PoolClient, cutoff: Date): Promise<() => Promise<void>> {
  const result = await db.query<Subtracted>(
    subtract('SELECT group_id, key, value, count(*) AS n, min(received_at) AS lo, max(received_at) AS hi FROM event_tags WHERE received_at < $1 GROUP BY group_id, key, value'),
    [cutoff],
  );
  return () => settle(db, result.rows);
}
