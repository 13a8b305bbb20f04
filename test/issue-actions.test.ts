import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '@trapline/api';
import { eventually, runCli, startTrapline, type RunningTrapline } from './harness.ts';
import { readTopic } from './log.ts';
import { receivedAgo } from './received.ts';

// Status changes and deletion requests through the API become records on the log; the projector
// applies them: resolve, regression, hide-at-once, tombstones, and scopes.

let trapline: RunningTrapline;
let org: string;
let project: string;

beforeAll(async () => {
  trapline = await startTrapline();
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
});

afterAll(async () => {
  await trapline?.dispose();
});

const api = (method: string, path: string, body?: unknown, token = trapline.defaults.token) =>
  fetch(`${trapline.publicUrl}/api/0${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function sendEvent(message: string): Promise<string> {
  const key = new URL(trapline.defaults.dsn).username;
  const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message, level: 'error' }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

const issueOf = (eventId: string) =>
  eventually(async () => {
    const response = await api('GET', `/projects/${org}/${project}/events/${eventId}/`);
    return response.ok ? ((await response.json()) as { groupID: string }).groupID : undefined;
  }, `the event ${eventId}`);

const statusOf = async (issueId: string) => ((await (await api('GET', `/issues/${issueId}/`)).json()) as { status: string }).status;

describe('issue status', () => {
  it('resolves through PUT and reopens when a new event arrives (regression)', async () => {
    const issue = await issueOf(await sendEvent('queue stalled'));
    const put = await api('PUT', `/issues/${issue}/`, { status: 'resolved' });
    expect(put.status).toBe(200);
    await eventually(async () => ((await statusOf(issue)) === 'resolved' ? true : undefined), 'resolved');
    await issueOf(await sendEvent('queue stalled'));
    await eventually(async () => ((await statusOf(issue)) === 'unresolved' ? true : undefined), 'regressed to unresolved');
  });

  it('refuses an unknown status with 400 and a detail', async () => {
    const issue = await issueOf(await sendEvent('bad status target'));
    const response = await api('PUT', `/issues/${issue}/`, { status: 'exploded' });
    expect(response.status).toBe(400);
    expect(await response.json()).toHaveProperty('detail');
  });
});

describe('deleting an issue', () => {
  it('answers 202 with a transaction id, hides the issue, and a later event with its hash starts a fresh issue', async () => {
    const issue = await issueOf(await sendEvent('payment gateway timeout'));
    const response = await api('DELETE', `/issues/${issue}/`);
    expect(response.status).toBe(202);
    expect((await response.json()) as { transactionId: string }).toMatchObject({ transactionId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    await eventually(async () => ((await api('GET', `/issues/${issue}/`)).status === 404 ? true : undefined), 'the issue hidden');
    const list = (await (await api('GET', `/projects/${org}/${project}/issues/`)).json()) as { id: string }[];
    expect(list.map((entry) => entry.id)).not.toContain(issue);
    const fresh = await issueOf(await sendEvent('payment gateway timeout'));
    expect(fresh).not.toBe(issue);
  });

  it('never lets an event received before the deletion resurrect the issue or join the fresh one, also when the log is replayed', async () => {
    const message = 'inventory sync lost';
    const issue = await issueOf(await sendEvent(message));
    const beforeRequest = Date.now();
    expect((await api('DELETE', `/issues/${issue}/`)).status).toBe(202);
    await eventually(async () => ((await api('GET', `/issues/${issue}/`)).status === 404 ? true : undefined), 'the issue hidden');
    // Received (stamped by ingest) before the request, appended after it: a client's event still in
    // flight while the issue was deleted. It belongs to the deleted issue, hidden with it.
    const inFlight = await receivedAgo(trapline, message, Date.now() - beforeRequest + 1000);
    const fresh = await issueOf(await sendEvent(message)); // on the same partition after it: it was projected first
    expect(fresh).not.toBe(issue);

    const unchanged = async (when: string) => {
      expect((await api('GET', `/issues/${issue}/`)).status, `${when}: the deleted issue stays hidden`).toBe(404);
      expect((await api('GET', `/projects/${org}/${project}/events/${inFlight}/`)).status, `${when}: the event received before the deletion stays hidden`).toBe(404);
      const freshIssue = (await (await api('GET', `/issues/${fresh}/`)).json()) as { count: string };
      expect(freshIssue.count, `${when}: the fresh issue counts only the event received after the deletion`).toBe('1');
    };
    await unchanged('live');

    // The whole log again, as after an offset reset: every record redelivered in log order.
    await trapline.services.stop('projector');
    const reset = runCli(trapline.env, ['replay', '--group', trapline.config.projectorGroup, '--to-earliest']);
    expect(reset.status, reset.stderr).toBe(0);
    await trapline.services.start('projector');
    await issueOf(await sendEvent('after the replay')); // applied after everything before it
    await unchanged('after a replay');
    const dead = await readTopic(trapline.config, trapline.topics.eventsDlq, 1500);
    expect(dead.map((record) => `${record.key}: ${record.headers['trapline-dlq-reason']}`), 'nothing dead-lettered by the replay').toEqual([]);
  });

  it('is 404 with a detail for an issue that does not exist', async () => {
    const response = await api('DELETE', '/issues/123456789/');
    expect(response.status).toBe(404);
    expect(await response.json()).toHaveProperty('detail');
  });
});

describe('deleting an event', () => {
  it('answers 202 and hides the event; an unknown event id is 404 Event not found', async () => {
    const eventId = await sendEvent('one event to delete');
    await issueOf(eventId);
    const response = await api('DELETE', `/projects/${org}/${project}/events/${eventId}/`);
    expect(response.status).toBe(202);
    await eventually(async () => ((await api('GET', `/projects/${org}/${project}/events/${eventId}/`)).status === 404 ? true : undefined), 'the event hidden');
    const unknown = await api('DELETE', `/projects/${org}/${project}/events/${randomBytes(16).toString('hex')}/`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: 'Event not found' });
  });
});

describe('scopes', () => {
  it('lets a read-only token read but not delete (403)', async () => {
    const token = `tpl_${randomBytes(16).toString('hex')}`;
    const tokenHash = hashToken(token);
    await trapline.appender.append(trapline.topics.admin, [
      { key: `token/${tokenHash}`, name: 'ApiTokenUpserted', value: { tokenHash, organizationSlug: org, scopes: ['event:read'], label: 'read-only', active: true, createdAt: Date.now() } },
    ]);
    const issue = await issueOf(await sendEvent('read-only target'));
    await eventually(async () => ((await api('GET', `/issues/${issue}/`, undefined, token)).status === 200 ? true : undefined), 'the token projected');
    const denied = await api('DELETE', `/issues/${issue}/`, undefined, token);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toHaveProperty('detail');
    expect(await statusOf(issue)).toBe('unresolved');
  });
});
