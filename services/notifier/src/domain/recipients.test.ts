import { describe, expect, it } from 'vitest';
import type { MemberFacts } from '@trapline/schemas';
import { emailRecipients, factsRead, type RecipientFacts } from './recipients.ts';

const ada: MemberFacts = { memberId: 'm1', userId: 'u1', email: 'ada@example.com', pending: false };
const bob: MemberFacts = { memberId: 'm2', userId: 'u2', email: 'bob@example.com', pending: false };
const invited: MemberFacts = { memberId: 'm3', userId: null, email: null, pending: true };
/** A membership whose user row is gone (removed user, before the membership's removal is projected). */
const orphan: MemberFacts = { memberId: 'm4', userId: 'u4', email: null, pending: false };
const backend = { teamId: '7', slug: 'backend', memberIds: ['m1', 'm3', 'm4'] };
const facts = (more: Partial<RecipientFacts> = {}): RecipientFacts => ({ members: [ada, bob, invited, orphan], teams: [backend, { teamId: '8', slug: 'empty', memberIds: [] }], projectEmails: [], ...more });

describe('who an e-mail action goes to', () => {
  it('issue owners fall through to every accepted member, not invitations nor users gone', () => {
    expect(emailRecipients({ targetType: 'IssueOwners', targetIdentifier: null }, facts())).toEqual({ to: ['ada@example.com', 'bob@example.com'] });
  });

  it('a removed member is no longer a recipient', () => {
    expect(emailRecipients({ targetType: 'IssueOwners', targetIdentifier: null }, facts({ members: [ada, invited] }))).toEqual({ to: ['ada@example.com'] });
  });

  it('issue owners also reach the project’s own addresses, once each', () => {
    expect(emailRecipients({ targetType: 'IssueOwners', targetIdentifier: null }, facts({ projectEmails: ['oncall@example.com', 'ADA@example.com'] }))).toEqual({ to: ['ada@example.com', 'bob@example.com', 'oncall@example.com'] });
  });

  it('nobody to mail is said, not sent', () => {
    expect(emailRecipients({ targetType: 'IssueOwners', targetIdentifier: null }, facts({ members: [invited] }))).toEqual({ none: expect.stringContaining('no accepted members') });
  });

  it('a member target mails that member alone, by user or membership id, while accepted', () => {
    expect(emailRecipients({ targetType: 'Member', targetIdentifier: 'u2' }, facts())).toEqual({ to: ['bob@example.com'] });
    expect(emailRecipients({ targetType: 'Member', targetIdentifier: 'm1' }, facts())).toEqual({ to: ['ada@example.com'] });
    expect(emailRecipients({ targetType: 'Member', targetIdentifier: 'u2' }, facts({ members: [ada] }))).toEqual({ none: expect.stringContaining('no longer') });
    expect(emailRecipients({ targetType: 'Member', targetIdentifier: 'm3' }, facts())).toEqual({ none: expect.stringContaining('no longer') });
  });

  describe('given a team with an accepted member, an invitation and a member whose user is gone', () => {
    it('when a rule targets it by id or slug, then only the accepted member is mailed, not the project’s addresses', () => {
      expect(emailRecipients({ targetType: 'Team', targetIdentifier: '7' }, facts({ projectEmails: ['oncall@example.com'] }))).toEqual({ to: ['ada@example.com'] });
      expect(emailRecipients({ targetType: 'Team', targetIdentifier: 'backend' }, facts())).toEqual({ to: ['ada@example.com'] });
    });
    it('when another member joins, then both are mailed, once each', () => {
      expect(emailRecipients({ targetType: 'Team', targetIdentifier: '7' }, facts({ teams: [{ ...backend, memberIds: ['m1', 'm2', 'm1'] }] }))).toEqual({ to: ['ada@example.com', 'bob@example.com'] });
    });
    it('when the member leaves the team, then the team has no one to mail, and says so', () => {
      expect(emailRecipients({ targetType: 'Team', targetIdentifier: '7' }, facts({ teams: [{ ...backend, memberIds: ['m3', 'm4'] }] }))).toEqual({ none: 'team backend has no accepted members' });
    });
    it('when the member is removed from the organization, then it is not mailed though the team still names it', () => {
      expect(emailRecipients({ targetType: 'Team', targetIdentifier: '7' }, facts({ members: [bob, invited, orphan] }))).toEqual({ none: 'team backend has no accepted members' });
    });
    it('when the team names a member of another organization (not among the project’s organization’s members), then it is not mailed', () => {
      expect(emailRecipients({ targetType: 'Team', targetIdentifier: '7' }, facts({ teams: [{ ...backend, memberIds: ['elsewhere-1', 'm2'] }] }))).toEqual({ to: ['bob@example.com'] });
    });
  });

  it('a team target names an existing team, else it mails nobody and says why', () => {
    expect(emailRecipients({ targetType: 'Team', targetIdentifier: '8' }, facts())).toEqual({ none: 'team empty has no accepted members' });
    expect(emailRecipients({ targetType: 'Team', targetIdentifier: '9' }, facts())).toEqual({ none: expect.stringContaining('no longer exists') });
  });
});

describe('the reasons nobody is mailed, word for word', () => {
  it.each<[string, string | null, string]>([
    ['Member', 'u9', 'member u9 is no longer an accepted member of the organization'],
    ['Member', null, 'member (none) is no longer an accepted member of the organization'],
    ['Team', '8', 'team empty has no accepted members'],
    ['Team', '9', 'team 9 no longer exists'],
    ['Team', null, 'team (none) no longer exists'],
    ['IssueOwners', null, 'the organization has no accepted members and the project no alert addresses'],
  ])('given a %s target %j that reaches nobody: %j', (targetType, targetIdentifier, reason) => {
    const none = targetType === 'IssueOwners' ? facts({ members: [invited] }) : facts();
    expect(emailRecipients({ targetType: targetType as 'Member', targetIdentifier }, none)).toEqual({ none: reason });
  });
});

describe('the facts an action reads', () => {
  const everything = facts({ projectEmails: ['oncall@example.com'] });
  it.each([
    { targetType: 'IssueOwners' as const, targetIdentifier: null },
    { targetType: 'Member' as const, targetIdentifier: 'u2' },
    { targetType: 'Team' as const, targetIdentifier: 'backend' },
  ])('$targetType: leaving out what it does not read changes nothing', (action) => {
    const read = factsRead(action);
    const only: RecipientFacts = { members: everything.members, teams: read.teams ? everything.teams : [], projectEmails: read.projectEmails ? everything.projectEmails : [] };
    expect(emailRecipients(action, only)).toEqual(emailRecipients(action, everything));
  });

  it('reads teams only for a team, alert addresses only for issue owners', () => {
    expect([factsRead({ targetType: 'IssueOwners' }), factsRead({ targetType: 'Member' }), factsRead({ targetType: 'Team' })]).toEqual([
      { teams: false, projectEmails: true },
      { teams: false, projectEmails: false },
      { teams: true, projectEmails: false },
    ]);
  });
});
