import type { PoolClient } from '@trapline/runtime';
import type { DomainRecord, EventDeletionRequested, EventReceived, GroupDeletionRequested, GroupStatusChanged, NormalizedEvent } from '@trapline/schemas';
import { groupHashes } from '../domain/grouping.ts';
import { describeIssue, eventTags, issueId, userIdentity } from '../domain/issue.ts';

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

/**
 * The group an event joins. A tombstone comes first: an event received before its hash's group
 * was deleted belonged to that group and is dropped, even if a fresh group owns the hash now, so
 * the outcome does not depend on redelivery order. Then the hash's live group, else a new one.
 */
async function resolveGroup(db: PoolClient, record: EventReceived, hash: string): Promise<{ groupId: number; created: boolean } | undefined> {
  const tombstoned = await db.query('SELECT 1 FROM group_hash_tombstones WHERE project_id = $1 AND hash = $2 AND requested_at > $3 LIMIT 1', [record.projectId, hash, toDate(record.receivedAt)]);
  if (tombstoned.rowCount) return undefined;
  const live = await db.query<{ group_id: number }>('SELECT group_id FROM group_hashes WHERE project_id = $1 AND hash = $2', [record.projectId, hash]);
  if (live.rows[0]) return { groupId: live.rows[0].group_id, created: false };
  return { groupId: issueId(record.projectId, record.eventId), created: true };
}

async function applyEventReceived(db: PoolClient, record: EventReceived): Promise<void> {
  const seen = await db.query('SELECT 1 FROM events WHERE project_id = $1 AND event_id = $2', [record.projectId, record.eventId]);
  if (seen.rowCount) return; // redelivered or a duplicate event_id: counted once
  const event = parsePayload(record);
  const grouping = groupHashes(event);
  const hash = grouping.hashes[0]!;
  const target = await resolveGroup(db, record, hash);
  if (!target) return;
  const occurredAt = new Date(Math.round(event.timestamp * 1000));
  const receivedAt = toDate(record.receivedAt);
  const facts = describeIssue(event);
  if (target.created) {
    const counter = await db.query<{ next_short_id: number }>(
      `INSERT INTO project_counters (project_id, next_short_id) VALUES ($1, 2)
       ON CONFLICT (project_id) DO UPDATE SET next_short_id = project_counters.next_short_id + 1 RETURNING next_short_id - 1 AS next_short_id`,
      [record.projectId],
    );
    await db.query(
      `INSERT INTO groups (id, project_id, short_id, title, culprit, type, metadata, level, platform, logger, first_seen, last_seen, times_seen, grouping_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 0, $12)`,
      [target.groupId, record.projectId, counter.rows[0]!.next_short_id, facts.title, facts.culprit, facts.type, facts.metadata, event.level, event.platform, event.logger ?? null, receivedAt, grouping.version],
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
  await db.query(
    `INSERT INTO events (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, message, release, environment, user_ident, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [record.projectId, record.eventId, target.groupId, receivedAt, occurredAt, event.level, event.platform, facts.title, event.message ?? '', event.release ?? null, event.environment ?? null, userIdentity(event) ?? null, record.payload],
  );
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

/** Hides the group at once and tombstones its hashes (Sentry's GroupHashTombstone). */
async function applyGroupDeletionRequested(db: PoolClient, record: GroupDeletionRequested): Promise<void> {
  await db.query(`UPDATE groups SET status = 'pending_deletion' WHERE id = $1 AND project_id = $2`, [record.groupId, record.projectId]);
  await db.query(
    `INSERT INTO group_hash_tombstones (project_id, hash, group_id, requested_at)
     SELECT $1, hash, $2, $3 FROM unnest($4::text[]) AS t(hash) ON CONFLICT DO NOTHING`,
    [record.projectId, record.groupId, toDate(record.requestedAt), record.hashes],
  );
  await db.query('DELETE FROM group_hashes WHERE project_id = $1 AND group_id = $2', [record.projectId, record.groupId]);
}

async function applyEventDeletionRequested(db: PoolClient, record: EventDeletionRequested): Promise<void> {
  await db.query('UPDATE events SET pending_deletion = true WHERE project_id = $1 AND event_id = $2', [record.projectId, record.eventId]);
}
