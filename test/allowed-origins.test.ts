import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli, startTrapline, type RunningTrapline } from './harness.ts';
import { readTopic } from './log.ts';

// A project's allowed origins (Sentry's allowedDomains) end to end, over real HTTP through the
// gateway: set through the API as an admin record, projected, loaded by ingest with the DSN keys
// (at the production refresh interval), then a browser-style request from an allowed origin is
// accepted and readable, one from another origin is refused with 403, server SDKs (no origin) are
// unaffected; the CLI sets it too; bad input changes nothing; a rebuild keeps it.

const ALLOWED = 'https://app.example.test';
const SUBDOMAIN = 'https://docs.example.org:8443';
const ELSEWHERE = 'https://elsewhere.test';
const REFRESH_MS = 2000;

let trapline: RunningTrapline;
let key: string;

beforeAll(async () => {
  trapline = await startTrapline({ KEY_CACHE_REFRESH_MS: String(REFRESH_MS) });
  key = new URL(trapline.defaults.dsn).username;
});

afterAll(async () => {
  await trapline?.dispose();
});

const projectPath = () => `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/`;

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${trapline.publicUrl}/api/0${path}`, {
    method,
    headers: { authorization: `Bearer ${trapline.defaults.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const ingestUrl = (endpoint: string) => `${trapline.publicUrl}/api/${trapline.defaults.projectId}/${endpoint}?sentry_key=${key}&sentry_version=7`;

/** What @sentry/browser sends from a page: text/plain, credentials in the query, the page's Origin. */
const storeFrom = (headers: Record<string, string>, message = 'from a page') =>
  fetch(ingestUrl('store/'), { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers }, body: JSON.stringify({ message, platform: 'javascript' }) });

const preflightFrom = (origin: string) =>
  fetch(ingestUrl('envelope/'), { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

const listOf = (header: string | null) => (header ?? '').split(',').map((part) => part.trim().toLowerCase()).filter(Boolean);
const allowedDomains = async () => ((await (await api('GET', projectPath())).json()) as { allowedDomains: string[] }).allowedDomains;
const storedOrigins = async () => (await trapline.pool.query('SELECT project_id, origins FROM project_allowed_origins ORDER BY project_id')).rows;
const eventsWithMessage = async (message: string) => (await trapline.pool.query('SELECT event_id FROM events WHERE title = $1', [message])).rows;
const adminRecords = async () => (await readTopic(trapline.config, trapline.topics.admin, 1500)).length;

async function rejectedForOrigin(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${trapline.config.INGEST_PORT}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith('trapline_ingest_outcomes_total{') && candidate.includes('outcome="rejected"') && candidate.includes('reason="invalid_origin"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('allowed origins', () => {
  it('are any origin by default, answered with Access-Control-Allow-Origin: *', async () => {
    expect(await allowedDomains()).toEqual(['*']);
    const response = await storeFrom({ origin: ELSEWHERE });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('set through the API take effect within seconds: the allowed origins post, another gets 403, server SDKs are unaffected', async () => {
    const put = await api('PUT', projectPath(), { allowedDomains: [`${ALLOWED}/`, '*.EXAMPLE.org', ALLOWED] });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ slug: trapline.defaults.projectSlug, allowedDomains: [ALLOWED, '*.example.org'], retentionDays: null });
    const changed = Date.now();
    await eventually(async () => ((await storeFrom({ origin: ELSEWHERE }, 'before the change reached ingest')).status === 403 ? true : undefined), 'ingest refusing other origins');
    // The projector's lag plus one refresh of ingest's cache.
    expect(Date.now() - changed).toBeLessThan(REFRESH_MS + 4000);
    expect(await allowedDomains()).toEqual([ALLOWED, '*.example.org']);

    for (const origin of [ALLOWED, SUBDOMAIN]) {
      const accepted = await storeFrom({ origin });
      expect(accepted.status, origin).toBe(200);
      expect(accepted.headers.get('access-control-allow-origin')).toBe(origin);
      expect(listOf(accepted.headers.get('vary'))).toContain('origin');
      expect(listOf(accepted.headers.get('access-control-expose-headers'))).toContain('x-sentry-rate-limits');
    }

    const before = await rejectedForOrigin();
    const refused = await storeFrom({ origin: ELSEWHERE }, 'from another site');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ detail: `Invalid origin: ${ELSEWHERE}` });
    expect(refused.headers.get('x-sentry-error')).toMatch(/^Invalid origin/);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(listOf(refused.headers.get('vary'))).toContain('origin');
    const envelope = await fetch(ingestUrl('envelope/'), { method: 'POST', headers: { origin: ELSEWHERE, 'content-type': 'text/plain' }, body: `{}\n{"type":"event"}\n{"message":"from another site"}` });
    expect(envelope.status).toBe(403);
    expect(await rejectedForOrigin()).toBe(before + 2);

    // Without an Origin, the Referer's origin counts, as in Sentry; without either, nothing is checked.
    expect((await storeFrom({ referer: `${ELSEWHERE}/some/page` }, 'from another site')).status).toBe(403);
    expect((await storeFrom({ referer: `${ALLOWED}/some/page` })).status).toBe(200);
    expect((await storeFrom({ origin: 'null', referer: `${ALLOWED}/` })).status).toBe(200);
    const server = await storeFrom({}, 'from a server SDK');
    expect(server.status).toBe(200);
    expect(server.headers.get('access-control-allow-origin')).toBeNull();

    // The server SDK's event, sent after the refused ones to the same partition, is projected: the refused ones were never appended.
    await eventually(async () => ((await eventsWithMessage('from a server SDK')).length === 1 ? true : undefined), 'the server SDK event');
    expect(await eventsWithMessage('from another site')).toEqual([]);
  });

  it('answer the preflight with the allowed origin echoed and Vary: Origin, and refuse it for another origin', async () => {
    const allowed = await preflightFrom(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(listOf(allowed.headers.get('vary'))).toContain('origin');
    expect(listOf(allowed.headers.get('access-control-allow-methods'))).toContain('post');
    expect(listOf(allowed.headers.get('access-control-allow-headers'))).toContain('content-type');

    const refused = await preflightFrom(ELSEWHERE);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuse bad input with 400 and a detail, and append nothing', async () => {
    const recordsBefore = await adminRecords();
    const storedBefore = await storedOrigins();
    for (const body of [
      { allowedDomains: ['https://app.example.test/path'] },
      { allowedDomains: ['not an origin'] },
      { allowedDomains: ['*.example.org', 'user@example.com'] },
      { allowedDomains: ['a'.repeat(400)] },
      { allowedDomains: [7] },
      { allowedDomains: 'https://app.example.test' },
      { allowedDomains: Array.from({ length: 201 }, (_, index) => `h${index}.example.test`) },
      { allowedDomains: ['ok.example.test'], retentionDays: 0 },
      { allowedDomains: ['nul\u0000.example.test'] },
      {},
    ]) {
      const response = await api('PUT', projectPath(), body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(await response.json()).toEqual({ detail: expect.any(String) });
    }
    expect(await adminRecords()).toBe(recordsBefore);
    expect(await storedOrigins()).toEqual(storedBefore);
  });

  it('are set and shown by `trapline projects origins`, which refuses a bad pattern with exit 2', async () => {
    const project = `${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}`;
    const set = runCli(trapline.env, ['projects', 'origins', project, '--set', `${ALLOWED},https://cli.example.test:3000`]);
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toContain('https://cli.example.test:3000');
    const shown = runCli(trapline.env, ['projects', 'origins', String(trapline.defaults.projectId)]);
    expect(shown.stdout).toContain(`${ALLOWED} https://cli.example.test:3000`);
    const bad = runCli(trapline.env, ['projects', 'origins', project, '--set', 'https://x.test/path']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/not an origin pattern/);
    expect(await allowedDomains()).toEqual([ALLOWED, 'https://cli.example.test:3000']);
    await eventually(async () => ((await storeFrom({ origin: SUBDOMAIN })).status === 403 ? true : undefined), 'ingest refusing the origin the CLI removed');
  });

  it('survive a rebuild: the projector reads them from the log', async () => {
    const live = await storedOrigins();
    await trapline.services.stop('projector');
    const rebuilt = runCli(trapline.env, ['rebuild'], 240000);
    await trapline.services.start('projector');
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(await storedOrigins()).toEqual(live);
    expect(await allowedDomains()).toEqual([ALLOWED, 'https://cli.example.test:3000']);
    // Ingest has read the rebuilt read model once a key made after the rebuild works there (keys and
    // origins come in the same refresh): only then does its answer below say anything about the rebuild.
    const created = await api('POST', `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/keys/`, { name: 'after the rebuild' });
    expect(created.status).toBe(201);
    const { public: marker } = (await created.json()) as { public: string };
    await eventually(async () => {
      const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${marker}&sentry_version=7`, { method: 'POST', headers: { origin: ALLOWED }, body: JSON.stringify({ message: 'marker key' }) });
      return response.status === 200 ? true : undefined;
    }, 'ingest refreshed from the rebuilt read model (the key made after the rebuild accepted)', REFRESH_MS * 10);
    expect((await storeFrom({ origin: ELSEWHERE })).status, 'an origin outside the list, refused after the rebuild').toBe(403);
    expect((await storeFrom({ origin: ALLOWED })).status).toBe(200);
  }, 300000);

  it('go back to any origin with null', async () => {
    const put = await api('PUT', projectPath(), { allowedDomains: null });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ allowedDomains: ['*'] });
    const response = await eventually(async () => {
      const answer = await storeFrom({ origin: ELSEWHERE });
      return answer.status === 200 ? answer : undefined;
    }, 'ingest accepting any origin again');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await storedOrigins()).toEqual([]);
  });
});
