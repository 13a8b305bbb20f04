import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';
import { sentryCliRunner } from './sentry-cli-runner.ts';

// Releases as a CI pipeline makes them with the real sentry-cli (new, set-commits --commit,
// finalize, deploys, list, info, delete), then issues' first and last release and a regression by
// release: resolved in the next release, or in release X, as Sentry decides it.

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline();
});

afterAll(async () => {
  await trapline?.dispose();
});

const sentryCli = sentryCliRunner(() => trapline);
const org = () => trapline.defaults.organizationSlug;

const call = (method: string, path: string, body?: unknown) =>
  fetch(`${trapline.publicUrl}/api/0${path}`, {
    method,
    headers: { authorization: `Bearer ${trapline.defaults.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const release = (version: string) =>
  eventually(async () => {
    const response = await call('GET', `/organizations/${org()}/releases/${encodeURIComponent(version)}/`);
    return response.ok ? ((await response.json()) as { version: string; dateReleased: string | null; commitCount: number; deployCount: number; lastCommit: { id: string } | null; projects: { slug: string }[] }) : undefined;
  }, `release ${version}`);

const until = <T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string) =>
  eventually(async () => {
    const value = await read();
    return accept(value) ? value : undefined;
  }, what);

async function send(event: Record<string, unknown>): Promise<string> {
  const url = new URL(trapline.defaults.dsn);
  const response = await fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, { method: 'POST', body: JSON.stringify(event) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

interface Issue { id: string; status: string; count: string; statusDetails: Record<string, unknown>; firstRelease: { version: string } | null; lastRelease: { version: string } | null }
const issue = async (id: string) => (await (await call('GET', `/issues/${id}/`)).json()) as Issue;
const groupOf = (eventId: string) =>
  eventually(async () => {
    const response = await call('GET', `/projects/${org()}/${trapline.defaults.projectSlug}/events/${eventId}/`);
    return response.ok ? ((await response.json()) as { groupID: string }).groupID : undefined;
  }, `event ${eventId}`);

const crash = (release: string) => ({ release, exception: { values: [{ type: 'TypeError', value: 'cart is undefined', stacktrace: { frames: [{ function: 'checkout', filename: 'app/cart.js', lineno: 12, in_app: true }] } }] } });

describe('sentry-cli releases and deploys', () => {
  it('new, list, info: the release exists for the project', async () => {
    const created = sentryCli('releases', 'new', 'web@1.0.0');
    expect(created.status, created.output).toBe(0);
    expect((await release('web@1.0.0')).projects.map((project) => project.slug)).toEqual([trapline.defaults.projectSlug]);
    const listed = sentryCli('releases', 'list');
    expect(listed.status, listed.output).toBe(0);
    expect(listed.output).toContain('1.0.0');
    const info = sentryCli('releases', 'info', 'web@1.0.0');
    expect(info.status, info.output).toBe(0);
    expect(info.output).toContain('web@1.0.0');
    // Creating it again answers 208 and changes nothing that matters.
    expect((await call('POST', `/organizations/${org()}/releases/`, { version: 'web@1.0.0', projects: [trapline.defaults.projectSlug] })).status).toBe(208);
  });

  it('set-commits --commit: explicit commits of a repository known without an integration', async () => {
    const sha = 'f'.repeat(8) + '0123456789abcdef0123456789abcdef';
    const refused = await call('PUT', `/organizations/${org()}/releases/web@1.0.0/`, { refs: [{ repository: 'acme/web', commit: sha }] });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/no repository integrations/);
    expect((await call('POST', `/organizations/${org()}/repos/`, { name: 'acme/web', provider: 'integrations:github' })).status).toBe(400);
    expect((await call('POST', `/organizations/${org()}/repos/`, { name: 'acme/web' })).status).toBe(201);
    await until(async () => (await (await call('GET', `/organizations/${org()}/repos/`)).json()) as { name: string }[], (repos) => repos.some((repo) => repo.name === 'acme/web'), 'the repository');
    const set = sentryCli('releases', 'set-commits', 'web@1.0.0', '--commit', `acme/web@${sha}`);
    expect(set.status, set.output).toBe(0);
    expect((await until(() => release('web@1.0.0'), (found) => found.commitCount === 1, 'the commit')).lastCommit?.id).toBe(sha);
  });

  it('finalize sets dateReleased; deploys new and list', async () => {
    const finalized = sentryCli('releases', 'finalize', 'web@1.0.0');
    expect(finalized.status, finalized.output).toBe(0);
    await until(() => release('web@1.0.0'), (found) => found.dateReleased !== null, 'finalized');
    const deployed = sentryCli('deploys', 'new', '--release', 'web@1.0.0', '-e', 'production', '-n', 'first deploy');
    expect(deployed.status, deployed.output).toBe(0);
    await until(() => release('web@1.0.0'), (found) => found.deployCount === 1, 'the deploy');
    const listed = sentryCli('deploys', 'list', '--release', 'web@1.0.0');
    expect(listed.status, listed.output).toBe(0);
    expect(listed.output).toContain('production');
  });

  it('delete: a release no issue was seen in goes', async () => {
    expect(sentryCli('releases', 'new', 'web@0.0.1-scratch').status).toBe(0);
    await release('web@0.0.1-scratch');
    const deleted = sentryCli('releases', 'delete', 'web@0.0.1-scratch');
    expect(deleted.status, deleted.output).toBe(0);
    await until(async () => (await call('GET', `/organizations/${org()}/releases/web@0.0.1-scratch/`)).status, (status) => status === 404, 'deleted');
  });
});

describe('issues and releases', () => {
  let groupId: string;

  it('an issue names its first and last release', async () => {
    groupId = await groupOf(await send(crash('web@1.0.0')));
    const found = await issue(groupId);
    expect(found.firstRelease?.version).toBe('web@1.0.0');
    expect(found.lastRelease?.version).toBe('web@1.0.0');
  });

  it('resolved in the next release: the same release does not reopen it, a newer one does', async () => {
    const resolved = await call('PUT', `/issues/${groupId}/`, { status: 'resolved', statusDetails: { inNextRelease: true } });
    expect(await resolved.json()).toMatchObject({ status: 'resolved', statusDetails: { inNextRelease: true } });
    await until(() => issue(groupId), (found) => found.status === 'resolved', 'resolved');
    await send(crash('web@1.0.0'));
    expect(await until(() => issue(groupId), (found) => found.count === '2', 'counted')).toMatchObject({ status: 'resolved', statusDetails: { inNextRelease: true } });
    await send(crash('web@1.1.0'));
    expect(await until(() => issue(groupId), (found) => found.count === '3', 'counted')).toMatchObject({ status: 'unresolved', statusDetails: {}, firstRelease: { version: 'web@1.0.0' }, lastRelease: { version: 'web@1.1.0' } });
  });

  it('resolved in release X: an older release does not reopen it, X itself does', async () => {
    expect((await call('PUT', `/issues/${groupId}/`, { status: 'resolved', statusDetails: { inRelease: 'web@9.9.9' } })).status).toBe(400);
    expect((await call('POST', `/organizations/${org()}/releases/`, { version: 'web@2.0.0', projects: [trapline.defaults.projectSlug] })).status).toBe(201);
    await release('web@2.0.0');
    expect((await call('PUT', `/issues/${groupId}/`, { status: 'resolved', statusDetails: { inRelease: 'web@2.0.0' } })).status).toBe(200);
    await until(() => issue(groupId), (found) => found.status === 'resolved', 'resolved');
    await send(crash('web@1.1.0'));
    expect(await until(() => issue(groupId), (found) => found.count === '4', 'counted')).toMatchObject({ status: 'resolved', statusDetails: { inRelease: 'web@2.0.0' } });
    await send(crash('web@2.0.0'));
    expect(await until(() => issue(groupId), (found) => found.count === '5', 'counted')).toMatchObject({ status: 'unresolved', lastRelease: { version: 'web@2.0.0' } });
  });

  it('release lists count the issues first seen in a release', async () => {
    const listed = (await (await call('GET', `/projects/${org()}/${trapline.defaults.projectSlug}/releases/`)).json()) as { version: string; newGroups: number }[];
    expect(listed.find((entry) => entry.version === 'web@1.0.0')?.newGroups).toBe(1);
    expect(listed.map((entry) => entry.version)).toEqual(expect.arrayContaining(['web@1.0.0', 'web@1.1.0', 'web@2.0.0']));
  });
});
