import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrapline, type RunningTrapline } from './harness.ts';

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
});
