import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '@trapline/api';
import { contractProblems, sentryOperation, TRAPLINE_OWN } from './contract.ts';
import { loadSdkFixtures, retarget } from './fixtures/sdk-fixtures.ts';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// Every /api/0/ endpoint that Sentry's OpenAPI description covers, answered by the running stack
// through the gateway and validated against the description's response schema for its status:
// lists empty and full, each issue type and status, events with and without exceptions (the
// golden SDK payloads and hand-made Java and Go ones), error statuses. To hold a new endpoint to
// the contract, add one `check(…)` line; the last test fails for a covered route never checked.

let trapline: RunningTrapline;
let org: string;
let project: string;
let readOnlyToken: string;
let otherToken: string;
const checked = new Set<string>();

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- an answer's shape is what the contract checks
}

/** One call through the gateway, checked against the description; the answer for further steps. */
async function check(method: string, path: string, options: { body?: unknown; form?: FormData; token?: string | null; status?: number } = {}): Promise<Answer> {
  const token = options.token === undefined ? trapline.defaults.token : options.token;
  const response = await fetch(`${trapline.publicUrl}/api/0${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    ...(options.form === undefined ? {} : { body: options.form }),
  });
  const text = await response.text();
  const body = text === '' ? undefined : JSON.parse(text);
  const operation = sentryOperation(method, `/api/0${path}`);
  expect(operation, `${method} ${path} is covered by the description`).toBeDefined();
  if (options.status !== undefined) expect(response.status, `${method} ${path}: ${text.slice(0, 300)}`).toBe(options.status);
  expect(contractProblems(operation!, response.status, body), `${method} ${path} → ${response.status}`).toEqual([]);
  if (response.status < 300) checked.add(operation!);
  return { status: response.status, body };
}

async function sendEvent(event: Record<string, unknown>): Promise<string> {
  const key = new URL(trapline.defaults.dsn).username;
  const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify(event) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

const frames = (module: string) => [
  { module: 'runtime', function: 'goexit', filename: 'runtime/asm_amd64.s', in_app: false },
  { module, function: 'Checkout', filename: 'checkout.go', lineno: 42, in_app: true },
];

const HANDMADE = {
  java: { platform: 'java', level: 'error', exception: { values: [{ type: 'IllegalStateException', value: 'cart is empty', module: 'java.lang', stacktrace: { frames: [{ module: 'java.lang.Thread', function: 'run', filename: 'Thread.java', in_app: false }, { module: 'com.shop.Cart', function: 'checkout', filename: 'Cart.java', lineno: 7, in_app: true }] } }] }, modules: { 'org.springframework:spring-core': '6.1.0' } },
  go: { platform: 'go', level: 'error', exception: { values: [{ type: '*errors.errorString', value: 'stock exhausted', stacktrace: { frames: frames('shop/checkout') } }] }, modules: { 'github.com/getsentry/sentry-go': '0.30.0' } },
  message: { platform: 'python', level: 'warning', message: 'disk almost full', logger: 'storage' },
};

let issues: { id: string; title: string; culprit: string; status: string }[];
let eventIds: Record<string, string>;

beforeAll(async () => {
  trapline = await startTrapline();
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
  readOnlyToken = `tpl_${randomBytes(16).toString('hex')}`;
  otherToken = `tpl_${randomBytes(16).toString('hex')}`;
  const now = Date.now();
  await trapline.appender.append(trapline.topics.admin, [
    { key: 'project/2', name: 'ProjectUpserted', value: { projectId: 2, organizationSlug: org, slug: 'empty', name: 'Empty', platform: null, createdAt: now } },
    { key: 'organization/other', name: 'OrganizationUpserted', value: { slug: 'other', name: 'Other', createdAt: now } },
    { key: `token/${hashToken(readOnlyToken)}`, name: 'ApiTokenUpserted', value: { tokenHash: hashToken(readOnlyToken), organizationSlug: org, scopes: ['org:read'], label: 'read', active: true, createdAt: now } },
    { key: `token/${hashToken(otherToken)}`, name: 'ApiTokenUpserted', value: { tokenHash: hashToken(otherToken), organizationSlug: 'other', scopes: ['org:admin', 'project:admin', 'event:admin'], label: 'other', active: true, createdAt: now } },
  ]);
  await eventually(async () => ((await fetch(`${trapline.publicUrl}/api/0/projects/${org}/empty/`, { headers: { authorization: `Bearer ${otherToken}` } })).status === 404 ? true : undefined), 'the other token');
}, 240000);

afterAll(async () => {
  await trapline?.dispose();
});

describe("Sentry's OpenAPI description", () => {
  it('holds for empty lists and an organization without events', async () => {
    await check('GET', '/organizations/');
    await check('GET', `/organizations/${org}/`);
    await check('GET', `/organizations/${org}/projects/`);
    expect((await check('GET', `/projects/${org}/empty/`)).body.firstEvent).toBeNull();
    await check('GET', `/projects/${org}/empty/issues/`);
    await check('GET', `/projects/${org}/empty/events/`);
    await check('GET', `/organizations/${org}/issues/?query=`);
    await check('GET', `/projects/${org}/empty/keys/`);
  });

  it('holds for issues of every type, from the golden SDK payloads and hand-made Java, Go and message events', async () => {
    const target = { publicKey: new URL(trapline.defaults.dsn).username, projectId: trapline.defaults.projectId };
    eventIds = {};
    for (const fixture of loadSdkFixtures()) {
      const request = retarget(fixture, target);
      const response = await fetch(`${trapline.publicUrl}${request.path}`, { method: fixture.method, headers: request.headers, body: new Uint8Array(request.body) });
      expect(response.status).toBe(200);
      eventIds[fixture.name] = ((await response.json()) as { id: string }).id;
    }
    for (const [name, event] of Object.entries(HANDMADE)) eventIds[name] = await sendEvent(event);
    const expected = Object.keys(eventIds).length;
    issues = await eventually(async () => {
      const { body } = await check('GET', `/projects/${org}/${project}/issues/?query=&groupStatsPeriod=24h`);
      return body.length === expected ? body : undefined;
    }, `${expected} issues`);
    await check('GET', `/organizations/${org}/issues/?query=&groupStatsPeriod=14d`);
    await check('GET', `/projects/${org}/${project}/events/`);
    await check('GET', `/projects/${org}/${project}/events/?full=true`);
    for (const issue of issues) {
      await check('GET', `/organizations/${org}/issues/${issue.id}/`);
      await check('GET', `/issues/${issue.id}/`);
      await check('GET', `/organizations/${org}/issues/${issue.id}/events/`);
      await check('GET', `/organizations/${org}/issues/${issue.id}/events/latest/`);
      await check('GET', `/issues/${issue.id}/events/oldest/`);
      await check('GET', `/organizations/${org}/issues/${issue.id}/tags/level/values/`);
    }
    for (const id of Object.values(eventIds)) await check('GET', `/projects/${org}/${project}/events/${id}/`);
  });

  it('gives the culprit as Sentry writes it: module in function, function(module) for JavaScript', async () => {
    const culprit = async (name: string) => (await check('GET', `/projects/${org}/${project}/events/${eventIds[name]}/`)).body;
    const java = await culprit('java');
    expect(java).toMatchObject({ culprit: 'com.shop.Cart in checkout', location: 'Cart.java', packages: { 'org.springframework:spring-core': '6.1.0' } });
    expect(java.entries.find((entry: { type: string }) => entry.type === 'exception').data.hasSystemFrames).toBe(true);
    expect(await culprit('go')).toMatchObject({ culprit: 'shop/checkout in Checkout', location: 'checkout.go' });
    expect(await culprit('message')).toMatchObject({ culprit: null, location: null, packages: {} });
    const node = await culprit('node-exception');
    expect(node.culprit).toMatch(/^[^ ]+\([^)]+\)$/);
    expect(Object.keys(node.packages).length).toBeGreaterThan(0);
    const byTitle = (title: string) => issues.find((issue) => issue.title.startsWith(title))!;
    // One more event of the Java issue: the latest names the first as its previous, the oldest the latest as its next.
    await sendEvent(HANDMADE.java);
    const javaIssue = byTitle('IllegalStateException').id;
    const latest = await eventually(async () => {
      const { body } = await check('GET', `/organizations/${org}/issues/${javaIssue}/events/latest/`);
      return body.eventID !== eventIds.java ? body : undefined;
    }, 'the second Java event');
    expect(latest).toMatchObject({ previousEventID: eventIds.java, nextEventID: null });
    expect((await check('GET', `/issues/${javaIssue}/events/oldest/`)).body).toMatchObject({ eventID: eventIds.java, previousEventID: null, nextEventID: latest.eventID });
    expect(byTitle('IllegalStateException').culprit).toBe('com.shop.Cart in checkout');
    expect(byTitle('*errors.errorString').culprit).toBe('shop/checkout in Checkout');
  });

  it('holds for every issue status and the writes that set them', async () => {
    const [resolved, ignored, deleted] = issues;
    await check('PUT', `/organizations/${org}/issues/${resolved!.id}/`, { body: { status: 'resolved' } });
    await check('PUT', `/issues/${ignored!.id}/`, { body: { status: 'ignored' } });
    await check('PUT', `/projects/${org}/${project}/issues/?id=${resolved!.id}`, { body: { status: 'resolved' } });
    await eventually(async () => ((await check('GET', `/organizations/${org}/issues/${ignored!.id}/`)).body.status === 'ignored' ? true : undefined), 'the ignored issue');
    await eventually(async () => ((await check('GET', `/organizations/${org}/issues/${resolved!.id}/`)).body.status === 'resolved' ? true : undefined), 'the resolved issue');
    await check('GET', `/projects/${org}/${project}/issues/?query=is:resolved`);
    await check('GET', `/projects/${org}/${project}/issues/?query=is:ignored`);
    await check('DELETE', `/organizations/${org}/issues/${deleted!.id}/`, { status: 202 });
    await check('DELETE', `/projects/${org}/${project}/issues/?id=${issues[3]!.id}`, { status: 204 });
  });

  it('holds for projects and keys, read and written', async () => {
    expect((await check('GET', `/projects/${org}/${project}/`)).body.firstEvent).toMatch(/^\d{4}-\d\d-\d\dT/);
    await check('PUT', `/projects/${org}/${project}/`, { body: { allowedDomains: ['example.com'] } });
    await check('PUT', `/projects/${org}/${project}/`, { body: { name: 'Default project', platform: 'node' }, status: 200 });
    const created = await check('POST', `/projects/${org}/${project}/keys/`, { body: { name: 'ci', rateLimit: { count: 100, window: 60 } }, status: 201 });
    expect(created.body.rateLimit).toEqual({ count: 100, window: 60 });
    await eventually(async () => ((await check('GET', `/projects/${org}/${project}/keys/`)).body.some((key: { id: string }) => key.id === created.body.id) ? true : undefined), 'the new key');
    await check('GET', `/projects/${org}/${project}/keys/${created.body.id}/`, { status: 200 });
    await check('PUT', `/projects/${org}/${project}/keys/${created.body.id}/`, { body: { isActive: false, rateLimit: null }, status: 200 });
    await check('DELETE', `/projects/${org}/${project}/keys/${created.body.id}/`, { status: 204 });
  });

  it('holds for teams: none, created, one, its projects none and some, a project created in it', async () => {
    await check('GET', `/organizations/${org}/teams/`);
    const team = await check('POST', `/organizations/${org}/teams/`, { body: { name: 'Back End' }, status: 201 });
    expect(team.body).toMatchObject({ slug: 'back-end', name: 'Back End' });
    await eventually(async () => ((await check('GET', `/organizations/${org}/teams/`)).body.length === 1 ? true : undefined), 'the team');
    await check('GET', `/teams/${org}/back-end/`, { status: 200 });
    await check('GET', `/teams/${org}/back-end/projects/`);
    const created = await check('POST', `/teams/${org}/back-end/projects/`, { body: { name: 'Billing API', platform: 'python' }, status: 201 });
    expect(created.body).toMatchObject({ slug: 'billing-api', team: { slug: 'back-end' }, teams: [{ slug: 'back-end' }] });
    const projects = await eventually(async () => {
      const { body } = await check('GET', `/teams/${org}/back-end/projects/`);
      return body.length === 1 ? body : undefined;
    }, "the team's project");
    expect(projects[0]).toMatchObject({ slug: 'billing-api', teams: [{ slug: 'back-end', name: 'Back End' }] });
    await check('GET', `/projects/${org}/billing-api/`);
    await check('POST', `/teams/${org}/back-end/projects/`, { body: { name: 'Billing API' }, status: 409 });
    await check('POST', `/teams/${org}/back-end/projects/`, { body: { name: 'x', slug: 'Not A Slug' }, status: 400 });
    await check('GET', `/teams/${org}/back-end/`, { token: otherToken, status: 404 });
  });

  it('holds for members: a pending invitation, an accepted member with its user, a role changed, one removed', async () => {
    await check('GET', `/organizations/${org}/members/`, { status: 200 });
    const invited = await check('POST', `/organizations/${org}/members/`, { body: { email: 'invitee@example.com', orgRole: 'member' }, status: 201 });
    expect(invited.body).toMatchObject({ pending: true, user: null, inviteStatus: 'approved' });
    const now = Date.now();
    await trapline.appender.append(trapline.topics.admin, [
      { key: 'user/31', name: 'UserUpserted', value: { userId: '31', email: 'ada@example.com', name: 'Ada', passwordHash: null, createdAt: now - 60000 } },
      { key: 'member/32', name: 'MemberUpserted', value: { memberId: '32', organizationSlug: org, userId: '31', email: 'ada@example.com', role: 'owner', inviteTokenHash: null, inviteExpiresAt: null, invitedBy: null, createdAt: now } },
    ]);
    const members = await eventually(async () => {
      const { body } = await check('GET', `/organizations/${org}/members/`);
      return body.some((member: { id: string }) => member.id === '32') ? body : undefined;
    }, 'the accepted member');
    expect(members.find((member: { id: string }) => member.id === '32').user).toMatchObject({ id: '31', email: 'ada@example.com', dateJoined: new Date(now - 60000).toISOString() });
    const owner = await check('GET', `/organizations/${org}/members/32/`, { status: 200 });
    const owners = members.filter((member: { orgRole: string; pending: boolean }) => member.orgRole === 'owner' && !member.pending).length;
    expect(owner.body).toMatchObject({ isOnlyOwner: owners === 1, teams: [], orgRoleList: [{ id: 'member' }, { id: 'admin' }, { id: 'manager' }, { id: 'owner' }] });
    await check('GET', `/organizations/${org}/members/${invited.body.id}/`, { status: 200 });
    expect((await check('PUT', `/organizations/${org}/members/${invited.body.id}/`, { body: { orgRole: 'admin' }, status: 200 })).body.orgRole).toBe('admin');
    await check('DELETE', `/organizations/${org}/members/${invited.body.id}/`, { status: 204 });
    await check('GET', `/organizations/${org}/members/999999/`, { status: 404 });
  });

  it('holds for team membership: a member added (201), again (204), listed with the team, in the member\'s teams, removed (200), and refusals', async () => {
    const team = await check('POST', `/organizations/${org}/teams/`, { body: { slug: 'on-call' }, status: 201 });
    const owner = (await check('GET', `/organizations/${org}/members/`)).body.find((member: { email: string }) => member.email === trapline.defaults.owner.email);
    expect((await check('GET', `/teams/${org}/on-call/members/`, { status: 200 })).body).toEqual([]);
    const added = await check('POST', `/organizations/${org}/members/${owner.id}/teams/on-call/`, { status: 201 });
    expect(added.body).toMatchObject({ slug: 'on-call', isMember: false, memberCount: 1 });
    await check('POST', `/organizations/${org}/members/${owner.id}/teams/${team.body.id}/`, { status: 204 });
    const members = (await check('GET', `/teams/${org}/on-call/members/`, { status: 200 })).body;
    expect(members).toMatchObject([{ id: owner.id, email: trapline.defaults.owner.email, teamSlug: 'on-call', teamRole: null, pending: false }]);
    expect((await check('GET', `/organizations/${org}/members/${owner.id}/`, { status: 200 })).body).toMatchObject({ teams: ['on-call'], teamRoles: [{ teamSlug: 'on-call', role: null }] });
    expect((await check('GET', `/teams/${org}/on-call/`, { status: 200 })).body.memberCount).toBe(1);
    await check('POST', `/organizations/${org}/members/999999/teams/on-call/`, { status: 404 });
    await check('POST', `/organizations/${org}/members/${owner.id}/teams/nobody/`, { status: 404 });
    await check('POST', `/organizations/${org}/members/${owner.id}/teams/on-call/`, { token: otherToken, status: 404 });
    await check('GET', `/teams/${org}/on-call/members/`, { token: otherToken, status: 404 });
    expect((await check('DELETE', `/organizations/${org}/members/${owner.id}/teams/on-call/`, { status: 200 })).body).toMatchObject({ slug: 'on-call', memberCount: 0 });
    await check('DELETE', `/organizations/${org}/members/${owner.id}/teams/on-call/`, { status: 200 });
    await check('DELETE', `/organizations/${org}/members/${owner.id}/teams/nobody/`, { status: 404 });
    expect((await check('GET', `/teams/${org}/on-call/members/`, { status: 200 })).body).toEqual([]);
  });

  it('holds for releases: none, created with commits, again (208), finalized, deployed, with files, deleted', async () => {
    // Releases the SDK events carry exist already (as in Sentry); the empty project has none.
    expect((await check('GET', `/projects/${org}/empty/releases/`, { status: 200 })).body).toEqual([]);
    await check('GET', `/organizations/${org}/releases/`, { status: 200 });
    const has = (version: string) => async () => ((await check('GET', `/organizations/${org}/releases/`)).body.some((found: { version: string }) => found.version === version) ? true : undefined);
    await fetch(`${trapline.publicUrl}/api/0/organizations/${org}/repos/`, { method: 'POST', headers: { authorization: `Bearer ${trapline.defaults.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'acme/web', url: 'https://git.example.com/acme/web' }) });
    expect((await check('GET', `/organizations/${org}/repos/`)).body).toHaveLength(1);
    const sha = 'a'.repeat(40);
    const created = await check('POST', `/organizations/${org}/releases/`, {
      body: { version: 'web@1.0.0', projects: [project], refs: [{ repository: 'acme/web', commit: sha }], commits: [{ id: 'b'.repeat(40), repository: 'scripts', message: 'Fix checkout', author_name: 'Ada', author_email: 'ada@example.com', timestamp: '2026-11-30T10:00:00Z' }] },
      status: 201,
    });
    expect(created.body).toMatchObject({ version: 'web@1.0.0', shortVersion: '1.0.0', commitCount: 2, lastCommit: { id: sha, repository: { name: 'acme/web', url: 'https://git.example.com/acme/web' } } });
    expect(typeof created.body.id).toBe('number');
    // Read back at once: the create answered once applied, so the same create is Sentry's 208 and keeps the commits.
    expect((await check('POST', `/organizations/${org}/releases/`, { body: { version: 'web@1.0.0', projects: [project] }, status: 208 })).body.commitCount).toBe(2);
    expect(await has('web@1.0.0')()).toBe(true);
    await check('GET', `/projects/${org}/${project}/releases/`, { status: 200 });
    await check('PUT', `/organizations/${org}/releases/web@1.0.0/`, { body: { dateReleased: '2026-12-01T00:00:00Z' }, status: 200 });
    const commits = (await check('GET', `/organizations/${org}/releases/web@1.0.0/commits/`, { status: 200 })).body;
    expect(commits[1]).toMatchObject({ message: 'Fix checkout', dateCreated: '2026-11-30T10:00:00.000Z', author: { name: 'Ada', email: 'ada@example.com' }, repository: { name: 'scripts', url: null }, releases: [{ version: 'web@1.0.0' }] });
    await check('GET', `/projects/${org}/${project}/releases/web@1.0.0/commits/`, { status: 200 });
    await check('GET', `/organizations/${org}/releases/web@1.0.0/deploys/`, { status: 200 });
    await check('POST', `/organizations/${org}/releases/web@1.0.0/deploys/`, { body: { environment: 'staging', name: 'staging #2', url: 'https://ci.example.com/2' }, status: 201 });
    await check('POST', `/organizations/${org}/releases/web@1.0.0/deploys/`, { body: { environment: 'production' }, status: 201 });
    const release = (await check('GET', `/organizations/${org}/releases/web@1.0.0/`, { status: 200 })).body;
    // The last deploy had no name: Sentry's release schema has it as a string, so "".
    expect(release).toMatchObject({ deployCount: 2, lastDeploy: { environment: 'production', name: '' } });
    expect((await check('GET', `/organizations/${org}/releases/web@1.0.0/deploys/`)).body).toHaveLength(2);
    await check('GET', `/organizations/${org}/releases/web@1.0.0/files/`, { status: 200 });
    const form = new FormData();
    form.append('name', '~/static/app.min.js');
    form.append('header', 'Sourcemap: app.min.js.map');
    form.append('file', new Blob(['function a(){}\n//# sourceMappingURL=app.min.js.map\n']), 'app.min.js');
    await check('POST', `/organizations/${org}/releases/web@1.0.0/files/`, { form, status: 201 });
    const second = new FormData();
    second.append('name', '~/static/app.min.js.map');
    second.append('file', new Blob(['{"version":3,"sources":[],"names":[],"mappings":""}']), 'app.min.js.map');
    await check('POST', `/projects/${org}/${project}/releases/web@1.0.0/files/`, { form: second, status: 201 });
    await eventually(async () => ((await check('GET', `/organizations/${org}/releases/web@1.0.0/files/`)).body.length === 2 ? true : undefined), 'the files');
    await check('GET', `/projects/${org}/${project}/releases/web@1.0.0/files/`, { status: 200 });
    await check('POST', `/organizations/${org}/releases/`, { body: { version: 'web@0.9.0', projects: [project] }, status: 201 });
    await check('DELETE', `/organizations/${org}/releases/web@0.9.0/`, { status: 204 });
    await check('GET', `/organizations/${org}/releases/web@9.9.9/`, { status: 404 });
    await check('GET', `/organizations/${org}/releases/web@1.0.0/`, { token: otherToken, status: 404 });
  });

  it('holds for service hooks: none, registered, one, changed, removed', async () => {
    expect((await check('GET', `/projects/${org}/${project}/hooks/`)).body).toEqual([]);
    const hook = await check('POST', `/projects/${org}/${project}/hooks/`, { body: { url: 'https://hooks.example.com/trapline', events: ['event.alert'] }, status: 201 });
    await eventually(async () => ((await check('GET', `/projects/${org}/${project}/hooks/`)).body.length === 1 ? true : undefined), 'the hook');
    await check('GET', `/projects/${org}/${project}/hooks/${hook.body.id}/`, { status: 200 });
    await check('PUT', `/projects/${org}/${project}/hooks/${hook.body.id}/`, { body: { events: ['event.alert', 'event.created'] }, status: 200 });
    await check('DELETE', `/projects/${org}/${project}/hooks/${hook.body.id}/`, { status: 204 });
    await check('GET', `/projects/${org}/${project}/hooks/${'0'.repeat(32)}/`, { status: 404 });
  });

  it('holds for error answers: unauthenticated, forbidden, unknown, another organization\'s, malformed', async () => {
    await check('GET', '/organizations/', { token: null, status: 401 });
    await check('GET', `/projects/${org}/${project}/issues/`, { token: readOnlyToken, status: 403 });
    await check('GET', `/organizations/${org}/`, { token: otherToken, status: 404 });
    await check('GET', `/projects/${org}/${project}/`, { token: otherToken, status: 404 });
    await check('GET', `/organizations/${org}/issues/${issues[4]!.id}/`, { token: otherToken, status: 404 });
    await check('GET', `/projects/${org}/${project}/events/${'0'.repeat(32)}/`, { status: 404 });
    await check('GET', `/organizations/${org}/issues/?groupStatsPeriod=1y`, { status: 400 });
    await check('PUT', `/projects/${org}/${project}/keys/${'0'.repeat(32)}/`, { body: { isActive: 'yes' }, status: 400 });
  });

  it('has checked every route Trapline serves that the description covers; the others are Trapline\'s own', async () => {
    const document = (await (await fetch(`${trapline.publicUrl}/api/0/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    const unclassified = routes.filter((route) => {
      const [method, path] = route.split(' ') as [string, string];
      const operation = sentryOperation(method, path);
      return operation === undefined ? !TRAPLINE_OWN.has(route) : !checked.has(operation);
    });
    expect(unclassified).toEqual([]);
  });

  it('lists as Trapline\'s own only routes Trapline serves and the description lacks', async () => {
    const document = (await (await fetch(`${trapline.publicUrl}/api/0/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const served = new Set(Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)));
    expect([...TRAPLINE_OWN].filter((route) => !served.has(route))).toEqual([]);
    expect([...TRAPLINE_OWN].filter((route) => sentryOperation(...(route.split(' ') as [string, string])) !== undefined)).toEqual([]);
  });

  it('describes every route\'s answer in the OpenAPI document Trapline serves', async () => {
    type Responses = Record<string, { content?: Record<string, { schema?: unknown }> }>;
    const document = (await (await fetch(`${trapline.publicUrl}/api/0/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses?: Responses }>> };
    const undescribed = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => !Object.entries(operation.responses ?? {}).some(([status, response]) => status === '204' || (status.startsWith('2') && response.content?.['application/json']?.schema)))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undescribed).toEqual([]);
    expect(document.paths['/api/0/organizations/{org}/issues/{id}/']?.get?.responses?.['200']?.content?.['application/json']?.schema).toMatchObject({ properties: { culprit: { type: 'string' } } });
  });
});
