import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '@trapline/api';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// The read side of /api/0/ through the gateway: search, sort, pages, tags, organizations,
// projects, keys; isolation between organizations; bad input is a 4xx with a detail.

let trapline: RunningTrapline;
let org: string;
let project: string;
let otherToken: string;

const api = (path: string, token = trapline.defaults.token) => fetch(`${trapline.publicUrl}/api/0${path}`, { headers: { authorization: `Bearer ${token}` } });
const json = async <T>(path: string, token?: string) => (await (await api(path, token)).json()) as T;

async function send(event: Record<string, unknown>): Promise<string> {
  const key = new URL(trapline.defaults.dsn).username;
  const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify(event) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

beforeAll(async () => {
  trapline = await startTrapline();
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
  // Three issues (an issue's title follows its latest event, as in Sentry): "checkout failed" three times (two users, two releases), "cache miss" once (warning), "login slow" once.
  for (const [n, user, release] of [[1, 'u1', 'web@1'], [2, 'u2', 'web@2'], [3, 'u1', 'web@2']] as const) {
    await send({ message: `checkout failed ${n}`, level: 'error', user: { id: user }, release, environment: 'prod', tags: { browser: n === 1 ? 'Firefox' : 'Chrome' } });
  }
  await send({ message: 'cache miss', level: 'warning', environment: 'staging' });
  await send({ message: 'login slow', level: 'info', environment: 'prod' });
  await eventually(async () => ((await json<unknown[]>(`/projects/${org}/${project}/issues/`)).length === 3 ? true : undefined), 'three issues');
  // A second organization with its own token.
  otherToken = `tpl_${randomBytes(16).toString('hex')}`;
  const tokenHash = hashToken(otherToken);
  await trapline.appender.append(trapline.topics.admin, [
    { key: 'organization/other', name: 'OrganizationUpserted', value: { slug: 'other', name: 'Other', createdAt: Date.now() } },
    { key: `token/${tokenHash}`, name: 'ApiTokenUpserted', value: { tokenHash, organizationSlug: 'other', scopes: ['org:admin', 'project:admin', 'event:admin'], label: 'other', active: true, createdAt: Date.now() } },
  ]);
  await eventually(async () => ((await api('/organizations/', otherToken)).ok ? true : undefined), 'the other token');
});

afterAll(async () => {
  await trapline?.dispose();
});

type Issue = { id: string; title: string; count: string; userCount: number; level: string };

describe('issue lists', () => {
  it.each([
    ['level:warning', ['cache miss']],
    ['environment:staging', ['cache miss']],
    ['release:web@2', ['checkout failed 3']],
    ['checkout', ['checkout failed 3']],
    ['is:resolved', []],
    // A status or level named twice lists each issue once.
    ['is:unresolved is:unresolved level:warning level:warning', ['cache miss']],
  ])('query %s finds %j', async (query, titles) => {
    const issues = await json<Issue[]>(`/projects/${org}/${project}/issues/?query=${encodeURIComponent(query)}`);
    expect(issues.map((issue) => issue.title)).toEqual(titles);
  });

  it('counts events and distinct users, and sorts by frequency', async () => {
    const issues = await json<Issue[]>(`/projects/${org}/${project}/issues/?sort=freq`);
    expect(issues[0]).toMatchObject({ title: 'checkout failed 3', count: '3', userCount: 2 });
  });

  /** The cursor of a Link header's `rel`, when following it finds rows. */
  const linkCursor = (response: Response, rel: 'previous' | 'next') => {
    const part = response.headers.get('link')!.split(', ').find((entry) => entry.includes(`rel="${rel}"`))!;
    return part.includes('results="true"') ? /cursor="([^"]+)"/.exec(part)![1] : undefined;
  };

  it.each(['date', 'new', 'freq', 'user'])('pages by keyset cursors from the Link header, forward and back, sorted by %s', async (sort) => {
    const all = (await json<Issue[]>(`/projects/${org}/${project}/issues/?sort=${sort}`)).map((issue) => issue.id);
    expect(all).toHaveLength(3);
    const pages: { ids: string[]; response: Response }[] = [];
    let cursor: string | undefined = '';
    while (cursor !== undefined) {
      const response = await api(`/projects/${org}/${project}/issues/?sort=${sort}&per_page=2&cursor=${encodeURIComponent(cursor)}`);
      expect(response.status).toBe(200);
      pages.push({ ids: ((await response.json()) as Issue[]).map((issue) => issue.id), response });
      cursor = linkCursor(response, 'next');
    }
    expect(pages.map((page) => page.ids)).toEqual([all.slice(0, 2), all.slice(2)]);
    expect(linkCursor(pages[0]!.response, 'previous')).toBeUndefined();
    // Back from the last page: the first page again, with nothing before it.
    const back = await api(`/projects/${org}/${project}/issues/?sort=${sort}&per_page=2&cursor=${encodeURIComponent(linkCursor(pages[1]!.response, 'previous')!)}`);
    expect(((await back.json()) as Issue[]).map((issue) => issue.id)).toEqual(all.slice(0, 2));
    expect(linkCursor(back, 'previous')).toBeUndefined();
    expect(linkCursor(back, 'next')).toBeDefined();
  });

  it("pages an issue's events by keyset cursor, newest first", async () => {
    const [issue] = await json<Issue[]>(`/projects/${org}/${project}/issues/?sort=freq`);
    const all = (await json<{ eventID: string }[]>(`/issues/${issue!.id}/events/`)).map((event) => event.eventID);
    expect(all).toHaveLength(3);
    const first = await api(`/issues/${issue!.id}/events/?per_page=2`);
    const second = await api(`/issues/${issue!.id}/events/?per_page=2&cursor=${encodeURIComponent(linkCursor(first, 'next')!)}`);
    const ids = [...((await first.json()) as { eventID: string }[]), ...((await second.json()) as { eventID: string }[])].map((event) => event.eventID);
    expect(ids).toEqual(all);
    expect(linkCursor(second, 'next')).toBeUndefined();
  });

  it('gives each issue its event counts per hour or day with groupStatsPeriod, and none without', async () => {
    type WithStats = Issue & { stats: Record<string, [number, number][]> };
    const hourly = await json<WithStats[]>(`/projects/${org}/${project}/issues/?sort=freq&groupStatsPeriod=24h`);
    const series = hourly[0]!.stats['24h']!;
    expect(series).toHaveLength(24);
    expect(series.reduce((sum, [, count]) => sum + count, 0)).toBe(3);
    expect(series.at(-1)![0]).toBe(Math.floor(Date.now() / 3_600_000) * 3600);
    const daily = await json<WithStats[]>(`/organizations/${org}/issues/?sort=freq&groupStatsPeriod=14d`);
    expect(daily[0]!.stats['14d']).toHaveLength(14);
    expect(daily[0]!.stats['14d']!.at(-1)![1]).toBe(3);
    expect((await json<WithStats[]>(`/projects/${org}/${project}/issues/`))[0]!.stats).toEqual({});
    const refused = await api(`/projects/${org}/${project}/issues/?groupStatsPeriod=1y`);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/^Invalid querystring\.groupStatsPeriod/);
  });

  it('lists the organization\'s issues across projects', async () => {
    expect(await json<Issue[]>(`/organizations/${org}/issues/?query=`)).toHaveLength(3);
  });
});

describe('issue detail', () => {
  it('serves events (latest, oldest) and tag distributions', async () => {
    const [checkout] = await json<Issue[]>(`/projects/${org}/${project}/issues/?query=checkout`);
    const events = await json<{ eventID: string }[]>(`/issues/${checkout!.id}/events/`);
    expect(events).toHaveLength(3);
    const latest = await json<{ eventID: string; message: string }>(`/organizations/${org}/issues/${checkout!.id}/events/latest/`);
    const oldest = await json<{ eventID: string; message: string }>(`/issues/${checkout!.id}/events/oldest/`);
    expect([latest.message, oldest.message]).toEqual(['checkout failed 3', 'checkout failed 1']);
    const tags = await json<{ key: string; totalValues: number; topValues: { value: string; count: number }[] }[]>(`/issues/${checkout!.id}/tags/`);
    expect(tags.find((tag) => tag.key === 'browser')).toMatchObject({ totalValues: 3, topValues: [{ value: 'Chrome', count: 2 }, { value: 'Firefox', count: 1 }] });
    const values = await json<{ value: string }[]>(`/issues/${checkout!.id}/tags/release/values/`);
    expect(values.map((value) => value.value)).toEqual(['web@2', 'web@1']);
    expect(tags.find((tag) => tag.key === 'user')).toMatchObject({ totalValues: 3, uniqueValues: 2, topValues: [{ value: 'id:u1', count: 2 }, { value: 'id:u2', count: 1 }] });
  });

  it("pages a tag's values by keyset cursor, most frequent first, and back", async () => {
    const [checkout] = await json<Issue[]>(`/projects/${org}/${project}/issues/?query=checkout`);
    const first = await api(`/issues/${checkout!.id}/tags/browser/values/?per_page=1`);
    expect(((await first.json()) as { value: string }[]).map((value) => value.value)).toEqual(['Chrome']);
    const cursor = /rel="next"; results="true"; cursor="([^"]+)"/.exec(first.headers.get('link')!)![1]!;
    const second = await api(`/issues/${checkout!.id}/tags/browser/values/?per_page=1&cursor=${encodeURIComponent(cursor)}`);
    expect(((await second.json()) as { value: string }[]).map((value) => value.value)).toEqual(['Firefox']);
    expect(second.headers.get('link')).toMatch(/rel="next"; results="false"/);
    const back = /rel="previous"; results="true"; cursor="([^"]+)"/.exec(second.headers.get('link')!)![1]!;
    const again = await api(`/issues/${checkout!.id}/tags/browser/values/?per_page=1&cursor=${encodeURIComponent(back)}`);
    expect(((await again.json()) as { value: string }[]).map((value) => value.value)).toEqual(['Chrome']);
  });
});

describe('organizations, projects and keys', () => {
  it('describes them in Sentry\'s shapes', async () => {
    expect(await json<{ slug: string }[]>('/organizations/')).toMatchObject([{ slug: org }]);
    expect(await json<{ slug: string }[]>(`/organizations/${org}/projects/`)).toMatchObject([{ slug: project, id: '1' }]);
    expect(await json<{ slug: string }>(`/organizations/${org}/`)).toMatchObject({ slug: org });
    expect(await json<{ slug: string }[]>('/projects/')).toMatchObject([{ slug: project }]);
    expect(await json<{ slug: string; organization: { slug: string } }>(`/projects/${org}/${project}/`)).toMatchObject({ slug: project, organization: { slug: org } });
    const keys = await json<{ dsn: { public: string }; isActive: boolean }[]>(`/projects/${org}/${project}/keys/`);
    expect(keys).toMatchObject([{ isActive: true, dsn: { public: trapline.defaults.dsn } }]);
  });
});

describe('isolation', () => {
  it('answers 404, never 403, for another organization\'s objects', async () => {
    const [issue] = await json<Issue[]>(`/projects/${org}/${project}/issues/`);
    for (const path of [`/issues/${issue!.id}/`, `/projects/${org}/${project}/issues/`, `/organizations/${org}/`, `/projects/${org}/${project}/keys/`]) {
      const response = await api(path, otherToken);
      expect(response.status, path).toBe(404);
    }
    const deletion = await fetch(`${trapline.publicUrl}/api/0/issues/${issue!.id}/`, { method: 'DELETE', headers: { authorization: `Bearer ${otherToken}` } });
    expect(deletion.status).toBe(404);
    const change = await fetch(`${trapline.publicUrl}/api/0/issues/${issue!.id}/`, { method: 'PUT', headers: { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'resolved' }) });
    expect(change.status).toBe(404);
    const bulk = await fetch(`${trapline.publicUrl}/api/0/projects/${org}/${project}/issues/?id=${issue!.id}`, { method: 'PUT', headers: { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'resolved' }) });
    expect(bulk.status).toBe(404);
    const after = await json<{ status: string }>(`/issues/${issue!.id}/`);
    expect(after.status).toBe('unresolved');
  });
});

describe('bad input', () => {
  it.each([
    ['/projects/trapline/default/issues/?query=is:exploded', 400],
    ['/projects/trapline/default/issues/?sort=priority', 400],
    ['/projects/trapline/default/issues/?statsPeriod=forever', 400],
    ['/projects/trapline/default/issues/?cursor=garbage', 400],
    ['/projects/trapline/default/issues/?per_page=100000', 400],
    ['/issues/not-a-number/', 404],
    ['/issues/99999999999999999999/', 404],
    ["/projects/trapline/default'--/issues/", 404],
    ['/projects/trapline/default/events/zz/', 404],
    ['/nowhere/', 404],
  ])('%s → %i with a detail', async (path, status) => {
    const response = await api(path);
    expect(response.status).toBe(status);
    expect(await response.json()).toHaveProperty('detail');
  });
});

describe('bulk deletion', () => {
  it('deletes the selected issues with 204 and hides them; without ids it is a 400', async () => {
    await send({ message: 'bulk one' });
    await send({ message: 'bulk two' });
    const targets = await eventually(async () => {
      const found = (await json<Issue[]>(`/projects/${org}/${project}/issues/?query=bulk`));
      return found.length === 2 ? found : undefined;
    }, 'two bulk issues');
    const ids = targets.map((issue) => `id=${issue.id}`).join('&');
    const response = await fetch(`${trapline.publicUrl}/api/0/projects/${org}/${project}/issues/?${ids}`, { method: 'DELETE', headers: { authorization: `Bearer ${trapline.defaults.token}` } });
    expect(response.status).toBe(204);
    await eventually(async () => ((await json<Issue[]>(`/projects/${org}/${project}/issues/?query=bulk`)).length === 0 ? true : undefined), 'both hidden');
    const refused = await fetch(`${trapline.publicUrl}/api/0/projects/${org}/${project}/issues/`, { method: 'DELETE', headers: { authorization: `Bearer ${trapline.defaults.token}` } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toHaveProperty('detail');
    expect(await json<Issue[]>(`/projects/${org}/${project}/issues/`)).toHaveLength(3);
  });
});

describe('the OpenAPI document', () => {
  it('is generated from the route schemas and served at /api/0/openapi.json', async () => {
    const response = await fetch(`${trapline.publicUrl}/api/0/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const issues = doc.paths['/api/0/projects/{org}/{project}/issues/']!;
    expect(Object.keys(issues).sort()).toEqual(['delete', 'get', 'put']);
    expect(issues.get!.parameters!.map((parameter) => `${parameter.in}:${parameter.name}`)).toEqual(
      expect.arrayContaining(['path:org', 'path:project', 'query:query', 'query:sort', 'query:statsPeriod', 'query:cursor']),
    );
    expect(doc.paths['/api/0/organizations/{org}/issues/{id}/']).toHaveProperty('delete');
    expect(doc.paths['/api/0/projects/{org}/{project}/events/{eventId}/']).toHaveProperty('delete');
  });
});

describe('DSN keys through the API', () => {
  const keysPath = () => `${trapline.publicUrl}/api/0/projects/${org}/${project}/keys/`;
  const call = (method: string, url: string, body?: unknown) =>
    fetch(url, { method, headers: { authorization: `Bearer ${trapline.defaults.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const storeWith = (dsn: string) => {
    const url = new URL(dsn);
    return fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message: 'via an API-made key' }) });
  };

  it('creates a key that ingest accepts, revokes it so ingest refuses it, and enables it again', async () => {
    const created = await call('POST', keysPath(), { name: 'ci' });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; name: string; dsn: { public: string } };
    expect(key.name).toBe('ci');
    expect((await eventually(async () => ((await storeWith(key.dsn.public)).status === 200 ? true : undefined), 'the key accepted'))).toBe(true);

    expect((await call('DELETE', `${keysPath()}${key.id}/`)).status).toBe(204);
    await eventually(async () => ((await storeWith(key.dsn.public)).status === 403 ? true : undefined), 'the key refused');
    const listed = (await (await call('GET', keysPath())).json()) as { id: string; isActive: boolean }[];
    expect(listed.find((entry) => entry.id === key.id)?.isActive).toBe(false);

    expect((await call('PUT', `${keysPath()}${key.id}/`, { isActive: true })).status).toBe(200);
    await eventually(async () => ((await storeWith(key.dsn.public)).status === 200 ? true : undefined), 'the key enabled');
  });

  it.each([
    ['POST', '', { name: 5 }, 400],
    ['PUT', `${'f'.repeat(32)}/`, { isActive: false }, 404],
    ['DELETE', 'not-a-key/', undefined, 404],
  ])('%s keys/%s with %j → %i and a detail', async (method, suffix, body, status) => {
    const response = await call(method, `${keysPath()}${suffix}`, body);
    expect(response.status).toBe(status);
    expect(await response.json()).toHaveProperty('detail');
  });
});
