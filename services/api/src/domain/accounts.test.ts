import { describe, expect, it } from 'vitest';
import { newInvitation, newUserToken, normalizeEmail, sameSecret, serializeMember, serializeUser } from './accounts.ts';
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
});
