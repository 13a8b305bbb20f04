import type { AuditRow, DeletionRow } from '@trapline/runtime';
import { describe, expect, it } from 'vitest';
import { auditActor, auditNote, serializeAuditEntry, serializeDeletion } from './audit.ts';

const at = new Date('2024-11-26T10:00:00.000Z');
const requested: AuditRow = {
  id: 'aa11:requested',
  organization_slug: 'acme',
  project_id: 1,
  event: 'issue.delete',
  actor: 'token:0123456789ab',
  transaction_id: 'aa11',
  target_object: '4503599627370495',
  data: { issueId: '4503599627370495', shortId: 'WEB-1A2B3C', title: 'TypeError: boom' },
  created_at: at,
};

describe('audit actors', () => {
  it.each([
    ['token:0123456789ab', { id: 'token:0123456789ab', name: 'API token 0123456789ab', type: 'token' }],
    ['system:retention', { id: 'system:retention', name: 'Trapline retention', type: 'system' }],
    ['someone', { id: 'someone', name: 'someone', type: 'unknown' }],
    ['user:7', { id: 'user:7', name: 'Ada', type: 'user', email: 'ada@example.com', user: { id: '7', email: 'ada@example.com', name: 'Ada' } }],
    ['user:8', { id: 'user:8', name: 'removed user 8', type: 'user', email: null, user: null }],
  ])('%s is %j', (actor, expected) => {
    expect(auditActor(actor, new Map([['7', { id: '7', email: 'ada@example.com', name: 'Ada' }]]))).toEqual(expected);
  });
});

describe('audit notes', () => {
  it.each([
    ['issue.delete', '9', { shortId: 'WEB-1', title: 'boom' }, 'requested deletion of issue WEB-1 (boom)'],
    ['issue.delete', '9', {}, 'requested deletion of issue 9'],
    ['issue.delete.completed', '9', { shortId: 'WEB-1', eventsRemoved: 3, rowsRemoved: 12, chunks: 1 }, 'deleted issue WEB-1 (3 events, 12 rows removed)'],
    ['event.delete', 'abc', { eventId: 'def' }, 'requested deletion of event def'],
    ['event.delete.completed', 'abc', { eventsRemoved: 1 }, 'deleted event abc (1 events removed)'],
    ['event.delete.completed', null, { title: { not: 'text' } }, 'deleted event '],
    ['member.join-team', '42', { email: 'ada@example.com', teamSlug: 'backend' }, 'added member ada@example.com to team backend'],
    ['member.leave-team', '42', { email: 'ada@example.com', teamSlug: 'backend' }, 'removed member ada@example.com from team backend'],
    ['project.create', null, {}, 'project.create'],
  ])('%s on %s with %j: %s', (event, target, data, note) => {
    expect(auditNote({ event, target_object: target, data })).toBe(note);
  });
});

describe('audit entries', () => {
  it("have Sentry's row shape, with the data passed through", () => {
    expect(serializeAuditEntry(requested)).toEqual({
      id: 'aa11:requested',
      actor: { id: 'token:0123456789ab', name: 'API token 0123456789ab', type: 'token' },
      event: 'issue.delete',
      ipAddress: null,
      note: 'requested deletion of issue WEB-1A2B3C (TypeError: boom)',
      targetObject: 4503599627370495,
      targetUser: null,
      data: requested.data,
      dateCreated: '2024-11-26T10:00:00.000Z',
      transactionId: 'aa11',
    });
  });

  it.each([
    ['9', 9],
    ['90071992547409930', '90071992547409930'],
    ['0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdef'],
    [null, null],
  ])('target object %s is %j', (target, expected) => {
    expect(serializeAuditEntry({ ...requested, target_object: target }).targetObject).toBe(expected);
  });
});

describe('deletion status', () => {
  const deletion: DeletionRow = {
    transaction_id: 'aa11',
    kind: 'group',
    project_id: 1,
    project_slug: 'web',
    organization_slug: 'acme',
    group_id: '4503599627370495',
    event_id: null,
    actor: 'token:0123456789ab',
    requested_at: at,
    state: 'retrying',
    attempts: 2,
    last_error: 'connection reset',
    chunks: 3,
    events_removed: 300,
    rows_removed: 1200,
    completed_at: null,
  };

  it('shows state, progress and the audit trail', () => {
    expect(serializeDeletion(deletion, [requested])).toEqual({
      transactionId: 'aa11',
      kind: 'group',
      status: 'retrying',
      projectId: '1',
      projectSlug: 'web',
      issueId: '4503599627370495',
      eventId: null,
      actor: { id: 'token:0123456789ab', name: 'API token 0123456789ab', type: 'token' },
      dateRequested: '2024-11-26T10:00:00.000Z',
      dateCompleted: null,
      attempts: 2,
      lastError: 'connection reset',
      progress: { chunks: 3, eventsRemoved: 300, rowsRemoved: 1200 },
      audit: [serializeAuditEntry(requested)],
    });
  });

  it('dates the completion', () => {
    expect(serializeDeletion({ ...deletion, state: 'done', completed_at: new Date('2024-11-26T11:00:00.000Z') }, []).dateCompleted).toBe('2024-11-26T11:00:00.000Z');
  });
});
