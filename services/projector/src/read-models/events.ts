import { ensureEventPartitions, type PoolClient } from '@trapline/runtime';
import { copyInto } from '../adapters/copy-in.ts';
import { BinaryRows, CopyRows } from '../adapters/copy-rows.ts';
import type { TagValueSum } from '../adapters/tag-sums.ts';
import { EVENT_COLUMNS, EVENT_FIELDS } from './event-columns.ts';
import { eventKeys } from '@trapline/schemas';
import { shortIdNumber } from '../domain/issue.ts';
import { pairKey, placeEvents, type Placement, type Tombstone } from '../domain/placement.ts';
import type { Parsed } from '../domain/received.ts';
import { reopens, type Resolution } from '../domain/resolution.ts';
import type { ApplyContext, Effects } from './effects.ts';
import { groupOnResolvedFrames } from './resolved-frames.ts';

// The issues and their events (groups, group_hashes, event_ids, events with their tags,
// group_tag_values), from a run of parsed EventReceived records (domain/received.ts), with a fixed
// number of multi-row statements whatever the run's length: what the read model holds for them is
// read in three queries, placement is decided in memory (domain/placement.ts), and groups, hashes,
// events and tags are written with one statement each. A run of one is how a single record is applied.


/**
 * A received time as Postgres reads it: V8's native ISO form, far cheaper than the driver's own
 * formatting of a Date (received times are checked to lie between 1970 and 9999 when parsed).
 */
const receivedText = (epochMs: number) => new Date(epochMs).toISOString();


async function readState(db: PoolClient, events: Parsed[]) {
  const pairs = [...new Map(events.map((entry) => [pairKey(entry.record.projectId, entry.hash), entry])).values()];
  const hashArgs = [pairs.map((entry) => entry.record.projectId), pairs.map((entry) => entry.hash)];
  // One connection runs one query at a time: three round trips, in turn.
  const seen = await db.query<{ project_id: number; event_id: string }>(
    'SELECT e.project_id, e.event_id FROM event_ids e JOIN unnest($1::bigint[], $2::text[]) AS b(project_id, event_id) ON e.project_id = b.project_id AND e.event_id = b.event_id',
    [events.map((entry) => entry.record.projectId), events.map((entry) => entry.record.eventId)],
  );
  const expired = await db.query<{ before: Date }>('SELECT before FROM events_expired');
  const tombstones = await db.query<{ project_id: number; hash: string; group_id: number; requested_at: Date; present: boolean }>(
    `SELECT t.project_id, t.hash, t.group_id, t.requested_at, EXISTS (SELECT 1 FROM groups g WHERE g.id = t.group_id) AS present
     FROM group_hash_tombstones t JOIN unnest($1::bigint[], $2::text[]) AS b(project_id, hash) ON t.project_id = b.project_id AND t.hash = b.hash
     ORDER BY t.requested_at, t.group_id`,
    hashArgs,
  );
  const live = await db.query<{ project_id: number; hash: string; group_id: number }>(
    'SELECT h.project_id, h.hash, h.group_id FROM group_hashes h JOIN unnest($1::bigint[], $2::text[]) AS b(project_id, hash) ON h.project_id = b.project_id AND h.hash = b.hash',
    hashArgs,
  );
  const tombstoneMap = new Map<string, Tombstone[]>();
  for (const row of tombstones.rows) {
    const key = pairKey(row.project_id, row.hash);
    tombstoneMap.set(key, [...(tombstoneMap.get(key) ?? []), { groupId: row.group_id, requestedAt: row.requested_at.getTime(), present: row.present }]);
  }
  return {
    seen: new Set(seen.rows.map((row) => pairKey(row.project_id, row.event_id))),
    tombstones: tombstoneMap,
    live: new Map(live.rows.map((row) => [pairKey(row.project_id, row.hash), row.group_id])),
    expiredBefore: expired.rows[0]?.before.getTime() ?? null,
  };
}

/** Short id numbers for new groups, in log order: each the first free one after its own (clashes are rare). */
async function assignShortIds(db: PoolClient, created: Parsed[], groupIds: number[]): Promise<number[]> {
  const taken = new Set<string>();
  const isTaken = async (projectId: number, candidates: number[]) => {
    const rows = await db.query<{ short_id: number }>('SELECT short_id FROM groups WHERE project_id = $1 AND short_id = ANY($2::bigint[])', [projectId, candidates]);
    return new Set(rows.rows.map((row) => row.short_id));
  };
  const firstTry = await db.query<{ project_id: number; short_id: number }>(
    'SELECT g.project_id, g.short_id FROM groups g JOIN unnest($1::bigint[], $2::bigint[]) AS b(project_id, short_id) ON g.project_id = b.project_id AND g.short_id = b.short_id',
    [created.map((entry) => entry.record.projectId), groupIds.map((id) => shortIdNumber(id))],
  );
  for (const row of firstTry.rows) taken.add(pairKey(row.project_id, String(row.short_id)));
  const assigned: number[] = [];
  for (const [index, entry] of created.entries()) {
    const projectId = entry.record.projectId;
    let probe = 0;
    let candidate = shortIdNumber(groupIds[index]!, probe);
    while (taken.has(pairKey(projectId, String(candidate))) || (probe > 0 && (await isTaken(projectId, [candidate])).size > 0)) candidate = shortIdNumber(groupIds[index]!, ++probe);
    taken.add(pairKey(projectId, String(candidate)));
    assigned.push(candidate);
  }
  return assigned;
}

type Placed = Parsed & { placement: Placement };
type Joined = Parsed & { placement: Extract<Placement, { kind: 'joined' }> };

/** Returns the keys of the events kept nowhere (expired, or received before their issue's purged deletion), to erase from the log. */
export async function applyEvents(db: PoolClient, events: Parsed[], context: ApplyContext): Promise<Effects> {
  if (events.length === 0) return { erasures: [], partitionsEmptied: false };
  await groupOnResolvedFrames(db, events);
  const placements = placeEvents(
    events.map((entry) => ({ projectId: entry.record.projectId, eventId: entry.record.eventId, receivedAt: entry.record.receivedAt, hash: entry.hash })),
    await readState(db, events),
  );
  const placed: Placed[] = events.map((entry, index) => ({ ...entry, placement: placements[index]! }));
  const joined = placed.filter((entry): entry is Joined => entry.placement.kind === 'joined');
  await insertGroups(db, joined.filter((entry) => entry.placement.created));
  await updateGroups(db, joined);
  await insertEvents(db, placed.filter((entry) => entry.placement.kind === 'joined' || entry.placement.kind === 'hidden'), context);
  await addTagValues(db, joined);
  // Expired, or received before the deletion of an issue already purged: kept nowhere, so erased.
  const erased = placed.filter((entry) => entry.placement.kind === 'expired' || entry.placement.kind === 'dropped');
  return { erasures: erased.map((entry) => eventKeys.event(entry.record.projectId, entry.record.eventId)), partitionsEmptied: false };
}

/** Issues opened by events of the run, with their first hashes. */
async function insertGroups(db: PoolClient, created: Joined[]): Promise<void> {
  if (created.length > 0) {
    const ids = created.map((entry) => entry.placement.groupId);
    const shortIds = await assignShortIds(db, created, ids);
    await db.query(
      // An issue made (or made again, with the same id, after all its events went) by an event has
      // its status from that event: a status change older than it, applied again, leaves it alone.
      `INSERT INTO groups (id, project_id, short_id, title, culprit, type, metadata, level, platform, logger, first_seen, last_seen, times_seen, grouping_version, status_offset, first_release)
       SELECT id, project_id, short_id, title, culprit, type, metadata::jsonb, level, platform, logger, first_seen, first_seen, 0, grouping_version, status_offset, first_release
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::text[], $13::bigint[], $14::text[])
         AS v(id, project_id, short_id, title, culprit, type, metadata, level, platform, logger, first_seen, grouping_version, status_offset, first_release)`,
      [
        ids, created.map((entry) => entry.record.projectId), shortIds, created.map((entry) => entry.facts.title), created.map((entry) => entry.facts.culprit),
        created.map((entry) => entry.facts.type), created.map((entry) => JSON.stringify(entry.facts.metadata)), created.map((entry) => entry.fields.level),
        created.map((entry) => entry.fields.platform), created.map((entry) => entry.fields.logger ?? null), created.map((entry) => receivedText(entry.record.receivedAt)),
        created.map((entry) => entry.groupingVersion), created.map((entry) => entry.offset), created.map((entry) => entry.fields.release ?? null),
      ],
    );
    await db.query('INSERT INTO group_hashes (project_id, hash, group_id) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])', [
      created.map((entry) => entry.record.projectId), created.map((entry) => entry.hash), ids,
    ]);
  }
}

async function updateGroups(db: PoolClient, joined: Joined[]): Promise<void> {
  // Per group, what its events of this run add: count, first and last seen, the description of the
  // last one and its releases (as if applied one by one). Regression: a new event reopens a resolved
  // issue if its resolution says so (domain/resolution.ts); the one that does is the group's first
  // such event in the run (a status change ends a run), whatever the batches.
  const reopening = await regressions(db, joined);
  const byGroup = new Map<number, { n: number; first: number; last: number; latest: Joined; firstRelease: string | null; lastRelease: string | null; reopenedAt: number | null }>();
  for (const entry of joined) {
    const at = entry.record.receivedAt;
    const release = entry.fields.release ?? null;
    const group = byGroup.get(entry.placement.groupId);
    if (group) {
      byGroup.set(entry.placement.groupId, {
        ...group, n: group.n + 1, first: Math.min(group.first, at), last: Math.max(group.last, at), latest: entry,
        firstRelease: group.firstRelease ?? release, lastRelease: release ?? group.lastRelease,
      });
    } else {
      byGroup.set(entry.placement.groupId, { n: 1, first: at, last: at, latest: entry, firstRelease: release, lastRelease: release, reopenedAt: reopening.get(entry.placement.groupId) ?? null });
    }
  }
  if (byGroup.size > 0) {
    const groups = [...byGroup.entries()];
    const reopened = `g.status = 'resolved' AND v.reopened_at IS NOT NULL`;
    await db.query(
      `UPDATE groups g SET times_seen = g.times_seen + v.n, first_seen = LEAST(g.first_seen, v.first_seen), last_seen = GREATEST(g.last_seen, v.last_seen),
         level = v.level, title = v.title, culprit = v.culprit, metadata = v.metadata::jsonb,
         first_release = COALESCE(g.first_release, v.first_release), last_release = COALESCE(v.last_release, g.last_release),
         status = CASE WHEN ${reopened} THEN 'unresolved' ELSE g.status END,
         status_offset = CASE WHEN ${reopened} THEN v.reopened_at ELSE g.status_offset END,
         resolved_in_release = CASE WHEN ${reopened} THEN NULL ELSE g.resolved_in_release END,
         resolved_in_next_release = CASE WHEN ${reopened} THEN NULL ELSE g.resolved_in_next_release END,
         resolved_at = CASE WHEN ${reopened} THEN NULL ELSE g.resolved_at END
       FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::text[])
         AS v(id, n, first_seen, last_seen, level, title, culprit, metadata, reopened_at, first_release, last_release)
       WHERE g.id = v.id`,
      [
        groups.map(([id]) => id), groups.map(([, group]) => group.n), groups.map(([, group]) => receivedText(group.first)), groups.map(([, group]) => receivedText(group.last)),
        groups.map(([, group]) => group.latest.fields.level), groups.map(([, group]) => group.latest.facts.title), groups.map(([, group]) => group.latest.facts.culprit),
        groups.map(([, group]) => JSON.stringify(group.latest.facts.metadata)), groups.map(([, group]) => group.reopenedAt),
        groups.map(([, group]) => group.firstRelease), groups.map(([, group]) => group.lastRelease),
      ],
    );
  }
}

/** The events kept (an issue's, or hidden by a pending deletion) in the directory and the events table. */
async function insertEvents(db: PoolClient, stored: Placed[], context: ApplyContext): Promise<void> {
  if (stored.length > 0) {
    // The partition after the newest event's is made too, so live traffic finds the next one there.
    const times = new Set(stored.map((entry) => entry.record.receivedAt));
    times.add(Math.max(...times) + context.partitionWidthSeconds * 1000);
    await ensureEventPartitions(db, times, context.partitionWidthSeconds, context.partitions);
    const groupOf = (placement: Placement) => (placement.kind === 'joined' || placement.kind === 'hidden' ? placement.groupId : 0);
    // Both tables by binary COPY (adapters/copy-in.ts): rows written as bytes, no parameter arrays
    // for the driver to build and escape (the payloads above all), nothing for Postgres to parse.
    const eventIds = new BinaryRows();
    const events = new BinaryRows();
    for (const entry of stored) {
      const { projectId, eventId, receivedAt } = entry.record;
      const hidden = entry.placement.kind === 'hidden';
      eventIds.row(3).int8(projectId).text(eventId).timestamp(receivedAt).end();
      events.row(EVENT_FIELDS).int8(projectId).text(eventId).int8(groupOf(entry.placement)).timestamp(receivedAt).timestamp(entry.fields.occurred)
        .text(entry.fields.level).text(entry.fields.platform).text(entry.facts.title).text(entry.fields.message ?? '')
        .text(entry.fields.release ?? null).text(entry.fields.environment ?? null).text(entry.fields.user ?? null)
        .bool(hidden).textBytes(entry.payload)
        // Its tags while it counts (a hidden event's do not: its issue is being deleted).
        .textArray(hidden ? [] : entry.fields.tags.map(([key]) => key)).textArray(hidden ? [] : entry.fields.tags.map(([, value]) => value)).end();
    }
    await copyInto(db, 'event_ids (project_id, event_id, received_at)', eventIds);
    await copyInto(db, `events (${EVENT_COLUMNS})`, events);
  }
}

/**
 * The run's tags (written with its events, above) counted per issue, key and value, and added to
 * the tag values by one upsert.
 */
async function addTagValues(db: PoolClient, joined: Joined[]): Promise<void> {
  const values: TagValueDeltas = new Map();
  for (const entry of joined) {
    const groupId = entry.placement.groupId;
    for (const [key, value] of entry.fields.tags) addTagValue(values, groupId, entry.record.projectId, key, value, entry.record.receivedAt);
  }
  if (values.size === 0) return;
  // The sums go by COPY too (a parameter array of each column costs the driver more than the rows),
  // into a temporary table of the connection's (made on first use, emptied at every commit), and
  // leave it in the statement that adds them.
  const sums = new CopyRows();
  for (const keys of values.values()) {
    for (const byValue of keys.values()) {
      for (const delta of byValue.values()) {
        sums.raw(delta.groupId).raw(delta.projectId).text(delta.key).text(delta.value).raw(delta.count).raw(receivedText(delta.first)).raw(receivedText(delta.last)).end();
      }
    }
  }
  // In the transaction: a rolled-back one takes a table it made with it, so each run makes sure of it.
  await db.query('CREATE TEMP TABLE IF NOT EXISTS projector_tag_sums (group_id bigint, project_id bigint, key text, value text, n bigint, first_seen timestamptz, last_seen timestamptz) ON COMMIT DELETE ROWS');
  await copyInto(db, 'projector_tag_sums (group_id, project_id, key, value, n, first_seen, last_seen)', sums);
  await db.query(
    `WITH staged AS (DELETE FROM projector_tag_sums RETURNING *)
     INSERT INTO group_tag_values AS v (group_id, project_id, key, value, times_seen, first_seen, last_seen)
     SELECT group_id, project_id, key, value, n, first_seen, last_seen FROM staged
     ON CONFLICT (group_id, key, value) DO UPDATE SET times_seen = v.times_seen + EXCLUDED.times_seen,
       first_seen = LEAST(v.first_seen, EXCLUDED.first_seen), last_seen = GREATEST(v.last_seen, EXCLUDED.last_seen)`,
  );
}

/** Per issue, key and value, what a run adds (nested maps: the strings' own hashes, no key built per tag). */
type TagValueDeltas = Map<number, Map<string, Map<string, TagValueSum>>>;

function addTagValue(values: TagValueDeltas, groupId: number, projectId: number, key: string, value: string, at: number): void {
  let keys = values.get(groupId);
  if (keys === undefined) values.set(groupId, (keys = new Map()));
  let byValue = keys.get(key);
  if (byValue === undefined) keys.set(key, (byValue = new Map()));
  const delta = byValue.get(value);
  if (delta === undefined) byValue.set(value, { groupId, projectId, key, value, count: 1, first: at, last: at });
  else {
    delta.count += 1;
    if (at < delta.first) delta.first = at;
    if (at > delta.last) delta.last = at;
  }
}

/**
 * For each resolved group the run's events join, the offset of the first event that reopens it (a
 * regression), if any. Releases are ordered by when each first appeared in the project's events:
 * from the issues' tag values (kept exact through deletions and expiry) or, for a release new in
 * this run, its first event here.
 */
async function regressions(db: PoolClient, joined: Joined[]): Promise<Map<number, number>> {
  const candidates = [...new Set(joined.filter((entry) => !entry.placement.created).map((entry) => entry.placement.groupId))];
  const reopening = new Map<number, number>();
  if (candidates.length === 0) return reopening;
  const resolved = await db.query<{ id: number; resolved_in_release: string | null; resolved_in_next_release: string | null; resolved_at: Date | null }>(
    "SELECT id, resolved_in_release, resolved_in_next_release, resolved_at FROM groups WHERE id = ANY($1::bigint[]) AND status = 'resolved'",
    [candidates],
  );
  if (resolved.rows.length === 0) return reopening;
  const resolutions = new Map<number, Resolution>(resolved.rows.map((row) => [row.id, { inRelease: row.resolved_in_release, inNextRelease: row.resolved_in_next_release, resolvedAt: row.resolved_at?.getTime() ?? 0 }]));
  const withRelease = joined.filter((entry) => entry.fields.release && resolutions.has(entry.placement.groupId));
  const firstSeen = new Map<string, number>();
  if (withRelease.length > 0) {
    const known = await db.query<{ project_id: number; value: string; first_seen: Date }>(
      `SELECT t.project_id, t.value, min(t.first_seen) AS first_seen FROM group_tag_values t
       JOIN unnest($1::bigint[], $2::text[]) AS b(project_id, value) ON t.project_id = b.project_id AND t.key = 'release' AND t.value = b.value
       GROUP BY t.project_id, t.value`,
      [withRelease.map((entry) => entry.record.projectId), withRelease.map((entry) => entry.fields.release!)],
    );
    for (const row of known.rows) firstSeen.set(pairKey(row.project_id, row.value), row.first_seen.getTime());
  }
  for (const entry of joined) {
    const release = entry.fields.release ?? null;
    const key = release === null ? '' : pairKey(entry.record.projectId, release);
    const resolution = resolutions.get(entry.placement.groupId);
    if (resolution && !reopening.has(entry.placement.groupId) && reopens(resolution, { release, releaseFirstSeen: firstSeen.get(key) ?? null })) {
      reopening.set(entry.placement.groupId, entry.offset);
    }
    if (release !== null && !firstSeen.has(key)) firstSeen.set(key, entry.record.receivedAt);
  }
  return reopening;
}
