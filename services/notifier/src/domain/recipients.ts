import { memberNamed, receivesMail, teamNamed, type EmailAction, type MemberFacts, type TeamFacts } from '@trapline/schemas';

// Who one e-mail action goes to, decided from the rows the adapter read, as Sentry decides it:
//   IssueOwners → Trapline keeps no ownership rules, so Sentry's fallthrough (`ActiveMembers`): every
//                 accepted member of the project's organization (every role reads every project),
//                 plus the project's own alert addresses (a list or a pager that is no person);
//   Member      → that member alone, while accepted;
//   Team        → the team's accepted members (Sentry's team target: every member on the team).
// Pending invitations, removed members and removed users get nothing; only the members of the
// project's organization (`members`) can be mailed, whatever a team's list names.

/** A team of the organization with the members on it (membership ids). */
export interface TeamWithMembers extends TeamFacts {
  memberIds: readonly string[];
}

export interface RecipientFacts {
  members: readonly MemberFacts[];
  teams: readonly TeamWithMembers[];
  /** The project's alert addresses (`alert-emails`). */
  projectEmails: readonly string[];
}

export type Recipients = { to: string[] } | { none: string };

const distinct = (addresses: readonly string[]) => {
  const seen = new Map<string, string>();
  for (const address of addresses) if (!seen.has(address.toLowerCase())) seen.set(address.toLowerCase(), address);
  return [...seen.values()];
};

/** Which of the facts beyond the members an action's target reads (the adapter reads only those). */
export function factsRead(action: Pick<EmailAction, 'targetType'>): { teams: boolean; projectEmails: boolean } {
  return { teams: action.targetType === 'Team', projectEmails: action.targetType !== 'Member' && action.targetType !== 'Team' };
}

export function emailRecipients(action: Pick<EmailAction, 'targetType' | 'targetIdentifier'>, facts: RecipientFacts): Recipients {
  if (action.targetType === 'Member') {
    const member = memberNamed(action.targetIdentifier, facts.members);
    return member ? { to: [member.email] } : { none: `member ${action.targetIdentifier ?? '(none)'} is no longer an accepted member of the organization` };
  }
  if (action.targetType === 'Team') {
    const team = teamNamed(action.targetIdentifier, facts.teams);
    if (!team) return { none: `team ${action.targetIdentifier ?? '(none)'} no longer exists` };
    const onTeam = new Set(team.memberIds);
    const to = distinct(facts.members.filter((member) => onTeam.has(member.memberId)).filter(receivesMail).map((member) => member.email));
    return to.length > 0 ? { to } : { none: `team ${team.slug} has no accepted members` };
  }
  const to = distinct([...facts.members.filter(receivesMail).map((member) => member.email), ...facts.projectEmails]);
  return to.length > 0 ? { to } : { none: 'the organization has no accepted members and the project no alert addresses' };
}
