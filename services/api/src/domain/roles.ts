import { hasScope, type Scope } from './tokens.ts';

// Sentry's organization roles and who may do what with memberships. Pure: every decision takes the
// facts (roles, the number of owners) and answers allow or one named refusal.

/** Lowest to highest, as Sentry ranks them. */
export const ROLES = ['member', 'admin', 'manager', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Sentry's meaning: a member acts on events and reads the rest; an admin also manages projects; a
 * manager also manages members and the organization's settings; an owner also administers the
 * organization. Levels imply the ones below (`project:admin` grants `project:write`).
 */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  member: ['org:read', 'member:read', 'project:read', 'event:admin'],
  admin: ['org:read', 'member:read', 'project:admin', 'event:admin'],
  manager: ['org:write', 'member:admin', 'project:admin', 'event:admin'],
  owner: ['org:admin', 'member:admin', 'project:admin', 'event:admin'],
};

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

const rank = (role: Role) => ROLES.indexOf(role);

/** The highest role all of whose scopes `scopes` grant: what an organization token may act as. */
export function roleOfScopes(scopes: readonly string[]): Role | null {
  return [...ROLES].reverse().find((role) => ROLE_SCOPES[role].every((scope) => hasScope(scopes, scope))) ?? null;
}

/** A scope in one organization: the role allows it and, for a user token, so do the token's scopes. */
export function roleGrants(role: Role, needed: Scope, tokenScopes: readonly string[] | null): boolean {
  return hasScope(ROLE_SCOPES[role], needed) && (tokenScopes === null || hasScope(tokenScopes, needed));
}

export const MEMBER_REFUSALS = {
  not_allowed: { status: 403, detail: 'You do not have permission to perform this action.' },
  role_too_high: { status: 400, detail: 'You do not have permission to grant that role.' },
  target_too_high: { status: 403, detail: 'You do not have permission to manage a member with a higher role than yours.' },
  last_owner: { status: 403, detail: 'An organization must keep at least one owner.' },
} as const;
export type MemberRefusal = keyof typeof MEMBER_REFUSALS;
export type MemberDecision = { ok: true } | { ok: false; reason: MemberRefusal };

const allow: MemberDecision = { ok: true };
const refuse = (reason: MemberRefusal): MemberDecision => ({ ok: false, reason });

/** Who acts: their role in the organization (an organization token: the role its scopes amount to) and whether they hold `member:write` / `member:admin` there. */
export interface MemberActor {
  role: Role | null;
  canWrite: boolean;
  canAdmin: boolean;
  /** The member id of the actor in this organization, for leaving it. */
  memberId: string | null;
}

/** Inviting someone with a role: `member:write`, and never a role above one's own. */
export function decideInvite(actor: MemberActor, role: Role): MemberDecision {
  if (!actor.canWrite || actor.role === null) return refuse('not_allowed');
  if (rank(role) > rank(actor.role)) return refuse('role_too_high');
  return allow;
}

export interface MemberFacts {
  memberId: string;
  role: Role;
  /** Accepted owners of the organization, this member included if it is one. */
  owners: number;
  pending: boolean;
}

/** Changing a member's role: `member:admin`, on a member not above oneself, to a role not above oneself; the last owner stays one. */
export function decideRoleChange(actor: MemberActor, target: MemberFacts, role: Role): MemberDecision {
  if (!actor.canAdmin || actor.role === null) return refuse('not_allowed');
  if (rank(target.role) > rank(actor.role)) return refuse('target_too_high');
  if (rank(role) > rank(actor.role)) return refuse('role_too_high');
  if (isLastOwner(target) && role !== 'owner') return refuse('last_owner');
  return allow;
}

/** Removing a member: anyone may leave; otherwise `member:admin` on a member not above oneself; never the last owner. */
export function decideRemoval(actor: MemberActor, target: MemberFacts): MemberDecision {
  if (isLastOwner(target)) return refuse('last_owner');
  if (actor.memberId === target.memberId) return allow;
  if (!actor.canAdmin || actor.role === null) return refuse('not_allowed');
  if (rank(target.role) > rank(actor.role)) return refuse('target_too_high');
  return allow;
}

const isLastOwner = (target: MemberFacts) => !target.pending && target.role === 'owner' && target.owners <= 1;
