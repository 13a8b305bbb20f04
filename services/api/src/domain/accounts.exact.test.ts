import type { MemberRow } from '@trapline/runtime';
import { describe, expect, it } from 'vitest';
import { contractProblems } from '../../../../test/contract.ts';
import { INVITE_TTL_MS, MAX_EMAIL, memberRecord, memberRow, newInvitation, newUser, newUserToken, normalizeEmail, ROLE_DESCRIPTIONS, serializeMember, serializeMemberDetail, serializeUser, serializeUserToken } from './accounts.ts';
import { hashToken } from './tokens.ts';

// Users, members and user tokens: given plain inputs, then the exact records and the exact answers
// (each answer also held to Sentry's published OpenAPI response schema, test/contract.ts).

const ORG = '/api/0/organizations/{organization_id_or_slug}';
const NOW = Date.parse('2026-12-02T10:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

const NO_FLAGS = { 'idp:provisioned': false, 'idp:role-restricted': false, 'sso:linked': false, 'sso:invalid': false, 'member-limit:restricted': false, 'partnership:restricted': false };

/** Sentry's user object for a Trapline user: every part Trapline has no notion of at its neutral value. */
const sentryUser = (id: string, email: string, name: string, joined: number) => ({
  id,
  name,
  username: email,
  email,
  avatarUrl: '',
  avatar: { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null },
  isActive: true,
  isSuspended: false,
  hasPasswordAuth: true,
  isManaged: false,
  dateJoined: iso(joined),
  lastLogin: null,
  has2fa: false,
  lastActive: null,
  isSuperuser: false,
  isStaff: false,
  experiments: {},
  emails: [{ id, email, is_verified: false }],
  identities: [],
});

const pending: MemberRow = {
  id: '41', organization_slug: 'acme', user_id: null, email: 'bob@example.com', role: 'admin', invite_token_hash: 'h'.repeat(64),
  invite_expires_at: new Date(NOW + DAY), invited_by: 'user:7', created_at: new Date(NOW - DAY), user_name: null,
};
const accepted: MemberRow = {
  id: '42', organization_slug: 'acme', user_id: '7', email: 'ada@example.com', role: 'owner', invite_token_hash: null,
  invite_expires_at: null, invited_by: null, created_at: new Date(NOW - 2 * DAY), user_name: 'Ada', user_created_at: new Date(NOW - 3 * DAY),
};

describe('e-mail addresses', () => {
  const at254 = `${'a'.repeat(MAX_EMAIL - '@example.com'.length)}@example.com`;

  it.each<[string, string, string | undefined]>([
    ['an address of exactly 254 characters', at254, at254],
    ['an address of 255 characters', `a${at254}`, undefined],
    ['text after the address', 'ada@example.com x', undefined],
    ['a second @', 'ada@b@example.com', undefined],
    ['a dot ending the domain', 'ada@example.', undefined],
    ['a top-level domain only', 'ada@com', undefined],
    ['a quote in the local part', '"ada"@example.com', undefined],
    ['a subdomain and a plus', 'Ada+Ops@Mail.Example.CO', 'ada+ops@mail.example.co'],
  ])('given %s, when normalized, then %j', (_, raw, normalized) => {
    expect(normalizeEmail(raw)).toBe(normalized);
  });
});

describe('records', () => {
  it('given an e-mail and no name, when a user is made, then the address is its name and its id a decimal string', () => {
    const user = newUser({ email: 'ada@example.com', name: '', passwordHash: null, now: NOW });
    expect(user).toEqual({ userId: expect.stringMatching(/^[1-9]\d*$/), email: 'ada@example.com', name: 'ada@example.com', passwordHash: null, createdAt: NOW });
    expect(newUser({ email: 'ada@example.com', name: 'Ada', passwordHash: '$argon2id$x', now: NOW })).toMatchObject({ name: 'Ada', passwordHash: '$argon2id$x' });
  });

  it('given an inviter, when a member is invited, then a pending member whose invitation expires in 30 days, holding only the hash of the link token', () => {
    expect(INVITE_TTL_MS).toBe(30 * DAY);
    const { record, token } = newInvitation({ organizationSlug: 'acme', email: 'bob@example.com', role: 'admin', invitedBy: 'user:7', now: NOW });
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(record).toEqual({
      memberId: expect.stringMatching(/^[1-9]\d*$/), organizationSlug: 'acme', userId: null, email: 'bob@example.com', role: 'admin',
      inviteTokenHash: hashToken(token), inviteExpiresAt: NOW + 30 * DAY, invitedBy: 'user:7', createdAt: NOW,
    });
  });

  it('given a user, when a user token is made, then an active record with the hash of a tpu_ token', () => {
    const { record, token } = newUserToken({ userId: '7', scopes: ['event:read', 'org:read'], label: 'ci', now: NOW });
    expect(token).toMatch(/^tpu_[0-9a-f]{64}$/);
    expect(record).toEqual({ tokenId: expect.stringMatching(/^[1-9]\d*$/), tokenHash: hashToken(token), userId: '7', scopes: ['event:read', 'org:read'], label: 'ci', active: true, createdAt: NOW });
  });

  it('given a member row, when restated as a record and back, then the same member (a pending one with its expiry, an accepted one without)', () => {
    expect(memberRecord(pending)).toEqual({
      memberId: '41', organizationSlug: 'acme', userId: null, email: 'bob@example.com', role: 'admin', inviteTokenHash: 'h'.repeat(64),
      inviteExpiresAt: NOW + DAY, invitedBy: 'user:7', createdAt: NOW - DAY,
    });
    expect(memberRecord(accepted)).toMatchObject({ userId: '7', inviteTokenHash: null, inviteExpiresAt: null, invitedBy: null, createdAt: NOW - 2 * DAY });
    expect(memberRow(memberRecord(pending))).toEqual(pending);
    const { user_created_at: _, ...acceptedRow } = accepted;
    expect(memberRow(memberRecord(accepted), 'Ada')).toEqual(acceptedRow);
    expect(memberRow(memberRecord(accepted)).user_name).toBeNull();
  });
});

describe('answers', () => {
  it("given a user row, then Sentry's whole user object, with no hash", () => {
    const answer = serializeUser({ id: '7', email: 'ada@example.com', name: 'Ada', created_at: new Date(NOW) });
    expect(answer).toEqual(sentryUser('7', 'ada@example.com', 'Ada', NOW));
  });

  it("given a pending invitation, then Sentry's member with no user, not expired before its expiry", () => {
    const answer = serializeMember(pending, NOW);
    expect(answer).toEqual({
      id: '41', email: 'bob@example.com', name: 'bob@example.com', user: null, orgRole: 'admin', role: 'admin', roleName: 'Admin', pending: true, expired: false,
      flags: NO_FLAGS, dateCreated: iso(NOW - DAY), inviteStatus: 'approved', inviterName: null,
    });
    expect(contractProblems(`GET ${ORG}/members/`, 200, [answer])).toEqual([]);
  });

  // Trapline's accept route refuses the same way (`expires_at < now`): at the instant itself the
  // invitation still holds.
  it.each<[string, number, boolean]>([
    ['before its expiry', NOW + DAY - 1, false],
    ['at its expiry', NOW + DAY, false],
    ['after its expiry', NOW + DAY + 1, true],
  ])('given a pending invitation read %s, then expired is %s', (_, now, expired) => {
    expect(serializeMember(pending, now).expired).toBe(expired);
  });

  it('given a pending invitation without an expiry (an old one), then it never expires', () => {
    expect(serializeMember({ ...pending, invite_expires_at: null }, NOW + 1000 * DAY).expired).toBe(false);
  });

  it("given an accepted member, then Sentry's member with its user, dated when the user joined, never expired", () => {
    const answer = serializeMember({ ...accepted, invite_expires_at: new Date(0) }, NOW);
    expect(answer).toEqual({
      id: '42', email: 'ada@example.com', name: 'Ada', user: sentryUser('7', 'ada@example.com', 'Ada', NOW - 3 * DAY), orgRole: 'owner', role: 'owner', roleName: 'Owner',
      pending: false, expired: false, flags: NO_FLAGS, dateCreated: iso(NOW - 2 * DAY), inviteStatus: 'approved', inviterName: null,
    });
    expect(contractProblems(`GET ${ORG}/members/`, 200, [answer])).toEqual([]);
  });

  it('given an accepted member whose user has no name or join date in the row, then the address names it and the membership dates it', () => {
    const answer = serializeMember({ ...accepted, user_name: null, user_created_at: null }, NOW);
    expect(answer.name).toBe('ada@example.com');
    expect(answer.user).toEqual(sentryUser('7', 'ada@example.com', 'ada@example.com', NOW - 2 * DAY));
  });

  it.each<[string, string]>([['member', 'Member'], ['manager', 'Manager'], ['billing', 'Billing']])('given the role %s, then its name is %s', (role, name) => {
    expect(serializeMember({ ...accepted, role }, NOW).roleName).toBe(name);
  });

  it("given an admin viewing the only owner, then Sentry's member detail: no teams, the four roles with Sentry's words, the ones up to admin allowed", () => {
    const answer = serializeMemberDetail(accepted, NOW, { viewerRole: 'admin', owners: 1 });
    const role = (id: 'member' | 'admin' | 'manager' | 'owner', name: string, scopes: string[], allowed: boolean) => ({
      id, name, desc: ROLE_DESCRIPTIONS[id], scopes, allowed, isAllowed: allowed, isRetired: false, isTeamRolesAllowed: false, is_global: true, isGlobal: true, minimumTeamRole: '',
    });
    expect(answer).toEqual({
      ...serializeMember(accepted, NOW),
      teams: [],
      teamRoles: [],
      invite_link: null,
      isOnlyOwner: true,
      orgRoleList: [
        role('member', 'Member', ['org:read', 'member:read', 'project:read', 'event:admin'], true),
        role('admin', 'Admin', ['org:read', 'member:read', 'project:admin', 'event:admin'], true),
        role('manager', 'Manager', ['org:write', 'member:admin', 'project:admin', 'event:admin'], false),
        role('owner', 'Owner', ['org:admin', 'member:admin', 'project:admin', 'event:admin'], false),
      ],
      teamRoleList: [],
    });
    expect(contractProblems(`GET ${ORG}/members/{member_id}/`, 200, answer)).toEqual([]);
  });

  it("has Sentry's description of each role", () => {
    expect(ROLE_DESCRIPTIONS).toEqual({
      member: 'Members can view and act on events, as well as view most other data within the organization.',
      admin: "Admin privileges on any teams of which they're a member. They can create new teams and projects, as well as remove teams and projects on which they already hold membership.",
      manager: 'Gains admin access on all teams as well as the ability to add and remove members.',
      owner: 'Unrestricted access to the organization, its data, and its settings. Can add, modify, and delete projects and members, as well as make billing and plan changes.',
    });
  });

  it.each<[string, MemberRow, number, boolean]>([
    ['the one accepted owner', accepted, 1, true],
    ['one of two owners', accepted, 2, false],
    ['an accepted admin while one owner is counted', { ...accepted, role: 'admin' }, 1, false],
    ['a pending owner', { ...accepted, user_id: null }, 0, false],
  ])('given %s, then isOnlyOwner is %s', (_, row, owners, only) => {
    expect(serializeMemberDetail(row, NOW, { viewerRole: 'owner', owners }).isOnlyOwner).toBe(only);
  });

  it('given the owner viewing, then every role is allowed; given no role, none', () => {
    expect(serializeMemberDetail(accepted, NOW, { viewerRole: 'owner', owners: 1 }).orgRoleList.map((role) => role.allowed)).toEqual([true, true, true, true]);
    expect(serializeMemberDetail(accepted, NOW, { viewerRole: 'member', owners: 1 }).orgRoleList.map((role) => role.allowed)).toEqual([true, false, false, false]);
    expect(serializeMemberDetail(accepted, NOW, { viewerRole: null, owners: 1 }).orgRoleList.map((role) => role.isAllowed)).toEqual([false, false, false, false]);
  });

  const tokenRow = { id: '9', token_hash: 'h'.repeat(64), user_id: '7', scopes: ['event:read'], label: 'ci', active: true, created_at: new Date(NOW) };

  it("given the answer that creates a user token, then Sentry's api token with the plain token and its last four characters", () => {
    expect(serializeUserToken(tokenRow, 'tpu_0123456789abcdef')).toEqual({
      id: '9', name: 'ci', scopes: ['event:read'], application: null, expiresAt: null, dateCreated: iso(NOW), state: null, tokenLastCharacters: 'cdef', token: 'tpu_0123456789abcdef',
    });
  });

  it('given a listed user token, then no token and no last characters, and no hash', () => {
    const answer = serializeUserToken(tokenRow);
    expect(answer).toEqual({ id: '9', name: 'ci', scopes: ['event:read'], application: null, expiresAt: null, dateCreated: iso(NOW), state: null, tokenLastCharacters: null });
    expect('token' in answer).toBe(false);
  });
});
