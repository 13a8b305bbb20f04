import { ACTION, type Action } from './alert-rules.ts';

// Who an e-mail action (`sentry.mail.actions.NotifyEmailAction`) may name, as Sentry has it:
// `IssueOwners` (Trapline keeps no ownership rules, so Sentry's fallthrough: the active members),
// `Team` (`targetIdentifier` the team's id, or its slug) or `Member` (`targetIdentifier` the user's
// id, as in Sentry, or the membership's). Shared by the API, which refuses a rule naming nobody,
// and the notifier, which decides the recipients. Pure: the facts are the read models' rows.

/** A membership of the project's organization, with its user's e-mail (null: no such user). */
export interface MemberFacts {
  memberId: string;
  /** null while the invitation is pending. */
  userId: string | null;
  email: string | null;
  /** An invitation not accepted yet (its token is still stored). */
  pending: boolean;
}

export interface TeamFacts {
  teamId: string;
  slug: string;
}

export type EmailAction = Extract<Action, { id: typeof ACTION.email }>;

/** A member who gets mail: accepted, with a user. Every role reads every project of its organization. */
export const receivesMail = (member: MemberFacts): member is MemberFacts & { userId: string; email: string } => member.userId !== null && member.email !== null && !member.pending;

/** The mail-receiving member a `Member` target names (by user id, or membership id). */
export const memberNamed = (identifier: string | null, members: readonly MemberFacts[]) =>
  identifier === null ? undefined : members.filter(receivesMail).find((member) => member.userId === identifier || member.memberId === identifier);

/** The team a `Team` target names (by id, or slug). */
export const teamNamed = <T extends TeamFacts>(identifier: string | null, teams: readonly T[]): T | undefined =>
  identifier === null ? undefined : teams.find((team) => team.teamId === identifier || team.slug === identifier);

/** The first e-mail action that names no one of the organization: its field and why; undefined when all do. */
export function emailTargetRefusal(actions: readonly Action[], directory: { members: readonly MemberFacts[]; teams: readonly TeamFacts[] }): { field: string; reason: string } | undefined {
  for (const [index, action] of actions.entries()) {
    if (action.id !== ACTION.email || action.targetType === 'IssueOwners') continue;
    const field = `body.actions[${index}].targetIdentifier`;
    const named = action.targetIdentifier === null ? undefined : JSON.stringify(action.targetIdentifier);
    if (action.targetType === 'Member' && !memberNamed(action.targetIdentifier, directory.members)) {
      return { field, reason: named === undefined ? 'is required for a Member target: the user id of a member' : `${named} is not the user id of a member of the organization (an invitation not accepted gets no mail)` };
    }
    if (action.targetType === 'Team' && !teamNamed(action.targetIdentifier, directory.teams)) {
      return { field, reason: named === undefined ? 'is required for a Team target: the id of a team' : `${named} is not a team of the organization` };
    }
  }
  return undefined;
}
