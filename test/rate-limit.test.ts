import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// Rate limits as SDKs see them: 429 with Retry-After and X-Sentry-Rate-Limits, and the official
// Node SDK backing off instead of hammering ingest.

let trapline: RunningTrapline;

beforeAll(async () => {
  // An hour-long window, so the test never straddles a window boundary.
  trapline = await startTrapline({ RATE_LIMIT_PROJECT_EVENTS: '3', RATE_LIMIT_WINDOW_SECONDS: '3600' });
});

afterAll(async () => {
  await Sentry.close(2000);
  await trapline?.dispose();
});

async function rateLimitedCount(): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${trapline.config.INGEST_PORT}/metrics`)).text();
  const line = metrics.split('\n').find((row) => row.startsWith('trapline_ingest_outcomes_total') && row.includes('reason="rate_limited"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('rate limits', () => {
  it('answer 429 with Retry-After and X-Sentry-Rate-Limits once a project used its window', async () => {
    const key = new URL(trapline.defaults.dsn).username;
    const send = () => fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message: 'busy' }) });
    const statuses = [];
    for (let n = 0; n < 3; n += 1) statuses.push((await send()).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-sentry-rate-limits')).toMatch(/^\d+:error;default:project$/);
    expect(await limited.json()).toHaveProperty('detail');
  });

  it('make the official Node SDK back off: after one 429 it stops sending', async () => {
    const before = await rateLimitedCount();
    Sentry.init({ dsn: trapline.defaults.dsn, defaultIntegrations: false });
    for (let n = 0; n < 5; n += 1) {
      Sentry.captureException(new Error(`overflow ${n}`));
      await Sentry.flush(5000);
    }
    expect((await rateLimitedCount()) - before).toBe(1);
  });

  it("honour a DSN key's own rate limit set through the API (a project of its own, so only the key's limit is hit)", async () => {
    const { organizationSlug: org, token } = trapline.defaults;
    await trapline.appender.append(trapline.topics.admin, [{ key: 'project/2', name: 'ProjectUpserted', value: { projectId: 2, organizationSlug: org, slug: 'limited', name: 'Limited', platform: null, createdAt: Date.now() } }]);
    const keys = (method: string, path: string, body?: unknown) =>
      fetch(`${trapline.publicUrl}/api/0/projects/${org}/limited/keys/${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const created = await eventually(async () => {
      const response = await keys('POST', '', { name: 'limited', rateLimit: { count: 2, window: 3600 } });
      return response.status === 201 ? ((await response.json()) as { id: string; rateLimit: unknown }) : undefined;
    }, 'the project');
    expect(created.rateLimit).toEqual({ count: 2, window: 3600 });
    const send = () => fetch(`${trapline.publicUrl}/api/2/store/?sentry_key=${created.id}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message: 'limited key' }) });
    const first = await eventually(async () => {
      const response = await send();
      return response.status === 200 ? response.status : undefined;
    }, 'ingest knowing the key');
    const statuses = [first, (await send()).status];
    const sentAt = Date.now() / 1000;
    const limited = await send();
    const answeredAt = Date.now() / 1000;
    expect([...statuses, limited.status]).toEqual([200, 200, 429]);
    expect(limited.headers.get('x-sentry-rate-limits')).toMatch(/^\d+:error;default:key$/);
    // Retry-After is the rest of the key's hour-long window, aligned to the clock: whatever minute
    // the test runs in (it asked for more than 60 s, and failed in each hour's last minute).
    const untilHourEnd = (at: number) => 3600 - (at % 3600);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(untilHourEnd(answeredAt)));
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(untilHourEnd(sentAt)) + 1);
    const cleared = (await (await keys('PUT', `${created.id}/`, { rateLimit: null })).json()) as { rateLimit: unknown };
    expect(cleared.rateLimit).toBeNull();
  });
});
