import { describe, expect, it } from 'vitest';
import { ACTION } from './alert-rules.ts';
import { emailTargetRefusal, memberNamed, type MemberFacts } from './email-targets.ts';

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
