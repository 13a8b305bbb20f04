import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { MemberRow, UserRow, UserTokenRow } from '@trapline/runtime';
import type { MemberUpserted, UserTokenUpserted, UserUpserted } from '@trapline/schemas';
import { ROLE_SCOPES, ROLES, type Role } from './roles.ts';
import { hashToken } from './tokens.ts';
import { adminKeys } from '@trapline/schemas';

// Users, memberships, invitations and user tokens as admin records: one key builder per entity
// (a null value under the same key removes it), the input rules, and the rows → Sentry's shapes.

export const userKey = adminKeys.user;
export const memberKey = adminKeys.member;
export const userTokenKey = adminKeys.userToken;

/** Sentry keeps an invitation for 30 days. */
export const INVITE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const MAX_EMAIL = 254;
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;
export const MAX_NAME = 200;

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/;

/** Emails compare case-insensitively: stored lower-cased and trimmed; undefined when malformed. */
export function normalizeEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  return email.length <= MAX_EMAIL && EMAIL.test(email) ? email : undefined;
}

/** Ids look like Sentry's (decimal strings) and come from the request, so a replay keeps them. */
export const newId = () => String(randomInt(1, 2 ** 47));

export const newSecret = () => randomBytes(32).toString('hex');

/** Equal-length constant-time comparison of two secrets (hex or base64url). */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function newUser(input: { email: string; name: string; passwordHash: string | null; now: number }): UserUpserted {
  return { userId: newId(), email: input.email, name: input.name || input.email, passwordHash: input.passwordHash, createdAt: input.now };
}

/** A pending invitation: the plain token goes into the link once; the record holds its hash. */
export function newInvitation(input: { organizationSlug: string; email: string; role: string; invitedBy: string; now: number }): { record: MemberUpserted; token: string } {
  const token = newSecret();
  return {
    token,
    record: {
      memberId: newId(), organizationSlug: input.organizationSlug, userId: null, email: input.email, role: input.role,
      inviteTokenHash: hashToken(token), inviteExpiresAt: input.now + INVITE_TTL_MS, invitedBy: input.invitedBy, createdAt: input.now,
    },
  };
}

export function newUserToken(input: { userId: string; scopes: string[]; label: string; now: number }): { record: UserTokenUpserted; token: string } {
  const token = `tpu_${newSecret()}`;
  return { token, record: { tokenId: newId(), tokenHash: hashToken(token), userId: input.userId, scopes: input.scopes, label: input.label, active: true, createdAt: input.now } };
}

/** The record that restates a member row (to change its role, or accept it). */
export function memberRecord(row: MemberRow): MemberUpserted {
  return {
    memberId: row.id, organizationSlug: row.organization_slug, userId: row.user_id, email: row.email, role: row.role,
    inviteTokenHash: row.invite_token_hash, inviteExpiresAt: row.invite_expires_at?.getTime() ?? null, invitedBy: row.invited_by, createdAt: row.created_at.getTime(),
  };
}

/** The row a record makes (what the answer to a write shows before the projector applied it). */
export function memberRow(record: MemberUpserted, userName: string | null = null): MemberRow {
  return {
    id: record.memberId, organization_slug: record.organizationSlug, user_id: record.userId, email: record.email, role: record.role, invite_token_hash: record.inviteTokenHash,
    invite_expires_at: record.inviteExpiresAt === null ? null : new Date(record.inviteExpiresAt), invited_by: record.invitedBy, created_at: new Date(record.createdAt), user_name: userName,
  };
}

/**
 * Sentry's user object (never a hash). What Trapline has no part of (avatars, 2FA, SSO identities,
 * staff, last login) has its neutral value; the one e-mail address is the sign-in address.
 */
export function serializeUser(row: UserRow) {
  return {
    id: row.id,
    name: row.name,
    username: row.email,
    email: row.email,
    avatarUrl: '',
    avatar: { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null },
    isActive: true,
    isSuspended: false,
    hasPasswordAuth: true,
    isManaged: false,
    dateJoined: row.created_at.toISOString(),
    lastLogin: null,
    has2fa: false,
    lastActive: null,
    isSuperuser: false,
    isStaff: false,
    experiments: {},
    emails: [{ id: row.id, email: row.email, is_verified: false }],
    identities: [],
  };
}

const NO_FLAGS = { 'idp:provisioned': false, 'idp:role-restricted': false, 'sso:linked': false, 'sso:invalid': false, 'member-limit:restricted': false, 'partnership:restricted': false };

/** Sentry's organization member (an accepted one with its user, a pending invitation with none). */
export function serializeMember(row: MemberRow, now: number) {
  const pending = row.user_id === null;
  return {
    id: row.id,
    email: row.email,
    name: row.user_name ?? row.email,
    user: pending ? null : serializeUser({ id: row.user_id!, email: row.email, name: row.user_name ?? row.email, created_at: row.user_created_at ?? row.created_at }),
    orgRole: row.role,
    role: row.role,
    roleName: roleName(row.role),
    pending,
    expired: pending && row.invite_expires_at !== null && row.invite_expires_at.getTime() < now,
    flags: NO_FLAGS,
    dateCreated: row.created_at.toISOString(),
    // Sentry's status of an invitation that needs no approval (and of every accepted member).
    inviteStatus: 'approved',
    inviterName: null,
  };
}

const roleName = (role: string) => role.charAt(0).toUpperCase() + role.slice(1);

/** What each role may do, in Sentry's words for its roles. */
export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  member: 'Members can view and act on events, as well as view most other data within the organization.',
  admin: "Admin privileges on any teams of which they're a member. They can create new teams and projects, as well as remove teams and projects on which they already hold membership.",
  manager: 'Gains admin access on all teams as well as the ability to add and remove members.',
  owner: 'Unrestricted access to the organization, its data, and its settings. Can add, modify, and delete projects and members, as well as make billing and plan changes.',
};

/**
 * Sentry's member detail: the member with the roles the viewer may give (`allowed`), whether it is
 * the only owner, and the teams it is on (slugs, and each team role as set: null, the minimum its
 * organization role gives). The invitation link is shown once, to whoever invited, so it is null here.
 */
export function serializeMemberDetail(row: MemberRow, now: number, facts: { viewerRole: Role | null; owners: number; teams?: readonly { slug: string; team_role: string | null }[] }) {
  const rank = (role: Role) => ROLES.indexOf(role);
  const teams = facts.teams ?? [];
  return {
    ...serializeMember(row, now),
    teams: teams.map((team) => team.slug),
    teamRoles: teams.map((team) => ({ teamSlug: team.slug, role: team.team_role })),
    invite_link: null,
    isOnlyOwner: row.user_id !== null && row.role === 'owner' && facts.owners <= 1,
    orgRoleList: ROLES.map((role) => {
      const allowed = facts.viewerRole !== null && rank(role) <= rank(facts.viewerRole);
      return { id: role, name: roleName(role), desc: ROLE_DESCRIPTIONS[role], scopes: [...ROLE_SCOPES[role]], allowed, isAllowed: allowed, isRetired: false, isTeamRolesAllowed: false, is_global: true, isGlobal: true, minimumTeamRole: '' };
    }),
    teamRoleList: [],
  };
}

/** Sentry's api token (the plain token only in the answer that created it). */
export function serializeUserToken(row: UserTokenRow, token?: string) {
  return {
    id: row.id, name: row.label, scopes: row.scopes, application: null, expiresAt: null, dateCreated: row.created_at.toISOString(), state: null,
    tokenLastCharacters: token?.slice(-4) ?? null, ...(token === undefined ? {} : { token }),
  };
}
