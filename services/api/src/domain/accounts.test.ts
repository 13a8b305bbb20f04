import type { MemberRow } from '@trapline/runtime';
import { describe, expect, it } from 'vitest';
import { newInvitation, newUserToken, normalizeEmail, sameSecret, serializeMember, serializeMemberDetail, serializeUser } from './accounts.ts';
import { checkPassword, hashPassword } from './passwords.ts';
import { hashToken } from './tokens.ts';

describe('emails', () => {
  it.each<[string, string | undefined]>([
    ['Ada@Example.COM', 'ada@example.com'],
    ['  bob@example.org ', 'bob@example.org'],
    ['no-at-sign', undefined],
    ['a@b', undefined],
    ['a b@example.com', undefined],
    ['<script>@example.com', undefined],
    [`${'a'.repeat(250)}@example.com`, undefined],
  ])('%j is %j', (raw, normalized) => {
    expect(normalizeEmail(raw)).toBe(normalized);
  });
});

describe('secrets', () => {
  it('compares equal and unequal secrets, of any length, without throwing', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });

  it('keeps only the hash of an invitation token and of a user token', () => {
    const invitation = newInvitation({ organizationSlug: 'acme', email: 'bob@example.com', role: 'member', invitedBy: 'user:1', now: 0 });
    expect(invitation.record.inviteTokenHash).toBe(hashToken(invitation.token));
    expect(JSON.stringify(invitation.record)).not.toContain(invitation.token);
    const token = newUserToken({ userId: '1', scopes: ['event:read'], label: 'ci', now: 0 });
    expect(JSON.stringify(token.record)).not.toContain(token.token);
  });
});

describe('passwords', () => {
  it('hashes with argon2id, verifies the right password only, and refuses when there is no hash', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await checkPassword(hash, 'correct horse battery')).toBe(true);
    expect(await checkPassword(hash, 'wrong horse battery')).toBe(false);
    expect(await checkPassword(undefined, 'correct horse battery')).toBe(false);
    expect(await checkPassword(null, '')).toBe(false);
  });
});

describe('answers', () => {
  it('shows a user and a member without any hash', () => {
    const user = serializeUser({ id: '1', email: 'ada@example.com', name: 'Ada', created_at: new Date(0), password_hash: '$argon2id$secret' } as never);
    expect(JSON.stringify(user)).not.toContain('argon2');
    const member = serializeMember({ id: '2', organization_slug: 'acme', user_id: null, email: 'bob@example.com', role: 'admin', invite_token_hash: 'hash-secret', invite_expires_at: new Date(10), invited_by: 'user:1', created_at: new Date(0), user_name: null }, 20);
    expect(member).toMatchObject({ pending: true, expired: true, orgRole: 'admin', user: null });
    expect(JSON.stringify(member)).not.toContain('hash-secret');
  });

  const accepted: MemberRow = { id: '3', organization_slug: 'acme', user_id: '7', email: 'ada@example.com', role: 'owner', invite_token_hash: null, invite_expires_at: null, invited_by: null, created_at: new Date(5000), user_name: 'Ada', user_created_at: new Date(1000) };

  it("gives an accepted member Sentry's user, dated when the user joined", () => {
    expect(serializeMember(accepted, 0)).toMatchObject({ pending: false, expired: false, name: 'Ada', inviteStatus: 'approved', user: { id: '7', email: 'ada@example.com', username: 'ada@example.com', dateJoined: new Date(1000).toISOString(), emails: [{ id: '7', email: 'ada@example.com', is_verified: false }] } });
  });

  it.each<[string, number, boolean]>([
    ['the one accepted owner', 1, true],
    ['one of two owners', 2, false],
  ])('says whether %s is the only owner', (_, owners, only) => {
    expect(serializeMemberDetail(accepted, 0, { viewerRole: 'owner', owners }).isOnlyOwner).toBe(only);
  });

  it('never calls a pending owner the only one', () => {
    expect(serializeMemberDetail({ ...accepted, user_id: null }, 0, { viewerRole: 'owner', owners: 0 }).isOnlyOwner).toBe(false);
  });

  it('lists the teams the member is on by slug, each with its team role as set', () => {
    const detail = serializeMemberDetail(accepted, 0, { viewerRole: 'owner', owners: 1, teams: [{ slug: 'backend', team_role: null }, { slug: 'web', team_role: 'admin' }] });
    expect([detail.teams, detail.teamRoles]).toEqual([['backend', 'web'], [{ teamSlug: 'backend', role: null }, { teamSlug: 'web', role: 'admin' }]]);
    expect(serializeMemberDetail(accepted, 0, { viewerRole: 'owner', owners: 1 }).teams).toEqual([]);
  });

  it('allows the viewer the roles up to its own, with their scopes', () => {
    const roles = serializeMemberDetail(accepted, 0, { viewerRole: 'admin', owners: 1 }).orgRoleList;
    expect(roles.map((role) => [role.id, role.allowed, role.isAllowed])).toEqual([['member', true, true], ['admin', true, true], ['manager', false, false], ['owner', false, false]]);
    expect(roles[0]!.scopes).toEqual(['org:read', 'member:read', 'project:read', 'event:admin']);
    expect(serializeMemberDetail(accepted, 0, { viewerRole: null, owners: 1 }).orgRoleList.every((role) => !role.allowed)).toBe(true);
  });
});
