import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
