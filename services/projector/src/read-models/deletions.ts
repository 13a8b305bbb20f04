import type { PoolClient } from '@trapline/runtime';
import type { DeletionFailed, DomainRecord, EventDeletionRequested, EventsPurged, GroupDeletionRequested, NormalizedEvent, RetentionRequested } from '@trapline/schemas';
import { describeIssue } from '../domain/issue.ts';
import { NO_EFFECTS, type Effects } from './effects.ts';
import { expire, setExpiryHorizon } from './expiry.ts';
import { subtractEventTags } from './tag-values.ts';

// Deletions: a request hides what it deletes at once (an issue and its hashes' tombstones, or an
// event) and becomes the deletion's row; each EventsPurged chunk the deleter appends takes the
// events themselves, and the last one an issue's row; a failure is the row's state. An expiry's
// last chunk empties the expired partitions (expiry.ts).

type DeletionRecord = Extract<DomainRecord, { name: 'GroupDeletionRequested' | 'EventDeletionRequested' | 'RetentionRequested' | 'DeletionFailed' }>;

const toDate = (epochMs: number) => new Date(epochMs);

/** A request, or a failure: the purges themselves are applyEventsPurged. */
export async function applyDeletionRequests(db: PoolClient, record: DeletionRecord): Promise<void> {
  switch (record.name) {
    case 'GroupDeletionRequested':
      return applyGroupDeletionRequested(db, record.value);
    case 'EventDeletionRequested':
      return applyEventDeletionRequested(db, record.value);
    case 'RetentionRequested':
      // An expiry moves the horizon when it is requested, before the deleter walks what is there: an
      // old event that arrives meanwhile is refused and erased, never left behind in a dropped partition.
      if (record.value.allProjects) await setExpiryHorizon(db, toDate(record.value.cutoff));
      return recordDeletionRequested(db, record.value);
    case 'DeletionFailed':
      return applyDeletionFailed(db, record.value);
  }
}

/** The deletion's row, for `GET /api/0/deletions/{id}/` and `trapline deletions list`. */
async function recordDeletionRequested(db: PoolClient, value: GroupDeletionRequested | EventDeletionRequested | RetentionRequested): Promise<void> {
  const [kind, groupId, eventId] =
    'groupId' in value ? ['group', value.groupId, null] : 'eventId' in value ? ['event', null, value.eventId] : [value.allProjects ? 'expiry' : 'retention', null, null];
  await db.query(
    `INSERT INTO deletions (transaction_id, kind, project_id, group_id, event_id, actor, requested_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (transaction_id) DO NOTHING`,
    [value.transactionId, kind, value.projectId, groupId, eventId, value.actor, toDate(value.requestedAt)],
  );
}

/** Hides the group at once and tombstones its hashes (Sentry's GroupHashTombstone). */
async function applyGroupDeletionRequested(db: PoolClient, record: GroupDeletionRequested): Promise<void> {
  await db.query(`UPDATE groups SET status = 'pending_deletion' WHERE id = $1 AND project_id = $2`, [record.groupId, record.projectId]);
  await db.query(
    `INSERT INTO group_hash_tombstones (project_id, hash, group_id, requested_at)
     SELECT $1, hash, $2, $3 FROM unnest($4::text[]) AS t(hash) ON CONFLICT DO NOTHING`,
    [record.projectId, record.groupId, toDate(record.requestedAt), record.hashes],
  );
  await db.query('DELETE FROM group_hashes WHERE project_id = $1 AND group_id = $2', [record.projectId, record.groupId]);
  await recordDeletionRequested(db, record);
}

async function applyEventDeletionRequested(db: PoolClient, record: EventDeletionRequested): Promise<void> {
  // The directory names the event's partition, so the update touches that one alone.
  const located = await db.query<{ received_at: Date }>('SELECT received_at FROM event_ids WHERE project_id = $1 AND event_id = $2', [record.projectId, record.eventId]);
  const at = located.rows[0]?.received_at;
  // A hidden event no longer counts, in its issue or its tags: its tags are taken off its issue's
  // tag values and cleared, its issue is recounted; its purge takes the event itself. (So an
  // issue's count is always its visible events, whatever removes the hidden one later: its purge or
  // an expiry.)
  if (at) {
    const settleTags = await subtractEventTags(db, record.projectId, [record.eventId], [at]);
    const hidden = await db.query<{ group_id: number }>(
      `UPDATE events SET pending_deletion = true, tag_keys = '{}', tag_values = '{}' WHERE project_id = $1 AND event_id = $2 AND received_at = $3 AND NOT pending_deletion RETURNING group_id`,
      [record.projectId, record.eventId, at],
    );
    await settleTags();
    if (hidden.rows[0]) await recomputeGroup(db, hidden.rows[0].group_id);
  }
  await recordDeletionRequested(db, record);
}

/**
 * What is left of an issue after some of its events were erased is what a rebuild of the erased
 * log gives: counts, first/last seen and description from the remaining events; an issue with no
 * event left is gone (a rebuild would never create it).
 */
async function recomputeGroup(db: PoolClient, groupId: number): Promise<void> {
  const latest = await db.query<{ payload: NormalizedEvent; level: string }>(
    'SELECT payload, level FROM events WHERE group_id = $1 AND NOT pending_deletion ORDER BY received_at DESC, event_id DESC LIMIT 1',
    [groupId],
  );
  const remaining = latest.rows[0];
  if (!remaining) {
    await db.query('DELETE FROM group_hashes WHERE group_id = $1', [groupId]);
    await db.query('DELETE FROM group_tag_values WHERE group_id = $1', [groupId]);
    await db.query('DELETE FROM groups WHERE id = $1', [groupId]);
    return;
  }
  const facts = describeIssue(remaining.payload);
  await db.query(
    `UPDATE groups g SET times_seen = s.n, first_seen = s.first_seen, last_seen = s.last_seen, level = $2, title = $3, culprit = $4, metadata = $5,
       first_release = (SELECT release FROM events WHERE group_id = $1 AND NOT pending_deletion AND release IS NOT NULL ORDER BY received_at, event_id LIMIT 1),
       last_release = (SELECT release FROM events WHERE group_id = $1 AND NOT pending_deletion AND release IS NOT NULL ORDER BY received_at DESC, event_id DESC LIMIT 1)
     FROM (SELECT count(*) AS n, min(received_at) AS first_seen, max(received_at) AS last_seen FROM events WHERE group_id = $1 AND NOT pending_deletion) s
     WHERE g.id = $1`,
    [groupId, remaining.level, facts.title, facts.culprit, facts.metadata],
  );
}

/** One chunk of a deletion: the events and their tags go; the last chunk of an issue's deletion takes the issue. */
export async function applyEventsPurged(db: PoolClient, record: EventsPurged): Promise<Effects> {
  const { projectId, eventIds } = record;
  if (record.expiredBefore !== null) {
    // An expiry's chunks only erase log records; its last one empties the partitions at once.
    const effects = record.final ? await expire(db, record.expiredBefore) : NO_EFFECTS;
    await recordProgress(db, record);
    return effects;
  }
  // The directory names each event's received time: the deletes below touch only its partitions.
  const located = await db.query<{ received_at: Date }>('DELETE FROM event_ids WHERE project_id = $1 AND event_id = ANY($2) RETURNING received_at', [projectId, eventIds]);
  const times = [...new Set(located.rows.map((row) => row.received_at.getTime()))].map((at) => new Date(at));
  // A deleted issue is hidden as a whole: its tag values go with it at the end, not value by value.
  const settleTags = record.groupId === null ? await subtractEventTags(db, projectId, eventIds, times) : async () => undefined;
  const removed = await db.query<{ group_id: number }>('DELETE FROM events WHERE project_id = $1 AND event_id = ANY($2) AND received_at = ANY($3) RETURNING group_id', [projectId, eventIds, times]);
  await settleTags();
  if (record.groupId !== null) {
    if (record.final) {
      await db.query('DELETE FROM group_tag_values WHERE group_id = $1', [record.groupId]);
      await db.query('DELETE FROM groups WHERE id = $1 AND project_id = $2', [record.groupId, projectId]);
    }
  } else {
    for (const groupId of new Set(removed.rows.map((row) => row.group_id))) await recomputeGroup(db, groupId);
  }
  await recordProgress(db, record);
  return NO_EFFECTS;
}

async function recordProgress(db: PoolClient, record: EventsPurged): Promise<void> {
  await db.query(
    `UPDATE deletions SET state = $2, chunks = $3, events_removed = $4, rows_removed = $5, last_error = NULL, updated_at = $6, completed_at = $7
     WHERE transaction_id = $1`,
    [record.transactionId, record.final ? 'done' : 'running', record.chunk + 1, record.eventsRemoved, record.rowsRemoved, toDate(record.purgedAt), record.final ? toDate(record.purgedAt) : null],
  );
}

async function applyDeletionFailed(db: PoolClient, record: DeletionFailed): Promise<void> {
  await db.query(
    `UPDATE deletions SET state = $2, attempts = $3, last_error = $4, updated_at = $5 WHERE transaction_id = $1 AND state <> 'done'`,
    [record.transactionId, record.dead ? 'dead' : 'retrying', record.attempt, record.reason, toDate(record.failedAt)],
  );
}
