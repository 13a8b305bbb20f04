import type { MemberRow } from '@trapline/runtime';
import { describe, expect, it } from 'vitest';
import { effectiveTeamRole, LEAVE_REFUSAL, mayTakeOffTeam, memberRemovalRecords, minimumTeamRole, serializeTeamMember, teamLeaveRecords, teamMemberRecord, type LeaveFacts } from './team-members.ts';

const nobody: LeaveFacts = { self: false, orgWrite: false, memberWrite: false, actorTeamRole: null };

describe('who may take a member off a team (Sentry’s _can_delete)', () => {
  it.each<[string, Partial<LeaveFacts>, boolean]>([
    ['the member themself', { self: true }, true],
    ['an organization writer (owner, manager, org:write)', { orgWrite: true }, true],
    ['an admin of that team', { actorTeamRole: 'admin' }, true],
    ['a contributor of that team with member:write', { actorTeamRole: 'contributor', memberWrite: true }, true],
    ['a contributor of that team', { actorTeamRole: 'contributor' }, false],
    ['member:write without being on the team', { memberWrite: true }, false],
    ['a reader of the organization', {}, false],
  ])('given %s, when they take someone off, then %s', (_, facts, allowed) => {
    expect(mayTakeOffTeam({ ...nobody, ...facts })).toBe(allowed);
  });

  it("given one who may not, then Sentry's refusal text", () => {
    expect(LEAVE_REFUSAL).toBe("You do not have permission to edit that user's membership.");
  });
});

describe('team roles', () => {
  it('given an organization role, its minimum team role is admin from admin up, contributor for a member', () => {
    expect((['member', 'admin', 'manager', 'owner'] as const).map(minimumTeamRole)).toEqual(['contributor', 'admin', 'admin', 'admin']);
  });
  it('given a team role set on the membership, it wins over the minimum; an unknown one does not', () => {
    expect([effectiveTeamRole('admin', 'member'), effectiveTeamRole(null, 'member'), effectiveTeamRole('contributor', 'owner'), effectiveTeamRole('lead', 'member')]).toEqual(['admin', 'contributor', 'contributor', 'contributor']);
  });
});

describe('team membership records', () => {
  it('given a member added to a team, then one record keyed by team and member, with no team role set', () => {
    expect(teamMemberRecord({ teamId: 7, member: { id: '42', organization_slug: 'acme' }, actor: 'user:1', now: 5 })).toEqual({
      key: 'team/7/member/42',
      name: 'TeamMemberUpserted',
      value: { teamId: 7, memberId: '42', organizationSlug: 'acme', teamRole: null, actor: 'user:1', addedAt: 5 },
    });
  });
  it('given a member leaving its teams, then one null value per team under the same keys', () => {
    expect(teamLeaveRecords('42', [7, 9])).toEqual([{ key: 'team/7/member/42', tombstone: true }, { key: 'team/9/member/42', tombstone: true }]);
    expect(teamLeaveRecords('42', [])).toEqual([]);
  });
  it('given a member removed from its organization, then it leaves its teams before the membership goes', () => {
    expect(memberRemovalRecords('42', [7])).toEqual([{ key: 'team/7/member/42', tombstone: true }, { key: 'member/42', tombstone: true }]);
    expect(memberRemovalRecords('42', [])).toEqual([{ key: 'member/42', tombstone: true }]);
  });
});

describe('a team member as Sentry lists it', () => {
  const row: MemberRow & { team_role: string | null } = { id: '3', organization_slug: 'acme', user_id: '7', email: 'ada@example.com', role: 'member', invite_token_hash: null, invite_expires_at: null, invited_by: null, created_at: new Date(5000), user_name: 'Ada', team_role: null };
  it('is the organization member with the team role as set and the team’s slug', () => {
    expect(serializeTeamMember(row, 'backend', 0)).toMatchObject({ id: '3', email: 'ada@example.com', orgRole: 'member', pending: false, teamRole: null, teamSlug: 'backend', user: { id: '7' } });
  });
});
