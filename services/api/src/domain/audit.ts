import type { AuditRow, DeletionRow } from '@trapline/runtime';
// Rows of the audit log and the deletions read model → Sentry's Web API shapes. Pure.

/** The audit events Trapline records: Sentry's `options` of the audit-log list. */
export const AUDIT_EVENTS = ['issue.delete', 'issue.delete.completed', 'event.delete', 'event.delete.completed', 'member.invite', 'member.accept', 'member.edit', 'member.remove', 'member.join-team', 'member.leave-team'] as const;

export type ActorType = 'token' | 'system' | 'user' | 'unknown';

/** The people named by `user:<id>` actors, as the users read model knows them now (a removed user: none). */
export type ActorUsers = ReadonlyMap<string, { id: string; email: string; name: string }>;

/**
 * Sentry's audit actor is a user object; ours are strings such as `token:<first 12 hex of the
 * token's hash>` or `system:retention`. The whole string is the id (what `?actor=` matches).
 */
export function auditActor(actor: string, users: ActorUsers = new Map()): { id: string; name: string; type: ActorType; email?: string | null; user?: { id: string; email: string; name: string } | null } {
  const colon = actor.indexOf(':');
  const [kind, rest] = colon > 0 ? [actor.slice(0, colon), actor.slice(colon + 1)] : ['', actor];
  if (kind === 'user') {
    const user = users.get(rest) ?? null;
    return { id: actor, name: user?.name ?? `removed user ${rest}`, type: 'user', email: user?.email ?? null, user: user && { id: user.id, email: user.email, name: user.name } };
  }
  if (kind === 'token') return { id: actor, name: `API token ${rest}`, type: 'token' };
  if (kind === 'system') return { id: actor, name: `Trapline ${rest}`, type: 'system' };
  return { id: actor, name: actor, type: 'unknown' };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);

function removedCounts(data: Record<string, unknown>): string {
  const counts = Object.entries({ events: text(data.eventsRemoved), rows: text(data.rowsRemoved) }).flatMap(([noun, count]) => (count === undefined ? [] : [`${count} ${noun}`]));
  return counts.length > 0 ? ` (${counts.join(', ')} removed)` : '';
}

/** Sentry's `note`: the entry as one human sentence. */
export function auditNote(row: Pick<AuditRow, 'event' | 'target_object' | 'data'>): string {
  const { data } = row;
  const issue = text(data.shortId) ?? text(data.issueId) ?? row.target_object ?? '';
  const issueTitle = text(data.title) === undefined ? '' : ` (${text(data.title)})`;
  const event = text(data.eventId) ?? row.target_object ?? '';
  switch (row.event) {
    case 'issue.delete':
      return `requested deletion of issue ${issue}${issueTitle}`;
    case 'issue.delete.completed':
      return `deleted issue ${issue}${removedCounts(data)}`;
    case 'event.delete':
      return `requested deletion of event ${event}`;
    case 'event.delete.completed':
      return `deleted event ${event}${removedCounts(data)}`;
    case 'member.invite':
      return `invited member ${text(data.email) ?? ''} as ${text(data.orgRole) ?? ''}`;
    case 'member.accept':
      return `joined as ${text(data.orgRole) ?? ''}`;
    case 'member.edit':
      return `changed the role of ${text(data.email) ?? ''} to ${text(data.orgRole) ?? ''}`;
    case 'member.remove':
      return `removed member ${text(data.email) ?? ''}`;
    case 'member.join-team':
      return `added member ${text(data.email) ?? ''} to team ${text(data.teamSlug) ?? ''}`;
    case 'member.leave-team':
      return `removed member ${text(data.email) ?? ''} from team ${text(data.teamSlug) ?? ''}`;
    default:
      return row.event;
  }
}

/** Sentry's target object is an id number; an event id has none, so it stays a string. */
const targetObject = (target: string | null): number | string | null => (target !== null && /^\d+$/.test(target) && Number.isSafeInteger(Number(target)) ? Number(target) : target);

/** One row of Sentry's "List an Organization's Audit Log" (`rows[]`). */
export function serializeAuditEntry(row: AuditRow, users?: ActorUsers) {
  return {
    id: row.id,
    actor: auditActor(row.actor, users),
    event: row.event,
    ipAddress: null,
    note: auditNote(row),
    targetObject: targetObject(row.target_object),
    targetUser: null,
    data: row.data,
    dateCreated: row.created_at.toISOString(),
    // Trapline's own: which deletion (or other transaction) the entry belongs to.
    transactionId: row.transaction_id,
  };
}

/** A deletion's status with its audit trail (oldest first). */
export function serializeDeletion(row: DeletionRow, trail: AuditRow[], users?: ActorUsers) {
  return {
    transactionId: row.transaction_id,
    kind: row.kind,
    status: row.state,
    projectId: String(row.project_id),
    projectSlug: row.project_slug,
    issueId: row.group_id,
    eventId: row.event_id,
    actor: auditActor(row.actor, users),
    dateRequested: row.requested_at.toISOString(),
    dateCompleted: row.completed_at?.toISOString() ?? null,
    attempts: row.attempts,
    lastError: row.last_error,
    progress: { chunks: row.chunks, eventsRemoved: row.events_removed, rowsRemoved: row.rows_removed },
    audit: trail.map((entry) => serializeAuditEntry(entry, users)),
  };
}
