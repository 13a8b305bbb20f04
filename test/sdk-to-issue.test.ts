import { randomBytes } from 'node:crypto';
import * as Sentry from '@sentry/node';
import { eventKeys } from '@trapline/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';
import { readTopic } from './log.ts';

// The walking skeleton end to end: the official Node SDK → gateway → ingest → Kafka →
// projector → Postgres → API, every service its own process, real servers underneath.

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline();
});

afterAll(async () => {
  await Sentry.close(2000);
  await trapline?.dispose();
});

const api = (path: string, token = trapline.defaults.token) =>
  fetch(`${trapline.publicUrl}/api/0${path}`, { headers: { authorization: `Bearer ${token}` } });

describe('an error captured by @sentry/node', () => {
  it('becomes an issue with one event, listed and fetchable through the API', async () => {
    Sentry.init({ dsn: trapline.defaults.dsn, release: 'skeleton@1.0.0', environment: 'test', defaultIntegrations: false });
    const eventId = Sentry.captureException(new Error('boom'));
    expect(await Sentry.flush(10000)).toBe(true);

    const { organizationSlug: org, projectSlug: project } = trapline.defaults;
    const issues = await eventually(async () => {
      const response = await api(`/projects/${org}/${project}/issues/`);
      const body = (await response.json()) as { title: string; count: string; id: string; shortId: string; metadata: { type: string } }[];
      return body.length > 0 ? body : undefined;
    }, 'the issue to be listed');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ title: 'Error: boom', count: '1', shortId: expect.stringMatching(/^DEFAULT-[0-9A-Z]{6}$/), metadata: { type: 'Error', value: 'boom' } });

    const response = await api(`/projects/${org}/${project}/events/${eventId}/`);
    expect(response.status).toBe(200);
    const event = (await response.json()) as { eventID: string; groupID: string; entries: { type: string }[]; tags: { key: string; value: string }[] };
    expect(event.eventID).toBe(eventId);
    expect(event.groupID).toBe(issues[0]!.id);
    expect(event.entries.map((entry) => entry.type)).toContain('exception');
    expect(event.tags).toContainEqual({ key: 'environment', value: 'test' });
  });

  it('is not visible without a token, and an unknown event is a 404 with a Sentry-style body', async () => {
    const { organizationSlug: org, projectSlug: project } = trapline.defaults;
    const anonymous = await fetch(`${trapline.publicUrl}/api/0/projects/${org}/${project}/issues/`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toHaveProperty('detail');
    const missing = await api(`/projects/${org}/${project}/events/${'0'.repeat(32)}/`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: 'Event not found' });
  });

  it('is refused with 401 and a detail when the DSN key is wrong, and nothing is appended', async () => {
    const before = await trapline.pool.query('SELECT count(*)::int AS n FROM events');
    const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/`, {
      method: 'POST',
      headers: { 'x-sentry-auth': 'Sentry sentry_key=00000000000000000000000000000000, sentry_version=7', 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'intruder' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: 'unknown DSN key' });
    const after = await trapline.pool.query('SELECT count(*)::int AS n FROM events');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});

describe('ingest dedupe', () => {
  it('acknowledges a retried event id again but appends it to the log once', async () => {
    // Counted by key: the same topic also carries the notifier's alert deliveries (the default
    // rule fires for this new issue), written in transactions whose markers take offsets too.
    const { projectId } = trapline.defaults;
    const [key] = new URL(trapline.defaults.dsn).username.split(':');
    const eventId = randomBytes(16).toString('hex');
    const send = () =>
      fetch(`${trapline.publicUrl}/api/${projectId}/store/?sentry_key=${key}&sentry_version=7`, {
        method: 'POST',
        body: JSON.stringify({ event_id: eventId, message: 'retried' }),
      });
    const answers = [await send(), await send()];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(await answers[1]!.json()).toEqual({ id: eventId });
    const appended = (await readTopic(trapline.config, trapline.topics.events, 1500)).filter((record) => record.key === eventKeys.event(projectId, eventId));
    expect(appended).toHaveLength(1);
  });
});

describe('every service', () => {
  it('stops cleanly on SIGTERM: exit code 0', async () => {
    const processes = [...trapline.services.services.values()].map((service) => service.process);
    await trapline.services.stopAll();
    expect(processes.map((child) => [child.exitCode, child.signalCode])).toEqual(processes.map(() => [0, null]));
  });
});
