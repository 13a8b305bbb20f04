import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTrapline, type RunningTrapline } from './harness.ts';

// CORS as a browser SDK on another origin sees it, over real HTTP through the gateway: the
// preflight, and headers on every answer (accepted, refused, rate-limited) so the SDK can read
// X-Sentry-Rate-Limits and Retry-After. The project keeps the default allowed origins (any);
// test/allowed-origins.test.ts sets a list.

let trapline: RunningTrapline;
let key: string;

const ORIGIN = 'http://app.example.test:8080';
// What @sentry/browser's fetch transport may send, plus the tracing headers an app adds.
const REQUESTED_HEADERS = ['content-type', 'x-sentry-auth', 'sentry-trace', 'baggage'];

beforeAll(async () => {
  // A long window, so the rate-limit test decides when the project runs out.
  trapline = await startTrapline({ RATE_LIMIT_PROJECT_EVENTS: '6', RATE_LIMIT_WINDOW_SECONDS: '3600' });
  key = new URL(trapline.defaults.dsn).username;
});

afterAll(async () => {
  await trapline?.dispose();
});

/** `endpoint` as SDKs write it: `store/`, `envelope/`, or without the slash as Relay also accepts. */
const ingestUrl = (endpoint: string, query = '') => `${trapline.publicUrl}/api/${trapline.defaults.projectId}/${endpoint}${query}`;
const listOf = (header: string | null) => (header ?? '').split(',').map((part) => part.trim().toLowerCase()).filter(Boolean);

function expectReadableCrossOrigin(response: Response) {
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  expect(listOf(response.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(['x-sentry-rate-limits', 'retry-after', 'x-sentry-error']));
}

const storeAsBrowser = (body: string, sentryKey = key) =>
  fetch(ingestUrl('store/', `?sentry_key=${sentryKey}&sentry_version=7&sentry_client=sentry.javascript.browser%2F11.12.0`), {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'text/plain;charset=UTF-8' },
    body,
  });

describe('the CORS preflight', () => {
  it.each(['store/', 'envelope/', 'envelope'])('allows a cross-origin POST to /api/{id}/%s with the headers browser SDKs send', async (endpoint) => {
    const response = await fetch(ingestUrl(endpoint, `?sentry_key=${key}&sentry_version=7`), {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': REQUESTED_HEADERS.join(',') },
    });
    expect([200, 204]).toContain(response.status);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(listOf(response.headers.get('access-control-allow-methods'))).toContain('post');
    expect(listOf(response.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(REQUESTED_HEADERS));
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0);
  });
});

describe('cross-origin answers', () => {
  it('accept a text/plain store body and let the browser read the answer', async () => {
    const response = await storeAsBrowser(JSON.stringify({ message: 'from a browser', platform: 'javascript' }));
    expect(response.status).toBe(200);
    expectReadableCrossOrigin(response);
    expect(await response.json()).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('accept a text/plain envelope at /envelope (no trailing slash, as Relay allows) with credentials only in the query', async () => {
    const eventId = 'c0'.repeat(16);
    const body = [JSON.stringify({ event_id: eventId, sent_at: new Date().toISOString() }), JSON.stringify({ type: 'event' }), JSON.stringify({ event_id: eventId, message: 'envelope from a browser' })].join('\n');
    const response = await fetch(ingestUrl('envelope', `?sentry_key=${key}&sentry_version=7`), { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain;charset=UTF-8' }, body });
    expect(response.status).toBe(200);
    expectReadableCrossOrigin(response);
    expect(await response.json()).toEqual({ id: eventId });
  });

  it.each([
    ['an unknown key', () => storeAsBrowser('{"message":"x"}', '0'.repeat(32)), 401],
    ['malformed JSON', () => storeAsBrowser('{"message":'), 400],
    ['an oversize body', () => storeAsBrowser(JSON.stringify({ message: 'x'.repeat(2 * 1024 * 1024) })), 413],
  ])('refuse %s with the detail readable cross-origin', async (_case, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    expectReadableCrossOrigin(response);
    expect(response.headers.get('x-sentry-error')).toBeTruthy();
    expect(await response.json()).toHaveProperty('detail');
  });

  it('rate-limit with X-Sentry-Rate-Limits and Retry-After readable cross-origin', async () => {
    let response = await storeAsBrowser('{"message":"flood"}');
    for (let sent = 1; response.status === 200 && sent < 10; sent += 1) response = await storeAsBrowser('{"message":"flood"}');
    expect(response.status).toBe(429);
    expectReadableCrossOrigin(response);
    expect(response.headers.get('x-sentry-rate-limits')).toMatch(/^\d+:error;default:project$/);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
