import { describe, expect, it } from 'vitest';
import type { MemberFacts } from '@trapline/schemas';
import { emailRecipients, type RecipientFacts } from './recipients.ts';

const ada: MemberFacts = { memberId: 'm1', userId: 'u1', email: 'ada@example.com', pending: false };
const bob: MemberFacts = { memberId: 'm2', userId: 'u2', email: 'bob@example.com', pending: false };
const invited: MemberFacts = { memberId: 'm3', userId: null, email: null, pending: true };
/** A membership whose user row is gone (removed user, before the membership's removal is projected). */
const orphan: MemberFacts = { memberId: 'm4', userId: 'u4', email: null, pending: false };
const facts = (more: Partial<RecipientFacts> = {}): RecipientFacts => ({ members: [ada, bob, invited, orphan], teams: [{ teamId: '7', slug: 'backend' }], projectEmails: [], ...more });

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

  it('a team target says why it mails nobody', () => {
    expect(emailRecipients({ targetType: 'Team', targetIdentifier: '7' }, facts())).toEqual({ none: expect.stringContaining('team backend') });
    expect(emailRecipients({ targetType: 'Team', targetIdentifier: '8' }, facts())).toEqual({ none: expect.stringContaining('no longer exists') });
  });
});

describe('the reasons nobody is mailed, word for word', () => {
  it.each<[string, string | null, string]>([
    ['Member', 'u9', 'member u9 is no longer an accepted member of the organization'],
    ['Member', null, 'member (none) is no longer an accepted member of the organization'],
    ['Team', '7', 'team backend: Trapline keeps no team membership yet, so a team has no one to mail'],
    ['Team', '8', 'team 8 no longer exists'],
    ['Team', null, 'team (none) no longer exists'],
    ['IssueOwners', null, 'the organization has no accepted members and the project no alert addresses'],
  ])('given a %s target %j that reaches nobody: %j', (targetType, targetIdentifier, reason) => {
    const none = targetType === 'IssueOwners' ? facts({ members: [invited] }) : facts();
    expect(emailRecipients({ targetType: targetType as 'Member', targetIdentifier }, none)).toEqual({ none: reason });
  });
});
