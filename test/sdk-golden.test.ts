import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSdkFixtures, retarget } from './fixtures/sdk-fixtures.ts';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// The golden SDK payloads (test/fixtures/sdk: real requests of the Node, Python and browser SDKs)
// replayed byte for byte over HTTP, headers and compression included, through the gateway to
// ingest; each must come out of the API as its own issue.

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline();
});

afterAll(async () => {
  await trapline?.dispose();
});

const fixtures = loadSdkFixtures();

/** What each issue's title must contain: `Type: value` for errors, the formatted message otherwise. */
const TITLES: Record<string, string> = {
  'node-exception': 'RangeError: invalid amount: 12,50',
  'node-message': 'payment ord-7 failed after 3 attempts',
  'node-context': 'Error: payment provider unavailable',
  'python-exception': 'ZeroDivisionError: division by zero',
  'python-message': 'invoice inv-9 overdue by 14 days',
  'python-context': "KeyError: 'customer'",
  'browser-exception': 'TypeError: card declined for order ord-7',
  'browser-message': 'page /cart took 2300 ms',
};

const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${trapline.publicUrl}/api/0${path}`, { headers: { authorization: `Bearer ${trapline.defaults.token}` } });
  return { status: response.status, body: (await response.json()) as T };
};

const eventIds = new Map<string, string>();

describe('golden SDK payloads over HTTP', () => {
  it('are each accepted with the event id the SDK chose', async () => {
    const target = { publicKey: new URL(trapline.defaults.dsn).username, projectId: trapline.defaults.projectId };
    for (const fixture of fixtures) {
      const request = retarget(fixture, target);
      const response = await fetch(`${trapline.publicUrl}${request.path}`, { method: fixture.method, headers: request.headers, body: new Uint8Array(request.body) });
      expect([fixture.name, response.status]).toEqual([fixture.name, 200]);
      const { id } = (await response.json()) as { id: string };
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      eventIds.set(fixture.name, id);
    }
  });

  it.each(fixtures.map((fixture) => [fixture.name]))('%s is an issue of its own, with its event readable through the API', async (name) => {
    const { organizationSlug: org, projectSlug: project } = trapline.defaults;
    const eventId = eventIds.get(name)!;
    const event = await eventually(async () => {
      const response = await api<{ groupID: string; platform: string; sdk: { name: string } | null; tags: { key: string; value: string }[] }>(`/projects/${org}/${project}/events/${eventId}/`);
      return response.status === 200 ? response.body : undefined;
    }, `event ${eventId} of ${name}`);
    expect(event.platform).toBe(name.startsWith('python') ? 'python' : name.startsWith('node') ? 'node' : 'javascript');
    expect(event.sdk?.name).toMatch(/^sentry\.(javascript|python)/);
    expect(event.tags).toContainEqual({ key: 'environment', value: 'golden' });
    const issue = await api<{ title: string; count: string }>(`/organizations/${org}/issues/${event.groupID}/`);
    expect(issue.status).toBe(200);
    expect(issue.body.title).toContain(TITLES[name]);
    // A captured message is titled by the message alone, even where the SDK wraps it in a synthetic exception.
    if (name.endsWith('-message')) expect(issue.body.title).toBe(TITLES[name]);
    expect(issue.body.count).toBe('1');
  });

  it('make one issue per payload', async () => {
    const { organizationSlug: org, projectSlug: project } = trapline.defaults;
    const issues = await api<unknown[]>(`/projects/${org}/${project}/issues/?limit=100`);
    expect(issues.body).toHaveLength(fixtures.length);
  });
});
