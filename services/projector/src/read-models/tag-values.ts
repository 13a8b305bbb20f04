import { listEventPartitions, type PoolClient } from '@trapline/runtime';

// Tag values per issue (group_tag_values), kept equal to what the issue's visible events carry in
// their rows (`tag_keys`, `tag_values`; a hidden event's are empty): counts go down with the events
// that leave, and first/last seen are read back from the events left only when a leaving one sat at
// either end of a value.

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

/** An event's tags as rows `u` (key, value), beside its row `e` of events. */
export const EVENT_TAGS = 'CROSS JOIN LATERAL unnest(e.tag_keys, e.tag_values) AS u(key, value)';

/** The tags of the events `where` picks, summed per issue, key and value: the relation `subtract` takes. */
const tagsOf = (where: string) =>
  `SELECT e.group_id, u.key, u.value, count(*) AS n, min(e.received_at) AS lo, max(e.received_at) AS hi FROM events e ${EVENT_TAGS} WHERE ${where} GROUP BY e.group_id, u.key, u.value`;

/**
 * Values no event carries any more go; those that lost an end read it back from the events left.
 * An end lies in the partition nearest it that holds the value, so the partitions are read one at
 * a time from that end (oldest first for first seen, newest first for last seen), each only for
 * the issues with a value still unsettled, until none is left: the values of an expiry or of a
 * retention chunk mostly find their new first seen in the partition after the events that went.
 */
async function settle(db: PoolClient, rows: Subtracted[]): Promise<void> {
  const empty = rows.filter((row) => row.times_seen <= 0);
  if (empty.length > 0) {
    await db.query('DELETE FROM group_tag_values v USING unnest($1::bigint[], $2::text[], $3::text[]) AS b(group_id, key, value) WHERE v.group_id = b.group_id AND v.key = b.key AND v.value = b.value', [
      empty.map((row) => row.group_id), empty.map((row) => row.key), empty.map((row) => row.value),
    ]);
  }
  const live = rows.filter((row) => row.times_seen > 0);
  const firsts = live.filter((row) => row.at_first);
  const lasts = live.filter((row) => row.at_last);
  if (firsts.length === 0 && lasts.length === 0) return;
  const partitions = await listEventPartitions(db);
  await settleEnd(db, 'first_seen', firsts, partitions);
  await settleEnd(db, 'last_seen', lasts, [...partitions].reverse());
}

/** A value's key in memory (text in Postgres never holds a NUL). */
const valueKey = (row: { group_id: number; key: string; value: string }) => `${row.group_id}\u0000${row.key}\u0000${row.value}`;

/**
 * Up to this many unsettled values of an issue, each walks the issue's events of a partition in
 * time order from the end and stops at the first that carries it (the next events mostly do); with
 * more, one pass over the issue's events of the partition finds them all (a walk per value would
 * read them once per value: many rare values, such as users, each walk far).
 */
const WALKED_VALUES = 8;

async function settleEnd(db: PoolClient, end: 'first_seen' | 'last_seen', values: Subtracted[], partitions: { from: number; to: number }[]): Promise<void> {
  const pending = new Map(values.map((row) => [valueKey(row), row]));
  for (const range of partitions) {
    if (pending.size === 0) return;
    const perIssue = new Map<number, number>();
    for (const row of pending.values()) perIssue.set(row.group_id, (perIssue.get(row.group_id) ?? 0) + 1);
    const left = [...pending.values()];
    for (const [walked, sql] of [[true, walkToEnd(end)], [false, passForEnd(end)]] as const) {
      const these = left.filter((row) => (perIssue.get(row.group_id)! <= WALKED_VALUES) === walked);
      if (these.length === 0) continue;
      const found = await db.query<{ group_id: number; key: string; value: string }>(sql, [
        these.map((row) => row.group_id), these.map((row) => row.key), these.map((row) => row.value), range.from, range.to,
      ]);
      for (const row of found.rows) pending.delete(valueKey(row));
    }
  }
}

/** The values ($1, $2, $3: issue, key, value) set to their end in the partition [$4, $5), walked to it per value. */
const walkToEnd = (end: 'first_seen' | 'last_seen') => `
  UPDATE group_tag_values v SET ${end} = found.at
  FROM unnest($1::bigint[], $2::text[], $3::text[]) AS w(group_id, key, value)
  CROSS JOIN LATERAL (
    SELECT e.received_at AS at FROM events e
    WHERE e.group_id = w.group_id AND e.received_at >= to_timestamp($4) AND e.received_at < to_timestamp($5)
      AND e.tag_values[array_position(e.tag_keys, w.key)] = w.value
    ORDER BY e.received_at ${end === 'first_seen' ? 'ASC' : 'DESC'} LIMIT 1) found
  WHERE v.group_id = w.group_id AND v.key = w.key AND v.value = w.value
  RETURNING v.group_id, v.key, v.value`;

/** The same, by one pass over the issues' events of the partition. */
const passForEnd = (end: 'first_seen' | 'last_seen') => `
  WITH wanted AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS b(group_id, key, value)),
  found AS (
    SELECT e.group_id, u.key, u.value, ${end === 'first_seen' ? 'min' : 'max'}(e.received_at) AS at
    FROM events e ${EVENT_TAGS}
    JOIN wanted w ON w.group_id = e.group_id AND w.key = u.key AND w.value = u.value
    WHERE e.group_id = ANY($1::bigint[]) AND e.received_at >= to_timestamp($4) AND e.received_at < to_timestamp($5)
    GROUP BY e.group_id, u.key, u.value)
  UPDATE group_tag_values v SET ${end} = found.at FROM found
  WHERE v.group_id = found.group_id AND v.key = found.key AND v.value = found.value
  RETURNING v.group_id, v.key, v.value`;

/**
 * Takes the tags of events (of one project, by id, in the partitions of `times`) off their issues'
 * tag values, ahead of the events being hidden or deleted; the returned function settles first/last
 * seen once they are. A hidden event's tags were taken off when it was hidden (its arrays are empty).
 */
export async function subtractEventTags(db: PoolClient, projectId: number, eventIds: string[], times: Date[]): Promise<() => Promise<void>> {
  const result = await db.query<Subtracted>(subtract(tagsOf('e.project_id = $1 AND e.event_id = ANY($2) AND e.received_at = ANY($3)')), [projectId, eventIds, times]);
  return () => settle(db, result.rows);
}

/**
 * Takes the tags of the events received before `cutoff` off the tag values, ahead of their
 * partitions being emptied; the returned function settles first/last seen once they are.
 */
export async function expireTagValues(db: PoolClient, cutoff: Date): Promise<() => Promise<void>> {
  const result = await db.query<Subtracted>(
    subtract(tagsOf('e.received_at < $1')),
    [cutoff],
  );
  return () => settle(db, result.rows);
}
