import { lockEventPartitionsBefore, truncateEventPartitions, type PoolClient } from '@trapline/runtime';
import type { AuditEntry, DeletionFailed, DomainRecord, EventDeletionRequested, EventsPurged, GroupDeletionRequested, GroupStatusChanged, NormalizedEvent, RetentionRequested } from '@trapline/schemas';
import { describeIssue } from '../domain/issue.ts';
import { applyEvents, newProjection, parseEvents, PoisonRecord, type Projection } from './events.ts';
import { applyArtifactBundleAssembled, applyDeployCreated, applyReleaseUpserted, applyRepositoryUpserted } from './releases.ts';
import { applyAlerting } from './alerting.ts';
import { expireTagValues, removeEventTags } from './tag-values.ts';

// Applies one decoded record to the read models inside the caller's transaction. Every effect
// is idempotent (keyed by event id, entity key or group id), so redelivery changes nothing; an
// issue's status also remembers the offset that set it, so an older status change applied again
// cannot undo what came after it.

const toDate = (epochMs: number) => new Date(epochMs);

export { PoisonRecord };

/**
 * `offset` is the record's offset in its partition (all of a project's records share one); -1 when
 * unknown (tests applying records by hand): a status change then applies only to issues whose
 * status no known offset set.
 */
export async function applyRecord(db: PoolClient, record: DomainRecord, projection: Projection = newProjection(), offset = -1): Promise<void> {
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
    case 'ProjectRetentionChanged': {
      const { projectId, retentionDays } = record.value;
      if (retentionDays === null) await db.query('DELETE FROM project_retention WHERE project_id = $1', [projectId]);
      else await db.query('INSERT INTO project_retention (project_id, retention_days) VALUES ($1, $2) ON CONFLICT (project_id) DO UPDATE SET retention_days = EXCLUDED.retention_days', [projectId, retentionDays]);
      return;
    }
    case 'ProjectAllowedOriginsChanged': {
      const { projectId, allowedOrigins } = record.value;
      if (allowedOrigins === null) await db.query('DELETE FROM project_allowed_origins WHERE project_id = $1', [projectId]);
      else await db.query('INSERT INTO project_allowed_origins (project_id, origins) VALUES ($1, $2) ON CONFLICT (project_id) DO UPDATE SET origins = EXCLUDED.origins', [projectId, allowedOrigins]);
      return;
    }
    case 'ProjectKeyUpserted': {
      const { publicKey, secretKey, projectId, label, active, createdAt, rateLimit } = record.value;
      await db.query(
        `INSERT INTO project_keys (public_key, secret_key, project_id, label, active, created_at, rate_limit_count, rate_limit_window) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (public_key) DO UPDATE SET label = EXCLUDED.label, active = EXCLUDED.active, rate_limit_count = EXCLUDED.rate_limit_count, rate_limit_window = EXCLUDED.rate_limit_window`,
        [publicKey, secretKey, projectId, label, active, toDate(createdAt), rateLimit?.count ?? null, rateLimit?.window ?? null],
      );
      return;
    }
    case 'TeamUpserted': {
      const { teamId, organizationSlug, slug, name, createdAt } = record.value;
      await db.query(
        `INSERT INTO teams (id, organization_slug, slug, name, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name`,
        [teamId, organizationSlug, slug, name, toDate(createdAt)],
      );
      return;
    }
    case 'TeamMemberUpserted': {
      const { teamId, memberId, organizationSlug, teamRole, addedAt } = record.value;
      await db.query(
        `INSERT INTO team_members (team_id, member_id, organization_slug, team_role, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (team_id, member_id) DO UPDATE SET team_role = EXCLUDED.team_role`,
        [teamId, memberId, organizationSlug, teamRole, toDate(addedAt)],
      );
      return;
    }
    case 'ProjectTeamsChanged': {
      const { projectId, teamIds } = record.value;
      await db.query('DELETE FROM project_teams WHERE project_id = $1 AND NOT (team_id = ANY($2::bigint[]))', [projectId, teamIds]);
      await db.query('INSERT INTO project_teams (project_id, team_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING', [projectId, teamIds]);
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
    case 'ReleaseUpserted':
      return applyReleaseUpserted(db, record.value);
    case 'DeployCreated':
      return applyDeployCreated(db, record.value);
    case 'RepositoryUpserted':
      return applyRepositoryUpserted(db, record.value);
    case 'ArtifactBundleAssembled':
      return applyArtifactBundleAssembled(db, record.value);
    case 'UserUpserted': {
      const { userId, email, name, passwordHash, createdAt } = record.value;
      await db.query(
        `INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, password_hash = EXCLUDED.password_hash`,
        [userId, email, name, passwordHash, toDate(createdAt)],
      );
      return;
    }
    case 'MemberUpserted': {
      const { memberId, organizationSlug, userId, email, role, inviteTokenHash, inviteExpiresAt, invitedBy, createdAt } = record.value;
      await db.query(
        `INSERT INTO members (id, organization_slug, user_id, email, role, invite_token_hash, invite_expires_at, invited_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, email = EXCLUDED.email, role = EXCLUDED.role, invite_token_hash = EXCLUDED.invite_token_hash, invite_expires_at = EXCLUDED.invite_expires_at`,
        [memberId, organizationSlug, userId, email, role, inviteTokenHash, inviteExpiresAt === null ? null : toDate(inviteExpiresAt), invitedBy, toDate(createdAt)],
      );
      return;
    }
    case 'UserTokenUpserted': {
      const { tokenId, tokenHash, userId, scopes, label, active, createdAt } = record.value;
      await db.query(
        `INSERT INTO user_tokens (id, token_hash, user_id, scopes, label, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET scopes = EXCLUDED.scopes, label = EXCLUDED.label, active = EXCLUDED.active`,
        [tokenId, tokenHash, userId, scopes, label, active, toDate(createdAt)],
      );
      return;
    }
    case 'EventReceived': {
      const [parsed] = parseEvents([record.value], [offset]);
      if (!parsed!.ok) throw new PoisonRecord(parsed!.reason);
      return applyEvents(db, [parsed!.parsed], projection);
    }
    case 'GroupStatusChanged':
      return applyStatusChange(db, record.value, offset);
    case 'GroupDeletionRequested':
      return applyGroupDeletionRequested(db, record.value);
    case 'EventDeletionRequested':
      return applyEventDeletionRequested(db, record.value);
    case 'RetentionRequested':
      // An expiry moves the horizon when it is requested, before the deleter walks what is there: an
      // old event that arrives meanwhile is refused and erased, never left behind in a dropped partition.
      if (record.value.allProjects) await setExpiryHorizon(db, toDate(record.value.cutoff));
      return recordDeletionRequested(db, record.value);
    case 'EventsPurged':
      return applyEventsPurged(db, record.value, projection);
    case 'DeletionFailed':
      return applyDeletionFailed(db, record.value);
    case 'AuditEntry':
      return applyAuditEntry(db, record.value);
    case 'AlertRuleUpserted':
    case 'ServiceHookUpserted':
    case 'ProjectAlertEmailsChanged':
    case 'AlertDeliveryChanged':
      return applyAlerting(db, record);
    case 'DeletionStep':
    case 'AlertDelivery':
    case 'NotifierIssueState':
    case 'NotifierPosition':
      throw new PoisonRecord(`${record.name} belongs on its service's own topics, not a projected one`);
  }
}

/**
 * Admin entities whose removal is a null-value record under their key (compaction then erases
 * them): the key's pattern, and the statements its captures feed. A removed member leaves every
 * team too, whether or not the null values of its team memberships follow.
 */
const REMOVABLE: readonly { key: RegExp; sql: readonly string[] }[] = [
  { key: /^user\/([^/]+)$/, sql: ['DELETE FROM users WHERE id = $1'] },
  { key: /^member\/([^/]+)$/, sql: ['DELETE FROM members WHERE id = $1', 'DELETE FROM team_members WHERE member_id = $1'] },
  { key: /^user-token\/([^/]+)$/, sql: ['DELETE FROM user_tokens WHERE id = $1'] },
  { key: /^team\/(\d+)\/member\/([^/]+)$/, sql: ['DELETE FROM team_members WHERE team_id = $1 AND member_id = $2'] },
];

/** A null-value record on the admin topic: removes the entity its key names; other keys have no row to remove. */
export async function applyAdminTombstone(db: PoolClient, key: string): Promise<void> {
  for (const entity of REMOVABLE) {
    const captured = entity.key.exec(key);
    if (!captured) continue;
    for (const sql of entity.sql) await db.query(sql, captured.slice(1));
    return;
  }
}

/** A resolution remembers its release, if it names one: it decides which later events regress. */
async function applyStatusChange(db: PoolClient, record: GroupStatusChanged, offset: number): Promise<void> {
  const resolved = record.status === 'resolved';
  await db.query(
    `UPDATE groups SET status = $3, status_offset = $4, resolved_in_release = $5, resolved_in_next_release = $6, resolved_at = $7
     WHERE id = $1 AND project_id = $2 AND status <> 'pending_deletion' AND status_offset <= $4`,
    [record.groupId, record.projectId, record.status, offset, resolved ? (record.inRelease ?? null) : null, resolved ? (record.inNextRelease ?? null) : null, resolved ? toDate(record.changedAt) : null],
  );
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
  const hidden = located.rows[0]
    ? await db.query<{ received_at: Date; group_id: number }>(
        'UPDATE events SET pending_deletion = true WHERE project_id = $1 AND event_id = $2 AND received_at = $3 AND NOT pending_deletion RETURNING received_at, group_id',
        [record.projectId, record.eventId, located.rows[0].received_at],
      )
    : { rows: [] };
  // A hidden event no longer counts, in its issue or its tags: its issue is recounted and its tag
  // rows go now; its purge takes the event itself. (So an issue's count is always its visible
  // events, whatever removes the hidden one later: its purge or an expiry.)
  if (hidden.rows.length > 0) {
    await removeEventTags(db, record.projectId, [record.eventId], hidden.rows.map((row) => row.received_at));
    await recomputeGroup(db, hidden.rows[0]!.group_id);
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
async function applyEventsPurged(db: PoolClient, record: EventsPurged, projection: Projection): Promise<void> {
  const { projectId, eventIds } = record;
  if (record.expiredBefore !== null) {
    // An expiry's chunks only erase log records; its last one empties the partitions at once.
    if (record.final) await expire(db, record.expiredBefore, projection);
    await recordProgress(db, record);
    return;
  }
  // The directory names each event's received time: the deletes below touch only its partitions.
  const located = await db.query<{ received_at: Date }>('DELETE FROM event_ids WHERE project_id = $1 AND event_id = ANY($2) RETURNING received_at', [projectId, eventIds]);
  const times = [...new Set(located.rows.map((row) => row.received_at.getTime()))].map((at) => new Date(at));
  // A deleted issue is hidden as a whole: its tag values go with it at the end, not value by value.
  if (record.groupId !== null) await db.query('DELETE FROM event_tags WHERE project_id = $1 AND event_id = ANY($2) AND received_at = ANY($3)', [projectId, eventIds, times]);
  else await removeEventTags(db, projectId, eventIds, times);
  const removed = await db.query<{ group_id: number }>('DELETE FROM events WHERE project_id = $1 AND event_id = ANY($2) AND received_at = ANY($3) RETURNING group_id', [projectId, eventIds, times]);
  if (record.groupId !== null) {
    if (record.final) {
      await db.query('DELETE FROM group_tag_values WHERE group_id = $1', [record.groupId]);
      await db.query('DELETE FROM groups WHERE id = $1 AND project_id = $2', [record.groupId, projectId]);
    }
  } else {
    for (const groupId of new Set(removed.rows.map((row) => row.group_id))) await recomputeGroup(db, groupId);
  }
  await recordProgress(db, record);
}

async function recordProgress(db: PoolClient, record: EventsPurged): Promise<void> {
  await db.query(
    `UPDATE deletions SET state = $2, chunks = $3, events_removed = $4, rows_removed = $5, last_error = NULL, updated_at = $6, completed_at = $7
     WHERE transaction_id = $1`,
    [record.transactionId, record.final ? 'done' : 'running', record.chunk + 1, record.eventsRemoved, record.rowsRemoved, toDate(record.purgedAt), record.final ? toDate(record.purgedAt) : null],
  );
}

/**
 * Everything received before `before` (a partition boundary) goes for every project, as a rebuild
 * of the erased log would have it: each issue loses the events it had there (an issue left with
 * none goes, the others start at their oldest remaining event), the directory forgets them, and
 * the partitions are emptied at once (TRUNCATE) and dropped after: no row-by-row delete of the
 * events and tags themselves.
 */
async function expire(db: PoolClient, before: number, projection: Projection): Promise<void> {
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
  projection.partitionsEmptied = true; // the consumer drops the empty tables once this commits
  await settleTags();
  const groups = touched.rows.map((row) => row.group_id);
  if (groups.length === 0) return;
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
}

/** From here on an event received before `cutoff` is expired on arrival (refused and erased from the log). */
async function setExpiryHorizon(db: PoolClient, cutoff: Date): Promise<void> {
  await db.query(
    `INSERT INTO events_expired (before) VALUES ($1) ON CONFLICT (singleton) DO UPDATE SET before = GREATEST(events_expired.before, EXCLUDED.before)`,
    [cutoff],
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
