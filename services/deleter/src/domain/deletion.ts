import { planAttemptFailure } from '@trapline/runtime';
import type { AuditEntry, DeletionFailed, DeletionStep, EventDeletionRequested, EventsPurged, GroupDeletionRequested, RetentionRequested } from '@trapline/schemas';
import { eventKeys } from '@trapline/schemas';

// The deletion pipeline's decisions, pure: when a request is due, what one chunk removes, what
// follows a failure. The adapter reads the clock and Postgres and writes what these return.

export interface DeletionSettings {
  delayMs: number;
  chunkSize: number;
  /** Events per chunk of an expiry, which erases log records only (the partitions go at the end). */
  expiryChunkSize: number;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export type DeletionRequest =
  | { name: 'GroupDeletionRequested'; value: GroupDeletionRequested }
  | { name: 'EventDeletionRequested'; value: EventDeletionRequested }
  | { name: 'RetentionRequested'; value: RetentionRequested };

/** Where the request sits on the events topic: the deleter waits until the projector has applied it. */
export interface LogPosition {
  partition: number;
  offset: string;
}

/**
 * The step held on the delay topic until the deletion delay has passed. Retention is due at once:
 * its data has already outlived what the project keeps, and nobody needs a moment to undo it.
 */
export function scheduleDeletion(request: DeletionRequest, position: LogPosition, settings: Pick<DeletionSettings, 'delayMs'>): DeletionStep {
  const { value } = request;
  const target =
    request.name === 'GroupDeletionRequested'
      ? { kind: 'group' as const, groupId: request.value.groupId, eventId: null, cutoff: null, dueAt: value.requestedAt + settings.delayMs }
      : request.name === 'EventDeletionRequested'
        ? { kind: 'event' as const, groupId: null, eventId: request.value.eventId, cutoff: null, dueAt: value.requestedAt + settings.delayMs }
        : { kind: request.value.allProjects ? ('expiry' as const) : ('retention' as const), groupId: null, eventId: null, cutoff: request.value.cutoff, dueAt: value.requestedAt };
  return {
    transactionId: value.transactionId,
    projectId: value.projectId,
    ...target,
    actor: value.actor,
    requestedAt: value.requestedAt,
    requestPartition: position.partition,
    requestOffset: position.offset,
    attempt: 0,
    cursor: null,
    chunks: 0,
    eventsRemoved: 0,
    rowsRemoved: 0,
    lastError: null,
    issues: 0,
  };
}

/**
 * What one chunk found to remove: event ids in order, the read-model rows they carry (events and
 * tags), where the next chunk starts, and (retention, first chunk) the issues that go entirely.
 */
export interface ChunkFound {
  eventIds: string[];
  rows: number;
  cursor: string | null;
  issues?: number;
  /** Expiry: the project the chunk's events belong to (a chunk never spans two). */
  projectId?: number;
  /** Expiry: whether nothing is left after this chunk (its chunks end at project changes, not only when short). */
  final?: boolean;
}

export interface ChunkPlan {
  purged: EventsPurged;
  /** The next chunk's step for the run topic, or null when this chunk completes the deletion. */
  next: DeletionStep | null;
}

/**
 * One chunk: purge what was found; a chunk shorter than the chunk size (or a single event's
 * deletion) is the last, and for an issue it also takes the issue's row.
 */
export function planChunk(step: DeletionStep, found: ChunkFound, settings: Pick<DeletionSettings, 'chunkSize'>, now: number): ChunkPlan {
  const final = found.final ?? (step.kind === 'event' || found.eventIds.length < settings.chunkSize);
  const eventsRemoved = step.eventsRemoved + found.eventIds.length;
  const rowsRemoved = step.rowsRemoved + found.rows + (final && step.kind === 'group' ? 1 : 0);
  const purged: EventsPurged = {
    projectId: found.projectId ?? step.projectId,
    transactionId: step.transactionId,
    groupId: step.groupId,
    eventIds: found.eventIds,
    chunk: step.chunks,
    final,
    eventsRemoved,
    rowsRemoved,
    purgedAt: now,
    expiredBefore: step.kind === 'expiry' ? step.cutoff : null,
  };
  if (final) return { purged, next: null };
  return {
    purged,
    next: { ...step, attempt: 0, lastError: null, dueAt: now, cursor: found.cursor ?? step.cursor, chunks: step.chunks + 1, eventsRemoved, rowsRemoved, issues: found.issues ?? step.issues },
  };
}


export type FailurePlan =
  | { outcome: 'retry'; step: DeletionStep; failed: DeletionFailed }
  | { outcome: 'dead'; step: DeletionStep; failed: DeletionFailed };

/** A failed chunk goes to the retry topic with a growing delay; after the last attempt, to the DLQ. */
export function planFailure(step: DeletionStep, reason: string, settings: DeletionSettings, now: number): FailurePlan {
  const { outcome, attempt, dueAt } = planAttemptFailure(step.attempt, settings, now);
  const dead = outcome === 'dead';
  const failed: DeletionFailed = { projectId: step.projectId, transactionId: step.transactionId, attempt, reason, dead, failedAt: now };
  const next: DeletionStep = { ...step, attempt, lastError: reason, dueAt };
  return dead ? { outcome: 'dead', step: next, failed } : { outcome: 'retry', step: next, failed };
}

/** "Not now" (the projector has not applied the request yet): try again later, not a failed attempt. */
export function planWait(step: DeletionStep, reason: string, settings: Pick<DeletionSettings, 'backoffMs'>, now: number): DeletionStep {
  return { ...step, lastError: reason, dueAt: now + settings.backoffMs };
}

/** A dead letter sent back by an operator: a fresh set of attempts, due now. */
export function redrive(step: DeletionStep, now: number): DeletionStep {
  return { ...step, attempt: 0, lastError: null, dueAt: now };
}

const AUDIT_EVENT = { group: 'issue.delete', event: 'event.delete', retention: 'retention.cleanup', expiry: 'retention.cleanup' } as const;

const targetOf = (step: DeletionStep) => (step.kind === 'group' ? String(step.groupId) : step.kind === 'event' ? step.eventId : String(step.projectId));

/** The audit entry written when the deleter takes a request in. */
export function requestedAudit(step: DeletionStep, organizationSlug: string, target: Record<string, unknown>): AuditEntry {
  return {
    id: `${step.transactionId}:requested`,
    organizationSlug,
    projectId: step.projectId,
    event: AUDIT_EVENT[step.kind],
    actor: step.actor,
    transactionId: step.transactionId,
    targetObject: targetOf(step),
    data: JSON.stringify({ ...target, requestedAt: new Date(step.requestedAt).toISOString(), scheduledFor: new Date(step.dueAt).toISOString() }),
    createdAt: step.requestedAt,
  };
}

/**
 * The one completion entry of a transaction, written with its final chunk. For retention it is the
 * run's only entry: a summary per project, never one per event.
 */
export function completedAudit(step: DeletionStep, purged: EventsPurged, organizationSlug: string): AuditEntry {
  const retention = step.kind === 'retention';
  return {
    id: `${step.transactionId}:completed`,
    organizationSlug,
    projectId: step.projectId,
    event: retention ? AUDIT_EVENT.retention : `${AUDIT_EVENT[step.kind]}.completed`,
    actor: step.actor,
    transactionId: step.transactionId,
    targetObject: targetOf(step),
    data: JSON.stringify({
      ...(retention ? { cutoff: new Date(step.cutoff!).toISOString(), issuesRemoved: step.issues } : {}),
      eventsRemoved: purged.eventsRemoved,
      rowsRemoved: purged.rowsRemoved,
      logRecordsRemoved: purged.eventsRemoved,
      chunks: purged.chunk + 1,
      requestedAt: new Date(step.requestedAt).toISOString(),
      completedAt: new Date(purged.purgedAt).toISOString(),
    }),
    createdAt: purged.purgedAt,
  };
}

/** What an expiry removed for one project, counted just before its final chunk. */
export interface ExpiredProject {
  projectId: number;
  organizationSlug: string;
  events: number;
  tags: number;
  issues: number;
}

/**
 * An expiry's completion: one retention summary per project it removed anything of (never one per
 * event), as a per-project retention run writes.
 */
export function expiryAudits(step: DeletionStep, purged: EventsPurged, projects: ExpiredProject[], partitionsDropped: number): AuditEntry[] {
  return projects.map((project) => ({
    id: `${step.transactionId}:completed:${project.projectId}`,
    organizationSlug: project.organizationSlug,
    projectId: project.projectId,
    event: AUDIT_EVENT.expiry,
    actor: step.actor,
    transactionId: step.transactionId,
    targetObject: String(project.projectId),
    data: JSON.stringify({
      cutoff: new Date(step.cutoff!).toISOString(),
      issuesRemoved: project.issues,
      eventsRemoved: project.events,
      rowsRemoved: project.events + project.tags,
      logRecordsRemoved: project.events,
      partitionsDropped,
      requestedAt: new Date(step.requestedAt).toISOString(),
      completedAt: new Date(purged.purgedAt).toISOString(),
    }),
    createdAt: purged.purgedAt,
  }));
}

/** Keys on the events topic: unique per record, partitioned by project like everything else there. */
export const eventsTopicKeys = {
  erasure: eventKeys.event,
  purge: (purged: EventsPurged) => eventKeys.purge(purged.projectId, purged.transactionId, purged.chunk),
  failure: (step: DeletionStep) => eventKeys.failure(step.projectId, step.transactionId, step.chunks),
};
