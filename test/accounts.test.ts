import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli, startTrapline, type RunningTrapline } from './harness.ts';
import { createKafka, createLogger } from '@trapline/runtime';
import { readTopic } from './log.ts';

// People through the real stack and the front door (nginx on the public port): the first owner signs in with a cookie,
// invites someone who accepts with a password, roles decide what each may do, user tokens act
// with their user's role capped by their scopes, a removed member stops at once, failed sign-ins
// are throttled, and no password or hash leaves the one record that carries the hash.

const FAILURES_PER_EMAIL = 3;
let trapline: RunningTrapline;
let org: string;
let project: string;
let owner: { email: string; password: string };
/** Every plain password and secret this file has seen: none may be logged or stored. */
const secrets: string[] = [];

beforeAll(async () => {
  trapline = await startTrapline({ SIGN_IN_FAILURES_PER_EMAIL: String(FAILURES_PER_EMAIL), SIGN_IN_FAILURES_PER_ADDRESS: '8', SIGN_IN_THROTTLE_SECONDS: '60', DELETION_DELAY_SECONDS: '3600' });
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
  owner = { email: trapline.defaults.owner.email, password: trapline.defaults.owner.password! };
  secrets.push(owner.password);
});

afterAll(async () => {
  await trapline?.dispose();
});

interface Session {
  cookie: string;
  csrf: string;
}

const url = (path: string) => `${trapline.publicUrl}${path}`;
const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function signIn(email: string, password: string, address = '198.51.100.1'): Promise<{ response: Response; session?: Session }> {
  const response = await fetch(url('/api/0/auth/login/'), { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': address }, body: JSON.stringify({ email, password }) });
  if (response.status !== 200) return { response };
  const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
  const { csrfToken } = (await response.clone().json()) as { csrfToken: string };
  return { response, session: { cookie, csrf: csrfToken } };
}

/** A request as the web UI makes it: the cookie, and the CSRF token on writes. */
const as = (session: Session, method: string, path: string, body?: unknown, csrf = true) =>
  fetch(url(path), {
    method,
    headers: { cookie: session.cookie, ...(csrf && method !== 'GET' ? { 'x-csrftoken': session.csrf } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const bearer = (token: string, method: string, path: string, body?: unknown) =>
  fetch(url(path), { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

async function invite(by: Session, email: string, orgRole: string) {
  const response = await as(by, 'POST', `/api/0/organizations/${org}/members/`, { email, orgRole });
  expect(response.status, await response.clone().text()).toBe(201);
  const member = (await response.json()) as { id: string; inviteLink: string; pending: boolean };
  const [, memberId, token] = /\/accept\/(\d+)\/([0-9a-f]{64})\/$/.exec(member.inviteLink)!;
  secrets.push(token!);
  return { member, memberId: memberId!, token: token! };
}

async function joinAs(by: Session, email: string, orgRole: string, password: string) {
  const { memberId, token } = await invite(by, email, orgRole);
  secrets.push(password);
  const accepted = await fetch(url(`/api/0/accept-invite/${memberId}/${token}/`), { method: 'POST', ...json({ password, name: email.split('@')[0] }) });
  expect(accepted.status, await accepted.clone().text()).toBe(200);
  return { memberId, token, session: { cookie: accepted.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await accepted.json()) as { csrfToken: string }).csrfToken } };
}

describe('the first owner and sessions', () => {
  it('signs in with the printed password: an HTTP-only SameSite=Lax cookie, no Secure over http, and the user on /api/0/', async () => {
    const { response, session } = await signIn(owner.email, owner.password);
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^trapline_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect(await (await as(session!, 'GET', '/api/0/')).json()).toMatchObject({ user: { email: owner.email } });
    const orgs = (await (await as(session!, 'GET', '/api/0/organizations/')).json()) as { slug: string }[];
    expect(orgs.map((o) => o.slug)).toEqual([org]);
    expect((await as(session!, 'GET', `/api/0/projects/${org}/${project}/issues/`)).status).toBe(200);
  });

  it('answers a wrong password and an unknown email alike, and refuses a cookie write without the CSRF token', async () => {
    const wrong = await signIn(owner.email, 'not the password', '198.51.100.2');
    const unknown = await signIn('nobody@example.com', 'not the password', '198.51.100.2');
    expect([wrong.response.status, unknown.response.status]).toEqual([401, 401]);
    expect(await wrong.response.json()).toEqual(await unknown.response.json());
    const { session } = await signIn(owner.email, owner.password);
    const forged = await as(session!, 'POST', `/api/0/organizations/${org}/members/`, { email: 'csrf@example.com', orgRole: 'member' }, false);
    expect(forged.status).toBe(403);
    expect(await forged.json()).toEqual({ detail: 'CSRF Failed: CSRF token missing or incorrect.' });
    const wrongToken = await fetch(url(`/api/0/organizations/${org}/members/`), { method: 'POST', headers: { cookie: session!.cookie, 'x-csrftoken': 'x'.repeat(43), 'content-type': 'application/json' }, body: JSON.stringify({ email: 'csrf@example.com' }) });
    expect(wrongToken.status).toBe(403);
    const members = (await (await as(session!, 'GET', `/api/0/organizations/${org}/members/`)).json()) as { email: string }[];
    expect(members.map((member) => member.email)).not.toContain('csrf@example.com');
  });

  it('signs out: the cookie no longer works', async () => {
    const { session } = await signIn(owner.email, owner.password);
    expect((await as(session!, 'DELETE', '/api/0/auth/')).status).toBe(204);
    expect((await as(session!, 'GET', '/api/0/organizations/')).status).toBe(401);
  });

  it(`refuses sign-in with 429 and Retry-After after ${FAILURES_PER_EMAIL} failures for one email, even with the right password`, async () => {
    const email = 'throttled@example.com';
    const created = runCli(trapline.env, ['users', 'create', email, '--org', org]);
    expect(created.status, created.stderr).toBe(0);
    const password = /password (\S+)/.exec(created.stdout)![1]!;
    secrets.push(password);
    for (let attempt = 0; attempt < FAILURES_PER_EMAIL; attempt++) expect((await signIn(email, `wrong-${attempt}`, `203.0.113.${attempt}`)).response.status).toBe(401);
    const refused = await signIn(email, password, '203.0.113.99');
    expect(refused.response.status).toBe(429);
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.response.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // An unknown email is throttled the same way: the 429 tells nothing about existence.
    for (let attempt = 0; attempt < FAILURES_PER_EMAIL; attempt++) await signIn('ghost@example.com', 'x', `203.0.113.${50 + attempt}`);
    expect((await signIn('ghost@example.com', 'x', '203.0.113.98')).response.status).toBe(429);
  });

  it('refuses one address after its failures across many emails', async () => {
    const address = '192.0.2.77';
    for (let attempt = 0; attempt < 8; attempt++) await signIn(`spray-${attempt}@example.com`, 'guess', address);
    expect((await signIn(owner.email, owner.password, address)).response.status).toBe(429);
    expect((await signIn(owner.email, owner.password, '192.0.2.78')).response.status).toBe(200);
  });

  it('answers malformed and oversize sign-ins with 400', async () => {
    for (const body of [{ email: 'a'.repeat(300), password: 'x' }, { email: owner.email }, { email: owner.email, password: 'p'.repeat(300) }, 'not json']) {
      const response = await fetch(url('/api/0/auth/login/'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      expect(response.status).toBe(400);
      expect(await response.json()).toHaveProperty('detail');
    }
  });
});

describe('members, roles and invitations', () => {
  let ownerSession: Session;
  beforeAll(async () => {
    ownerSession = (await signIn(owner.email, owner.password)).session!;
  });

  it('invites with a single-use link: accepting sets the password and signs in; the link then fails', async () => {
    const { memberId, token } = await invite(ownerSession, 'Member@Example.com', 'member');
    const info = await (await fetch(url(`/api/0/accept-invite/${memberId}/${token}/`))).json();
    expect(info).toEqual({ orgSlug: org, email: 'member@example.com', orgRole: 'member', existingUser: false });
    expect((await fetch(url(`/api/0/accept-invite/${memberId}/${token}/`), { method: 'POST', ...json({ password: 'short' }) })).status).toBe(400);
    secrets.push('member password 1');
    const accepted = await fetch(url(`/api/0/accept-invite/${memberId}/${token}/`), { method: 'POST', ...json({ password: 'member password 1', name: 'Mem Ber' }) });
    expect(accepted.status).toBe(200);
    const again = await fetch(url(`/api/0/accept-invite/${memberId}/${token}/`), { method: 'POST', ...json({ password: 'member password 2' }) });
    expect(again.status).toBe(404);
    const { session } = await signIn('member@example.com', 'member password 1');
    expect(await (await as(session!, 'GET', '/api/0/users/me/')).json()).toMatchObject({ email: 'member@example.com', name: 'Mem Ber', organizations: [{ slug: org, orgRole: 'member' }] });
    const listed = (await (await as(ownerSession, 'GET', `/api/0/organizations/${org}/members/`)).json()) as { email: string; pending: boolean; orgRole: string }[];
    expect(listed.find((member) => member.email === 'member@example.com')).toMatchObject({ pending: false, orgRole: 'member' });
  });

  it("lets a member act on issues but not manage members, read the audit log or change projects (Sentry's member)", async () => {
    const { session } = await joinAs(ownerSession, 'plain@example.com', 'member', 'plain password');
    expect((await as(session, 'GET', `/api/0/projects/${org}/${project}/issues/`)).status).toBe(200);
    expect((await as(session, 'GET', `/api/0/organizations/${org}/members/`)).status).toBe(200);
    expect((await as(session, 'POST', `/api/0/organizations/${org}/members/`, { email: 'x@example.com' })).status).toBe(403);
    expect((await as(session, 'GET', `/api/0/organizations/${org}/audit-logs/`)).status).toBe(403);
    expect((await as(session, 'PUT', `/api/0/projects/${org}/${project}/`, { retentionDays: 5 })).status).toBe(403);
  });

  it('keeps roles in rank: a manager may invite a manager but not an owner, and may not touch an owner', async () => {
    const { session } = await joinAs(ownerSession, 'manager@example.com', 'manager', 'manager password');
    const owner = ((await (await as(session, 'GET', `/api/0/organizations/${org}/members/`)).json()) as { id: string; orgRole: string }[]).find((member) => member.orgRole === 'owner')!;
    const tooHigh = await as(session, 'POST', `/api/0/organizations/${org}/members/`, { email: 'boss@example.com', orgRole: 'owner' });
    expect(tooHigh.status).toBe(400);
    expect(await tooHigh.json()).toEqual({ detail: 'You do not have permission to grant that role.' });
    expect((await as(session, 'POST', `/api/0/organizations/${org}/members/`, { email: 'peer@example.com', orgRole: 'manager' })).status).toBe(201);
    expect((await as(session, 'PUT', `/api/0/organizations/${org}/members/${owner.id}/`, { orgRole: 'member' })).status).toBe(403);
    expect((await as(session, 'DELETE', `/api/0/organizations/${org}/members/${owner.id}/`)).status).toBe(403);
    expect((await as(session, 'GET', `/api/0/organizations/${org}/audit-logs/`)).status).toBe(200);
  });

  it('keeps the last owner: neither demoted nor removed, by themselves or anyone', async () => {
    const me = (await (await as(ownerSession, 'GET', `/api/0/organizations/${org}/members/me/`)).json()) as { id: string; orgRole: string };
    expect(me.orgRole).toBe('owner');
    const demoted = await as(ownerSession, 'PUT', `/api/0/organizations/${org}/members/${me.id}/`, { orgRole: 'manager' });
    expect(demoted.status).toBe(403);
    expect(await demoted.json()).toEqual({ detail: 'An organization must keep at least one owner.' });
    expect((await as(ownerSession, 'DELETE', `/api/0/organizations/${org}/members/me/`)).status).toBe(403);
    expect((await (await as(ownerSession, 'GET', `/api/0/organizations/${org}/members/me/`)).json()) as { orgRole: string }).toMatchObject({ orgRole: 'owner' });
  });

  it('refuses an expired invitation with 410 and a malformed link with 404, creating no user', async () => {
    const token = 'ab'.repeat(32);
    const { hashToken } = await import('@trapline/api');
    await trapline.appender.append(trapline.topics.admin, [{ key: 'member/777', name: 'MemberUpserted', value: { memberId: '777', organizationSlug: org, userId: null, email: 'late@example.com', role: 'member', inviteTokenHash: hashToken(token), inviteExpiresAt: Date.now() - 1000, invitedBy: 'test', createdAt: Date.now() - 2000 } }]);
    await eventually(async () => ((await trapline.pool.query("SELECT 1 FROM members WHERE id = '777'")).rowCount ? true : undefined), 'the invitation projected');
    const expired = await fetch(url(`/api/0/accept-invite/777/${token}/`), { method: 'POST', ...json({ password: 'late password' }) });
    expect(expired.status).toBe(410);
    expect((await fetch(url(`/api/0/accept-invite/777/${'cd'.repeat(32)}/`))).status).toBe(404);
    expect((await fetch(url('/api/0/accept-invite/777/not-a-token/'))).status).toBe(404);
    expect((await trapline.pool.query("SELECT 1 FROM users WHERE email = 'late@example.com'")).rowCount).toBe(0);
  });

  it('refuses bad invitations with 4xx and changes nothing', async () => {
    const before = await (await as(ownerSession, 'GET', `/api/0/organizations/${org}/members/`)).json();
    for (const body of [{ email: 'not-an-email' }, { email: 'x@example.com', orgRole: 'emperor' }, { email: `${'a'.repeat(300)}@example.com` }, { email: 'member@example.com' }]) {
      const response = await as(ownerSession, 'POST', `/api/0/organizations/${org}/members/`, body);
      expect(response.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(await response.json()).toHaveProperty('detail');
    }
    expect(await (await as(ownerSession, 'GET', `/api/0/organizations/${org}/members/`)).json()).toEqual(before);
  });

  it('names the signed-in user in the audit log and in a deletion they asked for', async () => {
    const { session } = await joinAs(ownerSession, 'auditor@example.com', 'owner', 'auditor password');
    const key = new URL(trapline.defaults.dsn).username;
    const sent = (await (await fetch(url(`/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`), { method: 'POST', body: JSON.stringify({ message: 'to be deleted by a person' }) })).json()) as { id: string };
    const issueId = await eventually(async () => (await trapline.pool.query<{ group_id: string }>('SELECT group_id::text FROM events WHERE event_id = $1', [sent.id])).rows[0]?.group_id, 'the issue');
    const deleted = await as(session, 'DELETE', `/api/0/issues/${issueId}/`);
    expect(deleted.status).toBe(202);
    const { transactionId } = (await deleted.json()) as { transactionId: string };
    const deletion = await eventually(async () => {
      const response = await as(session, 'GET', `/api/0/deletions/${transactionId}/`);
      return response.status === 200 ? ((await response.json()) as { actor: unknown }) : undefined;
    }, 'the deletion status');
    expect(deletion.actor).toMatchObject({ type: 'user', email: 'auditor@example.com', name: 'auditor' });
    const audit = (await (await as(session, 'GET', `/api/0/organizations/${org}/audit-logs/?event=member.invite`)).json()) as { rows: { actor: { email: string; type: string }; data: { email: string } }[] };
    expect(audit.rows.find((row) => row.data.email === 'auditor@example.com')?.actor).toMatchObject({ type: 'user', email: owner.email });
    const listed = runCli(trapline.env, ['deletions', 'list']);
    expect(listed.stdout).toContain('auditor@example.com');
  });
});

describe('user tokens and removal', () => {
  let ownerSession: Session;
  beforeAll(async () => {
    ownerSession = (await signIn(owner.email, owner.password)).session!;
    // Another organization this deployment holds, whose owner is someone else.
    const other = runCli(trapline.env, ['orgs', 'create', 'elsewhere']);
    expect(other.status, other.stderr).toBe(0);
    const created = runCli(trapline.env, ['users', 'create', 'stranger@example.com', '--org', 'elsewhere', '--role', 'owner']);
    expect(created.status, created.stderr).toBe(0);
    secrets.push(/password (\S+)/.exec(created.stdout)![1]!);
  });

  it("acts with the user's role in their organizations only, capped by the token's scopes; a token cannot mint tokens", async () => {
    const { session } = await joinAs(ownerSession, 'tokens@example.com', 'admin', 'tokens password');
    const created = await as(session, 'POST', '/api/0/api-tokens/', { scopes: ['event:read', 'project:read', 'org:read'], name: 'laptop' });
    expect(created.status).toBe(201);
    const { token, id } = (await created.json()) as { token: string; id: string };
    secrets.push(token);
    expect(((await (await bearer(token, 'GET', '/api/0/organizations/')).json()) as { slug: string }[]).map((o) => o.slug)).toEqual([org]);
    expect((await bearer(token, 'GET', `/api/0/projects/${org}/${project}/issues/`)).status).toBe(200);
    expect((await bearer(token, 'GET', '/api/0/organizations/elsewhere/')).status).toBe(404);
    expect((await bearer(token, 'GET', `/api/0/organizations/elsewhere/members/`)).status).toBe(403);
    expect((await bearer(token, 'PUT', `/api/0/projects/${org}/${project}/`, { retentionDays: 3 })).status).toBe(403);
    expect((await bearer(token, 'POST', '/api/0/api-tokens/', { scopes: ['event:read'] })).status).toBe(403);
    const listed = (await (await as(session, 'GET', '/api/0/api-tokens/')).json()) as { id: string; token?: string }[];
    expect(listed).toEqual([expect.objectContaining({ id, name: 'laptop', tokenLastCharacters: null })]);
    expect(listed[0]).not.toHaveProperty('token');
    expect((await as(session, 'DELETE', `/api/0/api-tokens/${id}/`)).status).toBe(204);
    expect((await bearer(token, 'GET', '/api/0/organizations/')).status).toBe(401);
  });

  it("shows no other organization's members, and a session there is 404", async () => {
    const stranger = runCli(trapline.env, ['users', 'reset-password', 'stranger@example.com']);
    const password = /password (\S+)/.exec(stranger.stdout)![1]!;
    secrets.push(password);
    const { session } = await signIn('stranger@example.com', password);
    for (const path of [`/api/0/organizations/${org}/members/`, `/api/0/organizations/${org}/members/me/`, `/api/0/organizations/${org}/`, `/api/0/projects/${org}/${project}/issues/`]) {
      expect((await as(session!, 'GET', path)).status, path).toBe(404);
    }
    expect((await as(session!, 'POST', `/api/0/organizations/${org}/members/`, { email: 'spy@example.com' })).status).toBe(404);
    expect(((await (await as(ownerSession, 'GET', '/api/0/organizations/')).json()) as { slug: string }[]).map((o) => o.slug)).toEqual([org]);
  });

  it("stops a removed member's session and tokens within seconds", async () => {
    const { memberId, session } = await joinAs(ownerSession, 'leaver@example.com', 'member', 'leaver password');
    const { token } = (await (await as(session, 'POST', '/api/0/api-tokens/', { scopes: ['event:read', 'org:read'] })).json()) as { token: string };
    secrets.push(token);
    expect((await as(session, 'GET', `/api/0/projects/${org}/${project}/issues/`)).status).toBe(200);
    expect((await as(ownerSession, 'DELETE', `/api/0/organizations/${org}/members/${memberId}/`)).status).toBe(204);
    const removedAt = Date.now();
    await eventually(async () => ((await as(session, 'GET', `/api/0/projects/${org}/${project}/issues/`)).status === 404 ? true : undefined), 'the session refused', 5000);
    await eventually(async () => ((await bearer(token, 'GET', `/api/0/organizations/${org}/`)).status === 404 ? true : undefined), 'the token refused', 5000);
    expect(Date.now() - removedAt).toBeLessThan(5000);
    // Removing the user erases them: their session is then unauthenticated.
    const removed = runCli(trapline.env, ['users', 'remove', 'leaver@example.com']);
    expect(removed.status, removed.stderr).toBe(0);
    expect((await as(session, 'GET', '/api/0/users/me/')).status).toBe(401);
    expect((await bearer(token, 'GET', '/api/0/users/me/')).status).toBe(401);
  });

  it('lists users and members from the CLI, and refuses to remove the last owner', () => {
    expect(runCli(trapline.env, ['users', 'list']).stdout).toContain(owner.email);
    const members = runCli(trapline.env, ['members', 'list', 'elsewhere']);
    expect(members.stdout).toContain('stranger@example.com');
    const refused = runCli(trapline.env, ['members', 'remove', 'elsewhere', 'stranger@example.com']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('last owner');
    const invited = runCli(trapline.env, ['members', 'invite', 'elsewhere', 'new@example.com', '--role', 'admin']);
    expect(invited.stdout).toMatch(/\/accept\/\d+\/[0-9a-f]{64}\//);
    secrets.push(/\/accept\/\d+\/([0-9a-f]{64})\//.exec(invited.stdout)![1]!);
  });

  it('bootstrap again names the same owner and says the password was shown before', () => {
    const again = runCli(trapline.env, ['bootstrap']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`sign in as   ${owner.email}`);
    expect(again.stdout).toContain('shown at the first start');
    expect(again.stdout).not.toContain(owner.password);
  });
});

describe('team membership', () => {
  let ownerSession: Session;
  let joiner: { memberId: string; session: Session };
  let bystander: { memberId: string; session: Session };
  let foreign: { token: string; memberId: string; teamId: string };
  const LEAVE_REFUSAL = "You do not have permission to edit that user's membership.";
  const onTeam = (memberId: string, team = 'platform') => `/api/0/organizations/${org}/members/${memberId}/teams/${team}/`;
  const teamMembers = async () => ((await (await as(ownerSession, 'GET', `/api/0/teams/${org}/platform/members/`)).json()) as { id: string; email: string }[]).map((member) => member.email);
  /** The end offsets of the topics an API write appends to: unchanged means nothing appended. */
  const logEnds = async () => {
    const admin = createKafka(trapline.config.kafkaBrokers, 'test-team-ends', createLogger('test', 'error')).admin();
    await admin.connect();
    try {
      return await Promise.all([trapline.topics.admin, trapline.topics.audit].map(async (topic) => (await admin.fetchTopicOffsets(topic)).map((partition) => partition.high).join()));
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    ownerSession = (await signIn(owner.email, owner.password)).session!;
    expect((await as(ownerSession, 'POST', `/api/0/organizations/${org}/teams/`, { slug: 'platform' })).status).toBe(201);
    joiner = await joinAs(ownerSession, 'joiner@example.com', 'member', 'joiner password');
    bystander = await joinAs(ownerSession, 'bystander@example.com', 'member', 'bystander password');
    // 'elsewhere' (made above) with a team of its own and its owner, a member there.
    const token = runCli(trapline.env, ['tokens', 'create', 'elsewhere']).stdout.trim();
    secrets.push(token);
    const team = await bearer(token, 'POST', '/api/0/organizations/elsewhere/teams/', { slug: 'foreign' });
    expect(team.status).toBe(201);
    const members = (await (await bearer(token, 'GET', '/api/0/organizations/elsewhere/members/')).json()) as { id: string; email: string }[];
    foreign = { token, memberId: members.find((member) => member.email === 'stranger@example.com')!.id, teamId: ((await team.json()) as { id: string }).id };
  });

  it('a member joins a team with a cookie (201, then 204), and the team lists its accepted members only', async () => {
    const joined = await as(joiner.session, 'POST', onTeam('me'));
    expect(joined.status, await joined.clone().text()).toBe(201);
    expect(await joined.json()).toMatchObject({ slug: 'platform', isMember: true, teamRole: 'contributor', memberCount: 1 });
    expect((await as(joiner.session, 'POST', onTeam(joiner.memberId))).status).toBe(204);
    const { memberId: pending } = await invite(ownerSession, 'not-yet@example.com', 'member');
    expect((await as(ownerSession, 'POST', onTeam(pending))).status).toBe(201);
    expect(await teamMembers()).toEqual(['joiner@example.com']);
    const detail = (await (await as(ownerSession, 'GET', `/api/0/organizations/${org}/members/${joiner.memberId}/`)).json()) as { teams: string[] };
    expect(detail.teams).toEqual(['platform']);
  });

  it("refuses another organization's member or team, a malformed member or team, and an organization not the caller's: 404 with detail, nothing appended", async () => {
    const before = await logEnds();
    for (const [method, path, status] of [
      ['POST', onTeam(foreign.memberId), 404],
      ['DELETE', onTeam(foreign.memberId), 404],
      ['POST', onTeam(joiner.memberId, 'foreign'), 404],
      ['POST', onTeam(joiner.memberId, foreign.teamId), 404],
      ['DELETE', onTeam(joiner.memberId, foreign.teamId), 404],
      ['GET', '/api/0/teams/elsewhere/foreign/members/', 404],
      ['POST', '/api/0/organizations/elsewhere/members/me/teams/foreign/', 404],
      // A malformed path names nothing: 404, as Sentry answers it.
      ['POST', onTeam('not-a-member'), 404],
      ['POST', onTeam(joiner.memberId, 'no such team!'), 404],
    ] as const) {
      const response = await as(ownerSession, method, path);
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(typeof ((await response.json()) as { detail: unknown }).detail, `${method} ${path}`).toBe('string');
    }
    // The other organization's token reaches neither our member nor our team.
    expect((await bearer(foreign.token, 'POST', onTeam(joiner.memberId))).status).toBe(404);
    expect((await bearer(foreign.token, 'POST', `/api/0/organizations/elsewhere/members/${joiner.memberId}/teams/foreign/`)).status).toBe(404);
    expect((await bearer(foreign.token, 'POST', `/api/0/organizations/elsewhere/members/${foreign.memberId}/teams/platform/`)).status).toBe(404);
    expect(await logEnds()).toEqual(before);
    expect(await teamMembers()).toEqual(['joiner@example.com']);
  });

  it('takes a member off a team only for themself, an organization writer or a team admin (else 400, nothing appended)', async () => {
    const before = await logEnds();
    const refused = await as(bystander.session, 'DELETE', onTeam(joiner.memberId));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ detail: LEAVE_REFUSAL });
    expect(await logEnds()).toEqual(before);
    expect((await as(ownerSession, 'POST', onTeam(bystander.memberId))).status).toBe(201);
    // A contributor of the team may not take another member off it.
    expect((await as(joiner.session, 'DELETE', onTeam(bystander.memberId))).status).toBe(400);
    const left = await as(joiner.session, 'DELETE', onTeam('me'));
    expect(left.status).toBe(200);
    expect(await left.json()).toMatchObject({ slug: 'platform', isMember: false, teamRole: null, memberCount: 1 });
    expect((await as(ownerSession, 'DELETE', onTeam(bystander.memberId))).status).toBe(200);
    expect(await teamMembers()).toEqual([]);
    const audit = (await (await as(ownerSession, 'GET', `/api/0/organizations/${org}/audit-logs/?event=member.leave-team`)).json()) as { rows: { note: string }[] };
    expect(audit.rows.map((row) => row.note).sort()).toEqual(['removed member bystander@example.com from team platform', 'removed member joiner@example.com from team platform']);
  });

  it('a member removed from the organization leaves its teams, on the log too', async () => {
    expect((await as(ownerSession, 'POST', onTeam(joiner.memberId))).status).toBe(201);
    expect(await teamMembers()).toEqual(['joiner@example.com']);
    expect((await as(ownerSession, 'DELETE', `/api/0/organizations/${org}/members/${joiner.memberId}/`)).status).toBe(204);
    expect(await teamMembers()).toEqual([]);
    expect((await trapline.pool.query('SELECT 1 FROM team_members WHERE member_id = $1', [joiner.memberId])).rowCount).toBe(0);
    const records = (await readTopic(trapline.config, trapline.topics.admin, 1500)).filter((record) => record.key?.endsWith(`/member/${joiner.memberId}`));
    expect(records.at(-1)).toMatchObject({ value: null });
  });
});

describe('secrets', () => {
  it('keeps hashes only in UserUpserted records, and no password or token in any table, topic or log', async () => {
    const hashRecords = new Map<string, number>();
    for (const topic of Object.values(trapline.topics)) {
      for (const record of await readTopic(trapline.config, topic, 1500)) {
        const bytes = Buffer.concat([Buffer.from(record.key ?? ''), record.value ?? Buffer.alloc(0)]);
        if (bytes.includes('$argon2')) hashRecords.set(`${topic}:${record.schema}`, (hashRecords.get(`${topic}:${record.schema}`) ?? 0) + 1);
        for (const secret of secrets) expect(bytes.includes(secret), `${secret.slice(0, 6)}… on ${topic}`).toBe(false);
      }
    }
    expect([...hashRecords.keys()]).toEqual([`${trapline.topics.admin}:UserUpserted`]);
    const tables = (await trapline.pool.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = current_schema()')).rows;
    for (const { tablename } of tables) {
      const rows = (await trapline.pool.query<{ row: string }>(`SELECT t::text AS row FROM "${tablename}" t`)).rows;
      for (const secret of secrets) expect(rows.some((row) => row.row.includes(secret)), `${secret.slice(0, 6)}… in ${tablename}`).toBe(false);
      if (tablename !== 'users') expect(rows.some((row) => row.row.includes('$argon2')), `a hash in ${tablename}`).toBe(false);
    }
    await trapline.services.stopAll();
    const logDir = join(trapline.config.TRAPLINE_STATE_DIR!, 'logs');
    for (const file of readdirSync(logDir)) {
      const text = readFileSync(join(logDir, file), 'utf8');
      expect(text.includes('$argon2'), `a hash in ${file}`).toBe(false);
      for (const secret of secrets) expect(text.includes(secret), `${secret.slice(0, 6)}… in ${file}`).toBe(false);
    }
  });
});
