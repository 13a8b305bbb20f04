import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, CONDITION } from '@trapline/schemas';
import { freePort, eventually, startTrapline, type RunningTrapline } from './harness.ts';
import { store } from './load.ts';

// Read your own writes (DESIGN.md invariant 9), as a client sees it through the gateway: a write
// answers once the projector has applied it, so the next read, on this API instance or another,
// shows it; with the projector stopped, the write still answers its 2xx after the bound, marked
// `X-Trapline-Visibility: pending`. A DSN key created through the API takes events at once.

const ISSUES = 40;
const STATUS_WRITES = 160;

let trapline: RunningTrapline;
/** A second API instance of the same deployment, straight to its port. */
let otherApi: string;
let issues: string[];

// Words only: grouping strips numbers from messages.
const word = (index: number) => [...index.toString(26).padStart(3, '0')].map((digit) => String.fromCharCode(97 + parseInt(digit, 26))).join('');

beforeAll(async () => {
  // Keys are reloaded only when ingest learns the admin model changed, or a minute later.
  trapline = await startTrapline({ KEY_CACHE_REFRESH_MS: '60000' });
  const port = await freePort();
  await trapline.services.startInstance('api', 'b', { API_PORT: String(port) });
  otherApi = `http://127.0.0.1:${port}`;
  const eventIds = await Promise.all(Array.from({ length: ISSUES }, (_, index) => store(trapline, `visible write ${word(index)}`)));
  issues = await Promise.all(
    eventIds.map((eventId) =>
      eventually(async () => {
        const response = await api(trapline.publicUrl, 'GET', `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/events/${eventId}/`);
        return response.ok ? ((await response.json()) as { groupID: string }).groupID : undefined;
      }, `the event ${eventId}`, 60000),
    ),
  );
}, 180000);

afterAll(async () => {
  await trapline?.dispose();
});

const api = (base: string, method: string, path: string, body?: unknown) =>
  fetch(`${base}/api/0${path}`, {
    method,
    headers: { authorization: `Bearer ${trapline.defaults.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('read your own writes', () => {
  it('200 resolves, reopenings and deletions, each read back at once on the same or the other API instance, never show the old state', async () => {
    const bases = () => [trapline.publicUrl, otherApi];
    const stale: string[] = [];
    for (let write = 0; write < STATUS_WRITES + ISSUES; write += 1) {
      // Alternate: write through the gateway and read on the other instance, then the reverse.
      const [writeOn, readOn] = write % 2 === 0 ? bases() : bases().reverse();
      if (write < STATUS_WRITES) {
        const issue = issues[write % ISSUES]!;
        const status = Math.floor(write / ISSUES) % 2 === 0 ? 'resolved' : 'unresolved';
        const answer = await api(writeOn!, 'PUT', `/issues/${issue}/`, { status });
        expect(answer.status).toBe(200);
        expect(answer.headers.get('x-trapline-visibility')).toBeNull();
        const read = (await (await api(readOn!, 'GET', `/issues/${issue}/`)).json()) as { status: string };
        if (read.status !== status) stale.push(`issue ${issue}: ${status} read back as ${read.status}`);
      } else {
        const issue = issues[write - STATUS_WRITES]!;
        const answer = await api(writeOn!, 'DELETE', `/issues/${issue}/`);
        expect(answer.status).toBe(202);
        expect(answer.headers.get('x-trapline-visibility')).toBeNull();
        const read = await api(readOn!, 'GET', `/issues/${issue}/`);
        if (read.status !== 404) stale.push(`issue ${issue}: deleted, read back with ${read.status}`);
      }
    }
    expect(stale).toEqual([]);
    const listed = (await (await api(trapline.publicUrl, 'GET', `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/issues/?query=`)).json()) as unknown[];
    expect(listed).toEqual([]);
  }, 180000);

  it("a project's retention and allowed domains, set on one instance, are read back at once on the other", async () => {
    const path = `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/`;
    for (const [index, retentionDays] of [30, 7, 90].entries()) {
      const allowedDomains = [`app${index}.example.com`];
      const answer = await api(index % 2 === 0 ? trapline.publicUrl : otherApi, 'PUT', path, { retentionDays, allowedDomains });
      expect(answer.status).toBe(200);
      const read = (await (await api(index % 2 === 0 ? otherApi : trapline.publicUrl, 'GET', path)).json()) as { retentionDays: number; allowedDomains: string[] };
      expect(read).toMatchObject({ retentionDays, allowedDomains });
    }
    await api(trapline.publicUrl, 'PUT', path, { allowedDomains: null });
  });

  it('rules, service hooks, alert addresses, release files, artifact bundles and team memberships, written on one instance, are read back at once on the other', async () => {
    const { organizationSlug: org, projectSlug: project } = trapline.defaults;
    const stale: string[] = [];
    /** Writes on the gateway, then reads on the other instance at once; what the read gives, or a note of what it gave instead. */
    const readBack = async <T>(what: string, write: () => Promise<Response>, status: number, path: string, holds: (answer: { status: number; body: T }) => boolean) => {
      const written = await write();
      expect(written.status, `${what}: ${await written.clone().text()}`).toBe(status);
      expect(written.headers.get('x-trapline-visibility'), what).toBeNull();
      const read = await api(otherApi, 'GET', path);
      const answer = { status: read.status, body: (read.status === 200 ? await read.json() : undefined) as T };
      if (!holds(answer)) stale.push(`${what}: read back ${read.status} ${JSON.stringify(answer.body)?.slice(0, 200)}`);
      return written;
    };
    const rules = `/projects/${org}/${project}/rules/`;
    const created = await readBack<unknown[]>('a rule created', () => api(trapline.publicUrl, 'POST', rules, { name: 'read back', conditions: [{ id: CONDITION.regression }], actions: [{ id: ACTION.email, targetType: 'IssueOwners' }] }), 201, rules, ({ body }) => body?.some((rule) => (rule as { name: string }).name === 'read back'));
    const ruleId = ((await created.json()) as { id: string }).id;
    await readBack<{ name: string }>('a rule renamed', () => api(trapline.publicUrl, 'PUT', `${rules}${ruleId}/`, { name: 'read back again' }), 200, `${rules}${ruleId}/`, ({ body }) => body?.name === 'read back again');
    await readBack('a rule deleted', () => api(trapline.publicUrl, 'DELETE', `${rules}${ruleId}/`), 202, `${rules}${ruleId}/`, ({ status }) => status === 404);

    const hooks = `/projects/${org}/${project}/hooks/`;
    const hook = await readBack<unknown[]>('a hook registered', () => api(trapline.publicUrl, 'POST', hooks, { url: 'https://hooks.example.com/read-back', events: ['event.alert'] }), 201, hooks, ({ body }) => body?.length === 1);
    const hookId = ((await hook.json()) as { id: string }).id;
    await readBack<{ events: string[] }>('a hook changed', () => api(trapline.publicUrl, 'PUT', `${hooks}${hookId}/`, { events: ['event.alert', 'event.created'] }), 200, `${hooks}${hookId}/`, ({ body }) => body?.events.length === 2);
    await readBack('a hook removed', () => api(trapline.publicUrl, 'DELETE', `${hooks}${hookId}/`), 204, `${hooks}${hookId}/`, ({ status }) => status === 404);

    const emails = `/projects/${org}/${project}/alert-emails/`;
    await readBack<{ emails: string[] }>('alert addresses set', () => api(trapline.publicUrl, 'PUT', emails, { emails: ['pager@example.com'] }), 200, emails, ({ body }) => body?.emails[0] === 'pager@example.com');

    expect((await api(trapline.publicUrl, 'POST', `/organizations/${org}/releases/`, { version: 'read-back@1', projects: [project] })).status).toBe(201);
    const files = `/organizations/${org}/releases/read-back@1/files/`;
    const form = new FormData();
    form.append('name', '~/static/read-back.js');
    form.append('file', new Blob(['function readBack(){}\n']), 'read-back.js');
    const upload = () => fetch(`${trapline.publicUrl}/api/0${files}`, { method: 'POST', headers: { authorization: `Bearer ${trapline.defaults.token}` }, body: form });
    const listed = (url: string) => ({ body }: { body: { name: string }[] }) => body?.some((file) => file.name === url) ?? false;
    await readBack('a release file uploaded', upload, 201, files, listed('~/static/read-back.js'));
    const manifest = { files: { '_/_/bundled.js': { type: 'minified_source', url: '~/static/bundled.js', headers: {} } }, attributes: { org } };
    const bundle = Buffer.from(zipSync({ 'manifest.json': strToU8(JSON.stringify(manifest)), '_/_/bundled.js': strToU8('function bundled(){}\n') }));
    const sha1 = createHash('sha1').update(bundle).digest('hex');
    const chunks = new FormData();
    chunks.append('file_gzip', new Blob([new Uint8Array(gzipSync(bundle))]), sha1);
    expect((await fetch(`${trapline.publicUrl}/api/0/organizations/${org}/chunk-upload/`, { method: 'POST', headers: { authorization: `Bearer ${trapline.defaults.token}` }, body: chunks })).status).toBe(200);
    await readBack('an artifact bundle assembled', () => api(trapline.publicUrl, 'POST', `/organizations/${org}/artifactbundle/assemble/`, { checksum: sha1, chunks: [sha1], projects: [project], version: 'read-back@1' }), 200, files, listed('~/static/bundled.js'));

    expect((await api(trapline.publicUrl, 'POST', `/organizations/${org}/teams/`, { slug: 'read-back' })).status).toBe(201);
    const owner = ((await (await api(trapline.publicUrl, 'GET', `/organizations/${org}/members/`)).json()) as { id: string; email: string }[]).find((member) => member.email === trapline.defaults.owner.email)!;
    const teamMembers = `/teams/${org}/read-back/members/`;
    const onTeam = `/organizations/${org}/members/${owner.id}/teams/read-back/`;
    await readBack<{ id: string }[]>('a member added to a team', () => api(trapline.publicUrl, 'POST', onTeam), 201, teamMembers, ({ body }) => body?.map((member) => member.id).join() === owner.id);
    await readBack<{ teams: string[] }>('… and in its teams', async () => api(trapline.publicUrl, 'POST', onTeam), 204, `/organizations/${org}/members/${owner.id}/`, ({ body }) => body?.teams.join() === 'read-back');
    await readBack<unknown[]>('a member taken off a team', () => api(trapline.publicUrl, 'DELETE', onTeam), 200, teamMembers, ({ body }) => body?.length === 0);
    expect(stale).toEqual([]);
  }, 120000);

  it('a DSN key created through the API takes events at once, even right after a miss refreshed the keys', async () => {
    const { organizationSlug, projectSlug, projectId } = trapline.defaults;
    const storeWith = (key: string) => fetch(`${trapline.publicUrl}/api/${projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message: 'new key' }) });
    for (let round = 0; round < 5; round += 1) {
      // An unknown key spends ingest's early refresh for the next second.
      expect((await storeWith('0'.repeat(32))).status).toBe(401);
      const created = await api(trapline.publicUrl, 'POST', `/projects/${organizationSlug}/${projectSlug}/keys/`, { name: `fresh ${round}` });
      expect(created.status).toBe(201);
      const key = ((await created.json()) as { public: string }).public;
      const sent = await storeWith(key);
      expect(sent.status, await sent.text()).toBe(200);
    }
  });

  it('with the projector stopped, a write answers its 2xx after the bound, marked pending, and applies once the projector is back', async () => {
    const eventId = await store(trapline, 'visible write pending');
    const issue = await eventually(async () => {
      const response = await api(trapline.publicUrl, 'GET', `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/events/${eventId}/`);
      return response.ok ? ((await response.json()) as { groupID: string }).groupID : undefined;
    }, 'the event', 60000);
    await trapline.services.stop('projector');
    try {
      const startedAt = Date.now();
      const answer = await api(trapline.publicUrl, 'PUT', `/issues/${issue}/`, { status: 'resolved' });
      const waitedMs = Date.now() - startedAt;
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-trapline-visibility')).toBe('pending');
      expect(waitedMs).toBeGreaterThanOrEqual(5000); // WRITE_VISIBILITY_TIMEOUT_MS's default
      expect(waitedMs).toBeLessThan(15000);
      const metrics = await (await fetch(`http://127.0.0.1:${trapline.config.API_PORT}/metrics`)).text();
      expect(metrics).toMatch(/trapline_api_writes_total\{[^}]*visibility="pending"[^}]*\} 1\b/);
    } finally {
      await trapline.services.start('projector');
    }
    await eventually(async () => (((await (await api(trapline.publicUrl, 'GET', `/issues/${issue}/`)).json()) as { status: string }).status === 'resolved' ? true : undefined), 'resolved after the projector came back', 60000);
  }, 120000);
});
