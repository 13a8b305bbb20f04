import { describe, expect, it } from 'vitest';
import { ACTION } from './alert-rules.ts';
import { emailTargetRefusal, memberNamed, receivesMail, teamNamed, type MemberFacts } from './email-targets.ts';

const members: MemberFacts[] = [
  { memberId: 'm1', userId: 'u1', email: 'ada@example.com', pending: false },
  { memberId: 'm2', userId: null, email: null, pending: true },
];
const teams = [{ teamId: '7', slug: 'backend' }];
const email = (targetType: 'IssueOwners' | 'Team' | 'Member', targetIdentifier: string | null) => ({ id: ACTION.email, targetType, targetIdentifier });

describe('e-mail targets', () => {
  it('names a member by user id or membership id, never an invitation', () => {
    expect(memberNamed('u1', members)?.memberId).toBe('m1');
    expect(memberNamed('m1', members)?.memberId).toBe('m1');
    expect(memberNamed('m2', members)).toBeUndefined();
  });

  it.each([
    [email('Member', 'u9'), 'body.actions[1].targetIdentifier', 'not the user id of a member'],
    [email('Member', 'm2'), 'body.actions[1].targetIdentifier', 'not the user id of a member'],
    [email('Member', null), 'body.actions[1].targetIdentifier', 'is required'],
    [email('Team', 'frontend'), 'body.actions[1].targetIdentifier', 'not a team'],
    [email('Team', null), 'body.actions[1].targetIdentifier', 'is required'],
  ] as const)('refuses %j naming its field', (action, field, reason) => {
    const refusal = emailTargetRefusal([{ id: ACTION.service, service: 'webhooks' }, action], { members, teams });
    expect(refusal?.field).toBe(field);
    expect(refusal?.reason).toContain(reason);
  });

  it('takes issue owners, a known member and a known team (by id or slug)', () => {
    const actions = [email('IssueOwners', null), email('Member', 'u1'), email('Team', '7'), email('Team', 'backend')];
    expect(emailTargetRefusal(actions, { members, teams })).toBeUndefined();
  });
});

describe('who receives mail', () => {
  it.each<[string, MemberFacts, boolean]>([
    ['an accepted member with a user', { memberId: 'm1', userId: 'u1', email: 'ada@example.com', pending: false }, true],
    ['a pending invitation', { memberId: 'm2', userId: null, email: null, pending: true }, false],
    ['a membership whose user is gone', { memberId: 'm3', userId: 'u3', email: null, pending: false }, false],
    ['a membership with an address but no user', { memberId: 'm4', userId: null, email: 'x@example.com', pending: false }, false],
    ['an invitation still pending though a user is set', { memberId: 'm5', userId: 'u5', email: 'y@example.com', pending: true }, false],
  ])('%s: %s', (_, member, receives) => {
    expect(receivesMail(member)).toBe(receives);
    expect(memberNamed(member.memberId, [member])).toBe(receives ? member : undefined);
  });

  it('names no member and no team without an identifier', () => {
    expect(memberNamed(null, members)).toBeUndefined();
    expect(teamNamed(null, teams)).toBeUndefined();
    expect(teamNamed('backend', teams)).toEqual({ teamId: '7', slug: 'backend' });
  });

  it.each([
    [email('Member', 'u9'), '"u9" is not the user id of a member of the organization (an invitation not accepted gets no mail)'],
    [email('Member', null), 'is required for a Member target: the user id of a member'],
    [email('Team', 'frontend'), '"frontend" is not a team of the organization'],
    [email('Team', null), 'is required for a Team target: the id of a team'],
  ] as const)('refuses %j word for word, at the first such action', (action, reason) => {
    expect(emailTargetRefusal([email('IssueOwners', null), action, email('Team', null)], { members, teams })).toEqual({ field: 'body.actions[1].targetIdentifier', reason });
  });
});
