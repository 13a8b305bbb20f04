import type { AuditRow } from '@trapline/runtime';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, auditActor, auditNote, serializeAuditEntry } from './audit.ts';

// The audit log's actors, notes and target objects, with plain rows: the exact text a reader of
// Sentry's audit log sees.

const entry: AuditRow = {
  id: 'bb22:invite',
  organization_slug: 'acme',
  project_id: null,
  event: 'member.invite',
  actor: 'user:7',
  transaction_id: null,
  target_object: '41',
  data: { email: 'bob@example.com', orgRole: 'admin' },
  created_at: new Date('2026-12-02T10:00:00.000Z'),
};

describe('audit actors', () => {
  it.each<[string, ReturnType<typeof auditActor>]>([
    // The kind is what comes before the first colon; without one, the whole string is of no kind.
    ['users', { id: 'users', name: 'users', type: 'unknown' }],
    ['tokens', { id: 'tokens', name: 'tokens', type: 'unknown' }],
    [':token', { id: ':token', name: ':token', type: 'unknown' }],
    ['token:ab:cd', { id: 'token:ab:cd', name: 'API token ab:cd', type: 'token' }],
    ['system:', { id: 'system:', name: 'Trapline ', type: 'system' }],
  ])('%j is %j', (actor, expected) => {
    expect(auditActor(actor)).toEqual(expected);
  });
});

describe('audit notes of memberships', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['member.invite', { email: 'bob@example.com', orgRole: 'admin' }, 'invited member bob@example.com as admin'],
    ['member.invite', {}, 'invited member  as '],
    ['member.accept', { orgRole: 'member' }, 'joined as member'],
    ['member.accept', { orgRole: ['member'] }, 'joined as '],
    ['member.edit', { email: 'bob@example.com', orgRole: 'manager' }, 'changed the role of bob@example.com to manager'],
    ['member.edit', {}, 'changed the role of  to '],
    ['member.remove', { email: 'bob@example.com' }, 'removed member bob@example.com'],
    ['member.remove', {}, 'removed member '],
    ['member.join-team', {}, 'added member  to team '],
    ['member.join-team', { email: 7, teamSlug: { slug: 'backend' } }, 'added member 7 to team '],
    ['member.leave-team', {}, 'removed member  from team '],
    ['member.leave-team', { email: ['ada@example.com'], teamSlug: 'backend' }, 'removed member  from team backend'],
  ])('%s with %j: %j', (event, data, note) => {
    expect(auditNote({ event, target_object: '41', data })).toBe(note);
  });

  it('names an issue by its short id, else its id, else the target, else nothing', () => {
    expect(auditNote({ event: 'issue.delete', target_object: '9', data: { issueId: 12 } })).toBe('requested deletion of issue 12');
    expect(auditNote({ event: 'issue.delete', target_object: null, data: {} })).toBe('requested deletion of issue ');
    expect(auditNote({ event: 'issue.delete.completed', target_object: null, data: { rowsRemoved: '4' } })).toBe('deleted issue  (4 rows removed)');
  });

  it('lists every event it has a note for as an option', () => {
    for (const event of AUDIT_EVENTS) expect(auditNote({ event, target_object: null, data: {} })).not.toBe(event);
  });
});

describe('audit target objects', () => {
  it.each<[string | null, number | string | null]>([
    ['41', 41],
    ['0', 0],
    // Number() would read these as numbers; they are not ids.
    ['41 ', '41 '],
    [' 41', ' 41'],
    ['0x10', '0x10'],
    ['1e3', '1e3'],
    ['-4', '-4'],
    ['', ''],
    [null, null],
  ])('target %j is %j', (target, expected) => {
    expect(serializeAuditEntry({ ...entry, target_object: target }).targetObject).toBe(expected);
  });
});
