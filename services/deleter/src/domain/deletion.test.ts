import { describe, expect, it } from 'vitest';
import { backoffMs, completedAudit, expiryAudits, planChunk, planFailure, planWait, redrive, requestedAudit, scheduleDeletion, type DeletionSettings } from './deletion.ts';

const settings: DeletionSettings = { delayMs: 3_600_000, chunkSize: 3, expiryChunkSize: 2, maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 5000 };
const requestedAt = 1_700_000_000_000;
const groupRequest = { name: 'GroupDeletionRequested' as const, value: { projectId: 4, groupId: 77, hashes: ['h'], transactionId: 'a'.repeat(32), actor: 'token:abc', requestedAt } };
const eventRequest = { name: 'EventDeletionRequested' as const, value: { projectId: 4, eventId: 'e'.repeat(32), transactionId: 'b'.repeat(32), actor: 'token:abc', requestedAt } };
const retentionRequest = { name: 'RetentionRequested' as const, value: { projectId: 4, transactionId: 'c'.repeat(32), cutoff: requestedAt - 1000, actor: 'system:retention', requestedAt, allProjects: false } };
const at = { partition: 2, offset: '41' };

describe('scheduling a deletion', () => {
  it('holds an issue deletion until the deletion delay has passed', () => {
    const step = scheduleDeletion(groupRequest, at, settings);
    expect(step).toMatchObject({ kind: 'group', groupId: 77, eventId: null, dueAt: requestedAt + 3_600_000, requestPartition: 2, requestOffset: '41', attempt: 0, chunks: 0, cursor: null });
  });

  it('names the event of a single-event deletion', () => {
    expect(scheduleDeletion(eventRequest, at, settings)).toMatchObject({ kind: 'event', groupId: null, eventId: 'e'.repeat(32) });
  });
});

describe('chunks', () => {
  const step = scheduleDeletion(groupRequest, at, settings);

  it('continues after a full chunk from the last event id, counting what it removed', () => {
    const { purged, next } = planChunk(step, { eventIds: ['1', '2', '3'], rows: 9, cursor: '3' }, settings, 50);
    expect(purged).toMatchObject({ chunk: 0, final: false, eventIds: ['1', '2', '3'], eventsRemoved: 3, rowsRemoved: 9, groupId: 77 });
    expect(next).toMatchObject({ cursor: '3', chunks: 1, eventsRemoved: 3, rowsRemoved: 9, dueAt: 50, attempt: 0 });
  });

  it('completes on a short chunk, and the issue row counts among the rows removed', () => {
    const second = planChunk(step, { eventIds: ['1', '2', '3'], rows: 9, cursor: '3' }, settings, 50).next!;
    const { purged, next } = planChunk(second, { eventIds: ['4'], rows: 2, cursor: '4' }, settings, 60);
    expect(next).toBeNull();
    expect(purged).toMatchObject({ chunk: 1, final: true, eventsRemoved: 4, rowsRemoved: 12 });
  });

  it('completes an empty issue in one chunk', () => {
    expect(planChunk(step, { eventIds: [], rows: 0, cursor: null }, settings, 1)).toMatchObject({ next: null, purged: { final: true, eventsRemoved: 0, rowsRemoved: 1 } });
  });

  it('completes a single-event deletion in one chunk', () => {
    const { purged, next } = planChunk(scheduleDeletion(eventRequest, at, settings), { eventIds: ['e'.repeat(32)], rows: 4, cursor: null }, settings, 1);
    expect(next).toBeNull();
    expect(purged).toMatchObject({ final: true, groupId: null, eventsRemoved: 1, rowsRemoved: 4 });
  });
});

describe('failures', () => {
  const step = scheduleDeletion(groupRequest, at, settings);

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 5000],
    [10, 5000],
  ])('backs off attempt %i by %i ms', (attempt, expected) => {
    expect(backoffMs(attempt, settings)).toBe(expected);
  });

  it('retries with a growing delay, then dead-letters after the last attempt', () => {
    const first = planFailure(step, 'connection refused', settings, 100);
    expect(first).toMatchObject({ outcome: 'retry', step: { attempt: 1, dueAt: 1100, lastError: 'connection refused' }, failed: { attempt: 1, dead: false } });
    const second = planFailure(first.step, 'connection refused', settings, 2000);
    expect(second).toMatchObject({ outcome: 'retry', step: { attempt: 2, dueAt: 4000 } });
    const third = planFailure(second.step, 'connection refused', settings, 5000);
    expect(third).toMatchObject({ outcome: 'dead', step: { attempt: 3 }, failed: { dead: true, reason: 'connection refused' } });
  });

  it('keeps the progress of a failed chunk, so a retry resumes where it stopped', () => {
    const running = planChunk(step, { eventIds: ['1', '2', '3'], rows: 3, cursor: '3' }, settings, 1).next!;
    expect(planFailure(running, 'boom', settings, 2).step).toMatchObject({ cursor: '3', chunks: 1, eventsRemoved: 3 });
  });

  it('waits for the projector without spending an attempt', () => {
    expect(planWait(step, 'waiting', settings, 10)).toMatchObject({ attempt: 0, dueAt: 1010, lastError: 'waiting' });
  });

  it('re-drives a dead letter with fresh attempts, due at once', () => {
    const dead = planFailure({ ...step, attempt: 2 }, 'x', settings, 5).step;
    expect(redrive(dead, 99)).toMatchObject({ attempt: 0, lastError: null, dueAt: 99, transactionId: step.transactionId });
  });
});

describe('audit entries', () => {
  const step = scheduleDeletion(groupRequest, at, settings);

  it('records who asked for what and when, with one id per transaction and phase', () => {
    const entry = requestedAudit(step, 'acme', { issueId: '77', title: 'TypeError' });
    expect(entry).toMatchObject({ id: `${'a'.repeat(32)}:requested`, organizationSlug: 'acme', event: 'issue.delete', actor: 'token:abc', targetObject: '77', createdAt: requestedAt });
    expect(JSON.parse(entry.data)).toMatchObject({ issueId: '77', title: 'TypeError', requestedAt: new Date(requestedAt).toISOString() });
  });

  it('records how much the completed deletion removed', () => {
    const { purged } = planChunk(step, { eventIds: ['1'], rows: 2, cursor: '1' }, settings, requestedAt + 5000);
    const entry = completedAudit(step, purged, 'acme');
    expect(entry).toMatchObject({ id: `${'a'.repeat(32)}:completed`, event: 'issue.delete.completed', createdAt: requestedAt + 5000 });
    expect(JSON.parse(entry.data)).toMatchObject({ eventsRemoved: 1, rowsRemoved: 3, logRecordsRemoved: 1, chunks: 1 });
    expect(completedAudit(scheduleDeletion(eventRequest, at, settings), purged, 'acme').event).toBe('event.delete.completed');
  });
});

describe('retention', () => {
  const step = scheduleDeletion(retentionRequest, at, settings);

  it('is due at once, with its cutoff, whatever the deletion delay', () => {
    expect(step).toMatchObject({ kind: 'retention', groupId: null, eventId: null, cutoff: requestedAt - 1000, dueAt: requestedAt });
  });

  it('walks the events by the cursor the chunk found, keeps the issue count of its first chunk, and leaves no issue row to count', () => {
    const { purged, next } = planChunk(step, { eventIds: ['1', '2', '3'], rows: 6, cursor: '1700:3', issues: 2 }, settings, 10);
    expect(purged).toMatchObject({ groupId: null, final: false, rowsRemoved: 6 });
    expect(next).toMatchObject({ cursor: '1700:3', issues: 2, chunks: 1 });
    const last = planChunk(next!, { eventIds: [], rows: 0, cursor: null }, settings, 20);
    expect(last).toMatchObject({ next: null, purged: { final: true, eventsRemoved: 3, rowsRemoved: 6 } });
  });

  it('is audited by one summary per project and run: cutoff, issues, events, rows and log records removed', () => {
    const running = planChunk(step, { eventIds: ['1', '2', '3'], rows: 6, cursor: '1700:3', issues: 2 }, settings, 10).next!;
    const { purged } = planChunk(running, { eventIds: ['4'], rows: 2, cursor: '1800:4' }, settings, 20);
    const entry = completedAudit(running, purged, 'acme');
    expect(entry).toMatchObject({ event: 'retention.cleanup', actor: 'system:retention', targetObject: '4', projectId: 4 });
    expect(JSON.parse(entry.data)).toMatchObject({ cutoff: new Date(requestedAt - 1000).toISOString(), issuesRemoved: 2, eventsRemoved: 4, rowsRemoved: 8, logRecordsRemoved: 4 });
  });
});

describe('expiry (every project, whole partitions)', () => {
  const request = { name: 'RetentionRequested' as const, value: { projectId: 0, transactionId: 'd'.repeat(32), cutoff: requestedAt - 86_400_000, actor: 'system:retention', requestedAt, allProjects: true } };
  const step = scheduleDeletion(request, at, settings);

  it('is due at once, for every project, with its partition boundary as the cutoff', () => {
    expect(step).toMatchObject({ kind: 'expiry', projectId: 0, cutoff: requestedAt - 86_400_000, dueAt: requestedAt });
  });

  it('purges one project per chunk, keyed under that project, and ends when the chunk found says nothing is left', () => {
    const first = planChunk(step, { eventIds: ['a', 'b'], rows: 0, cursor: '3:b', projectId: 3, final: false }, settings, 10);
    expect(first.purged).toMatchObject({ projectId: 3, eventIds: ['a', 'b'], final: false, expiredBefore: requestedAt - 86_400_000 });
    // A chunk shorter than the chunk size is not the last when the next project's events follow.
    const second = planChunk(first.next!, { eventIds: ['c'], rows: 0, cursor: '3:c', projectId: 3, final: false }, settings, 20);
    expect(second.purged.final).toBe(false);
    const last = planChunk(second.next!, { eventIds: ['a'], rows: 0, cursor: '5:a', projectId: 5, final: true }, settings, 30);
    expect(last).toMatchObject({ next: null, purged: { projectId: 5, final: true, eventsRemoved: 4, chunk: 2 } });
  });

  it('other deletions carry no expiry boundary', () => {
    expect(planChunk(scheduleDeletion(groupRequest, at, settings), { eventIds: ['a'], rows: 1, cursor: 'a' }, settings, 1).purged.expiredBefore).toBeNull();
  });

  it('is audited by one retention summary per project it removed anything of', () => {
    const { purged } = planChunk(step, { eventIds: [], rows: 0, cursor: null, final: true }, settings, 50);
    const entries = expiryAudits(step, purged, [
      { projectId: 3, organizationSlug: 'acme', events: 10, tags: 25, issues: 2 },
      { projectId: 5, organizationSlug: 'other', events: 1, tags: 0, issues: 0 },
    ], 4);
    expect(entries.map((entry) => [entry.id, entry.projectId, entry.organizationSlug, entry.event])).toEqual([
      [`${'d'.repeat(32)}:completed:3`, 3, 'acme', 'retention.cleanup'],
      [`${'d'.repeat(32)}:completed:5`, 5, 'other', 'retention.cleanup'],
    ]);
    expect(JSON.parse(entries[0]!.data)).toMatchObject({ issuesRemoved: 2, eventsRemoved: 10, rowsRemoved: 35, logRecordsRemoved: 10, partitionsDropped: 4 });
    expect(expiryAudits(step, purged, [], 0)).toEqual([]);
  });
});
