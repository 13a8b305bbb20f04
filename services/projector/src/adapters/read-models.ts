import type { PoolClient } from '@trapline/runtime';
import type { AuditEntry, DeletionFailed, DomainRecord, EventDeletionRequested, EventReceived, EventsPurged, GroupDeletionRequested, GroupStatusChanged, NormalizedEvent } from '@trapline/schemas';
import { groupHashes } from '../domain/grouping.ts';
import { describeIssue, eventTags, issueId, shortIdNumber, userIdentity } from '../domain/issue.ts';

// Applies one decoded record to the read models inside the caller's transaction. Every effect
// is idempotent (keyed by event id, entity key or group id), so redelivery changes nothing.

const toDate = (epochMs: number) => new Date(epochMs);

export class PoisonRecord extends Error {}

export async function applyRecord(db: PoolClient, record: DomainRecord): Promise<void> {
  switch (record.name) {
    case 'OrganizationUpserted': {
      const { slug, name, createdAt } = record.value;
      await db.query('INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name', [slug, name, toDate(createdAt)]);
      return;
    }
    case 'ProjectUpserted': {
      const { projectId, organizationSlug, slug, name, platform, createdAt } = record.value;
      await db.query(
        `INSERT INTO projects (id, organization_slug, slug, name, platform, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET organization_slug = EXCLUDED.organization_slug, slug = EXCLUDED.slug, name = EXCLUDED.name, platform = EXCLUDED.platform`,
        [projectId, organizationSlug, slug, name, platform, toDate(createdAt)],
      );
      return;
    }
    case 'ProjectKeyUpserted': {
      const { publicKey, secretKey, projectId, label, active, createdAt } = record.value;
      await db.query(
        `INSERT INTO project_keys (public_key, secret_key, project_id, label, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (public_key) DO UPDATE SET label = EXCLUDED.label, active = EXCLUDED.active`,
        [publicKey, secretKey, projectId, label, active, toDate(createdAt)],
      );
      return;
    }
    case 'ApiTokenUpserted': {
      const { tokenHash, organizationSlug, scopes, label, active, createdAt } = record.value;
      await db.query(
        `INSERT INTO api_tokens (token_hash, organization_slug, scopes, label, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (token_hash) DO UPDATE SET scopes = EXCLUDED.scopes, label = EXCLUDED.label, active = EXCLUDED.active`,
        [tokenHash, organizationSlug, scopes, label, active, toDate(createdAt)],
      );
      return;
    }
    case 'EventReceived':
      return applyEventReceived(db, record.value);
    case 'GroupStatusChanged':
      return applyStatusChange(db, record.value);
    case 'GroupDeletionRequested':
      return applyGroupDeletionRequested(db, record.value);
    case 'EventDeletionRequested':
      return applyEventDeletionRequested(db, record.value);
    case 'EventsPurged':
      return applyEventsPurged(db, record.value);
    case 'DeletionFailed':
      return applyDeletionFailed(db, record.value);
    case 'AuditEntry':
      return applyAuditEntry(db, record.value);
    case 'DeletionStep':
      throw new PoisonRecord('DeletionStep belongs on the deleter\'s topics, not a projected one');
  }
}

function parsePayload(record: EventReceived): NormalizedEvent {
  try {
    const event = JSON.parse(record.payload) as NormalizedEvent;
    if (typeof event !== 'object' || event === null || !Array.isArray(event.tags)) throw new Error('not a normalized event');
    return event;
  } catch (error) {
    throw new PoisonRecord(`EventReceived payload is not a normalized event: ${(error as Error).message}`);
  }
}

type GroupTarget = { groupId: number; created: boolean; deleted: false } | { groupId: number; deleted: true };

/**
 * The group an event joins. A tombstone comes first: an event received before its hash's group
 * was deleted belonged to that group, even if a fresh group owns the hash now, so the outcome
 * does not depend on redelivery order; it joins the deleted group hidden, so the group's purge
 * erases it too (or is dropped once that group is gone). Then the hash's live group, else a new
 * one whose id counts the hash's earlier deleted groups.
 */
async function resolveGroup(db: PoolClient, record: EventReceived, hash: string): Promise<GroupTarget | undefined> {
  const tombstoned = await db.query<{ group_id: number; present: boolean }>(
    `SELECT t.group_id, EXISTS (SELECT 1 FROM groups g WHERE g.id = t.group_id) AS present FROM group_hash_tombstones t
     WHERE t.project_id = $1 AND t.hash = $2 AND t.requested_at > $3 ORDER BY t.requested_at LIMIT 1`,
    [record.projectId, hash, toDate(record.receivedAt)],
  );
  if (tombstoned.rows[0]) return tombstoned.rows[0].present ? { groupId: tombstoned.rows[0].group_id, deleted: true } : undefined;
  const live = await db.query<{ group_id: number }>('SELECT group_id FROM group_hashes WHERE project_id = $1 AND hash = $2', [record.projectId, hash]);
  if (live.rows[0]) return { groupId: live.rows[0].group_id, created: false, deleted: false };
  const generation = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM group_hash_tombstones WHERE project_id = $1 AND hash = $2', [record.projectId, hash]);
  return { groupId: issueId(record.projectId, hash, generation.rows[0]!.n), created: true, deleted: false };
}

/** The first free short id number of the issue in its project (clashes are rare: 2·10⁹ numbers). */
async function freeShortId(db: PoolClient, projectId: number, groupId: number): Promise<number> {
  for (let probe = 0; ; probe += 1) {
    const candidate = shortIdNumber(groupId, probe);
    const taken = await db.query('SELECT 1 FROM groups WHERE project_id = $1 AND short_id = $2', [projectId, candidate]);
    if (!taken.rowCount) return candidate;
  }
}

async function insertEvent(db: PoolClient, record: EventReceived, event: NormalizedEvent, groupId: number, hidden: boolean): Promise<void> {
  await db.query(
    `INSERT INTO events (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, message, release, environment, user_ident, pending_deletion, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      record.projectId, record.eventId, groupId, toDate(record.receivedAt), new Date(Math.round(event.timestamp * 1000)), event.level, event.platform,
      describeIssue(event).title, event.message ?? '', event.release ?? null, event.environment ?? null, userIdentity(event) ?? null, hidden, record.payload,
    ],
  );
}

async function applyEventReceived(db: PoolClient, record: EventReceived): Promise<void> {
  const seen = await db.query('SELECT 1 FROM events WHERE project_id = $1 AND event_id = $2', [record.projectId, record.eventId]);
  if (seen.rowCount) return; // redelivered or a duplicate event_id: counted once
  const event = parsePayload(record);
  const grouping = groupHashes(event);
  const hash = grouping.hashes[0]!;
  const target = await resolveGroup(db, record, hash);
  if (!target) return;
  if (target.deleted) return insertEvent(db, record, event, target.groupId, true);
  const receivedAt = toDate(record.receivedAt);
  const facts = describeIssue(event);
  if (target.created) {
    await db.query(
      `INSERT INTO groups (id, project_id, short_id, title, culprit, type, metadata, level, platform, logger, first_seen, last_seen, times_seen, grouping_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 0, $12)`,
      [target.groupId, record.projectId, await freeShortId(db, record.projectId, target.groupId), facts.title, facts.culprit, facts.type, facts.metadata, event.level, event.platform, event.logger ?? null, receivedAt, grouping.version],
    );
    await db.query('INSERT INTO group_hashes (project_id, hash, group_id) VALUES ($1, $2, $3)', [record.projectId, hash, target.groupId]);
  }
  // Regression: a new event on a resolved issue reopens it, as in Sentry.
  await db.query(
    `UPDATE groups SET times_seen = times_seen + 1, first_seen = LEAST(first_seen, $2), last_seen = GREATEST(last_seen, $2),
       level = $3, title = $4, culprit = $5, metadata = $6,
       status = CASE WHEN status = 'resolved' THEN 'unresolved' ELSE status END
     WHERE id = $1`,
    [target.groupId, receivedAt, event.level, facts.title, facts.culprit, facts.metadata],
  );
  await insertEvent(db, record, event, target.groupId, false);
  const tags = eventTags(event);
  if (tags.length > 0) {
    await db.query(
      `INSERT INTO event_tags (project_id, event_id, group_id, key, value)
       SELECT $1, $2, $3, key, value FROM unnest($4::text[], $5::text[]) AS t(key, value) ON CONFLICT DO NOTHING`,
      [record.projectId, record.eventId, target.groupId, tags.map(([key]) => key), tags.map(([, value]) => value)],
    );
  }
}

async function applyStatusChange(db: PoolClient, record: GroupStatusChanged): Promise<void> {
  await db.query(`UPDATE groups SET status = $3 WHERE id = $1 AND project_id = $2 AND status <> 'pending_deletion'`, [record.groupId, record.projectId, record.status]);
}

/** The deletion's row, for `GET /api/0/deletions/{id}/` and `trapline deletions list`. */
async function recordDeletionRequested(db: PoolClient, value: GroupDeletionRequested | EventDeletionRequested): Promise<void> {
  const group = 'groupId' in value;
  await db.query(
    `INSERT INTO deletions (transaction_id, kind, project_id, group_id, event_id, actor, requested_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (transaction_id) DO NOTHING`,
    [value.transactionId, group ? 'group' : 'event', value.projectId, group ? value.groupId : null, group ? null : value.eventId, value.actor, toDate(value.requestedAt)],
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
  await db.query('UPDATE events SET pending_deletion = true WHERE project_id = $1 AND event_id = $2', [record.projectId, record.eventId]);
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
    await db.query('DELETE FROM groups WHERE id = $1', [groupId]);
    return;
  }
  const facts = describeIssue(remaining.payload);
  await db.query(
    `UPDATE groups g SET times_seen = s.n, first_seen = s.first_seen, last_seen = s.last_seen, level = $2, title = $3, culprit = $4, metadata = $5
     FROM (SELECT count(*) AS n, min(received_at) AS first_seen, max(received_at) AS last_seen FROM events WHERE group_id = $1 AND NOT pending_deletion) s
     WHERE g.id = $1`,
    [groupId, remaining.level, facts.title, facts.culprit, facts.metadata],
  );
}

/** One chunk of a deletion: the events and their tags go; the last chunk of an issue's deletion takes the issue. */
async function applyEventsPurged(db: PoolClient, record: EventsPurged): Promise<void> {
  const { projectId, eventIds } = record;
  await db.query('DELETE FROM event_tags WHERE project_id = $1 AND event_id = ANY($2)', [projectId, eventIds]);
  const removed = await db.query<{ group_id: number }>('DELETE FROM events WHERE project_id = $1 AND event_id = ANY($2) RETURNING group_id', [projectId, eventIds]);
  if (record.groupId !== null) {
    if (record.final) await db.query('DELETE FROM groups WHERE id = $1 AND project_id = $2', [record.groupId, projectId]);
  } else {
    for (const groupId of new Set(removed.rows.map((row) => row.group_id))) await recomputeGroup(db, groupId);
  }
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

async function applyAuditEntry(db: PoolClient, record: AuditEntry): Promise<void> {
  let data: unknown;
  try {
    data = JSON.parse(record.data);
  } catch (error) {
    throw new PoisonRecord(`AuditEntry data is not JSON: ${(error as Error).message}`);
  }
  await db.query(
    `INSERT INTO audit_log (id, organization_slug, project_id, event, actor, transaction_id, target_object, data, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
    [record.id, record.organizationSlug, record.projectId, record.event, record.actor, record.transactionId, record.targetObject, JSON.stringify(data), toDate(record.createdAt)],
  );
}
