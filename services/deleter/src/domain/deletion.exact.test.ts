import { describe, expect, it } from 'vitest';
import { eventsTopicKeys, planChunk, requestedAudit, scheduleDeletion, type DeletionSettings } from './deletion.ts';
import { DAY_MS, dueRetention } from './retention.ts';

// Decisions the other deletion tests left open (found by mutation testing).

const settings: DeletionSettings = { delayMs: 3_600_000, chunkSize: 1, expiryChunkSize: 2, maxAttempts: 3, backoffMs: 1000, maxBackoffMs: 5000 };
const requestedAt = 1_700_000_000_000;
const at = { partition: 1, offset: '7' };
const eventStep = scheduleDeletion({ name: 'EventDeletionRequested', value: { projectId: 4, eventId: 'e'.repeat(32), transactionId: 'b'.repeat(32), actor: 'token:abc', requestedAt } }, at, settings);
const groupStep = scheduleDeletion({ name: 'GroupDeletionRequested', value: { projectId: 4, groupId: 77, hashes: ['h'], transactionId: 'a'.repeat(32), actor: 'token:abc', requestedAt } }, at, settings);
const retentionStep = scheduleDeletion({ name: 'RetentionRequested', value: { projectId: 4, transactionId: 'c'.repeat(32), cutoff: requestedAt - 1000, actor: 'system:retention', requestedAt, allProjects: false } }, at, settings);
const expiryStep = scheduleDeletion({ name: 'RetentionRequested', value: { projectId: 0, transactionId: 'd'.repeat(32), cutoff: requestedAt - 1000, actor: 'system:retention', requestedAt, allProjects: true } }, at, settings);

describe('deletion decisions', () => {
  it('holds a single event\'s deletion for the delay too', () => {
    expect(eventStep.dueAt).toBe(requestedAt + 3_600_000);
  });

  it('ends a single event\'s deletion with its first chunk, even a full one', () => {
    expect(planChunk(eventStep, { eventIds: ['x'], rows: 3, cursor: 'x' }, settings, 5)).toMatchObject({ purged: { final: true }, next: null });
    expect(planChunk(groupStep, { eventIds: ['x'], rows: 3, cursor: 'x' }, settings, 5).purged.final).toBe(false);
  });

  it('carries the expiry horizon only on an expiry\'s purge', () => {
    expect(planChunk(expiryStep, { eventIds: [], rows: 0, cursor: null }, settings, 5).purged.expiredBefore).toBe(requestedAt - 1000);
    expect(planChunk(retentionStep, { eventIds: [], rows: 0, cursor: null }, settings, 5).purged.expiredBefore).toBeNull();
  });

  it.each([
    ['an issue by its id', groupStep, '77'],
    ['an event by its id', eventStep, 'e'.repeat(32)],
    ['a retention run by its project', retentionStep, '4'],
  ])('audits the request of %s', (_what, step, target) => {
    expect(requestedAudit(step, 'acme', {}).targetObject).toBe(target);
  });

  it('keys its records on the events topic by project, transaction and chunk', () => {
    const purged = planChunk(groupStep, { eventIds: ['x'], rows: 3, cursor: 'x' }, settings, 5).purged;
    expect([eventsTopicKeys.erasure(4, 'e1'), eventsTopicKeys.purge(purged), eventsTopicKeys.failure(groupStep)]).toEqual([
      '4/e1', `4/deletion/${'a'.repeat(32)}/chunk/0`, `4/deletion/${'a'.repeat(32)}/failure/0`,
    ]);
  });

  it('asks for a project\'s retention only when an event is older than its cutoff', () => {
    const now = requestedAt;
    const project = (oldest: number) => [{ projectId: 2, retentionDays: 30, oldest, running: false }];
    expect(dueRetention(project(now - 30 * DAY_MS), 90, now)).toEqual([]);
    expect(dueRetention(project(now - 30 * DAY_MS - 1), 90, now)).toEqual([{ projectId: 2, cutoff: now - 30 * DAY_MS }]);
  });
});
