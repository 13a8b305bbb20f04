import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { MemberUpserted, UserTokenUpserted, UserUpserted } from '@trapline/schemas';
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

export interface UserRow {
  id: string;
  email: string;
  name: string;
  created_at: Date;
}

export interface MemberRow {
  id: string;
  organization_slug: string;
  user_id: string | null;
  email: string;
  role: string;
  invite_token_hash: string | null;
  invite_expires_at: Date | null;
  invited_by: string | null;
  created_at: Date;
  /** Joined from users; null while pending. */
  user_name: string | null;
}

export interface UserTokenRow {
  id: string;
  token_hash: string;
  user_id: string;
  scopes: string[];
  label: string;
  active: boolean;
  created_at: Date;
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

/** Sentry's user object (never a hash). */
export function serializeUser(row: UserRow) {
  return { id: row.id, name: row.name, username: row.email, email: row.email, isActive: true, hasPasswordAuth: true, dateJoined: row.created_at.toISOString() };
}

/** Sentry's organization member. */
export function serializeMember(row: MemberRow, now: number) {
  const pending = row.user_id === null;
  return {
    id: row.id,
    email: row.email,
    name: row.user_name ?? row.email,
    user: pending ? null : { id: row.user_id, name: row.user_name ?? row.email, username: row.email, email: row.email },
    orgRole: row.role,
    role: row.role,
    roleName: row.role.charAt(0).toUpperCase() + row.role.slice(1),
    pending,
    expired: pending && row.invite_expires_at !== null && row.invite_expires_at.getTime() < now,
    flags: { 'sso:linked': false, 'sso:invalid': false, 'member-limit:restricted': false },
    dateCreated: row.created_at.toISOString(),
    inviteStatus: pending ? 'approved' : null,
    inviterName: null,
  };
}

/** Sentry's api token (the plain token only in the answer that created it). */
export function serializeUserToken(row: UserTokenRow, token?: string) {
  return {
    id: row.id, name: row.label, scopes: row.scopes, application: null, expiresAt: null, dateCreated: row.created_at.toISOString(), state: null,
    tokenLastCharacters: token?.slice(-4) ?? null, ...(token === undefined ? {} : { token }),
  };
}
