import { adminKeys, type TeamMemberUpserted } from '@trapline/schemas';
import type { MemberRow, OutgoingRecord, Tombstone } from '@trapline/runtime';
import { serializeMember } from './accounts.ts';
import type { Role } from './roles.ts';

// Team membership as Sentry has it (OrganizationMemberTeam): who may add or remove whom, the records
// that say so, and Sentry's shapes. Trapline's organizations are Sentry's with Open Membership on
// (its default): anyone who reads the organization may put a member on a team; taking one off is
// for the member themself, the organization's writers (owners, managers, `org:write`), or a team
// admin of that team. Pure.

export const TEAM_ROLES = ['contributor', 'admin'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

/** Sentry's minimum team role of an organization role: admins and above administer the teams they are on. */
export const minimumTeamRole = (orgRole: Role): TeamRole => (orgRole === 'member' ? 'contributor' : 'admin');

/** Sentry's refusal when taking someone else off a team without the right. */
export const LEAVE_REFUSAL = "You do not have permission to edit that user's membership.";

export interface LeaveFacts {
  /** The membership taken off the team is the actor's own. */
  self: boolean;
  /** The actor holds `org:write` in the organization (owner, manager, or a token with it). */
  orgWrite: boolean;
  /** The actor holds `member:write` there. */
  memberWrite: boolean;
  /** The actor's own team role on that team; null: not on it. */
  actorTeamRole: TeamRole | null;
}

/** Sentry's `_can_delete`: oneself, an organization writer, or an admin of the team (`can_admin_team`). */
export function mayTakeOffTeam(facts: LeaveFacts): boolean {
  if (facts.self || facts.orgWrite) return true;
  return facts.actorTeamRole !== null && (facts.actorTeamRole === 'admin' || facts.memberWrite);
}

/** The actor's effective team role: the one set on the membership, else the organization role's minimum. */
export const effectiveTeamRole = (setRole: string | null, orgRole: Role): TeamRole => (setRole === 'admin' || setRole === 'contributor' ? setRole : minimumTeamRole(orgRole));

export function teamMemberRecord(input: { teamId: number; member: Pick<MemberRow, 'id' | 'organization_slug'>; actor: string; now: number }): OutgoingRecord<'TeamMemberUpserted'> {
  const value: TeamMemberUpserted = { teamId: input.teamId, memberId: input.member.id, organizationSlug: input.member.organization_slug, teamRole: null, actor: input.actor, addedAt: input.now };
  return { key: adminKeys.teamMember(value.teamId, value.memberId), name: 'TeamMemberUpserted', value };
}

/** The null values that take a member off each of its teams. */
export const teamLeaveRecords = (memberId: string, teamIds: readonly number[]): Tombstone[] => teamIds.map((teamId) => ({ key: adminKeys.teamMember(teamId, memberId), tombstone: true }));

/** A member's removal from its organization: it leaves each of its teams, then the membership goes (API and CLI alike). */
export const memberRemovalRecords = (memberId: string, teamIds: readonly number[]): Tombstone[] => [...teamLeaveRecords(memberId, teamIds), { key: adminKeys.member(memberId), tombstone: true }];

/** One row of Sentry's "List a Team's Members": the organization member with its team role (as set; null: the minimum) and the team's slug. */
export function serializeTeamMember(row: MemberRow & { team_role: string | null }, teamSlug: string, now: number) {
  return { ...serializeMember(row, now), teamRole: row.team_role, teamSlug };
}
