import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveBrowserApp, type BrowserApp, type BrowserShop } from './browser-app.ts';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// @sentry/browser in headless Chromium (Debian's package, installed by global-setup when missing),
// on a page whose origin is not Trapline's: the browser itself enforces CORS on every request the
// SDK makes, preflights included.

let trapline: RunningTrapline;
let app: BrowserApp;
let browser: Browser;

beforeAll(async () => {
  // A long window, so the last test decides when the project runs out.
  [trapline, app, browser] = await Promise.all([startTrapline({ RATE_LIMIT_PROJECT_EVENTS: '4', RATE_LIMIT_WINDOW_SECONDS: '3600' }), serveBrowserApp(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await trapline?.dispose();
});

const api = async <T>(path: string): Promise<T> => {
  const response = await fetch(`${trapline.publicUrl}/api/0${path}`, { headers: { authorization: `Bearer ${trapline.defaults.token}` } });
  return (await response.json()) as T;
};

interface Visit {
  page: Page;
  /** Chromium's console errors, where it reports requests CORS blocked. */
  consoleErrors: string[];
  /** CORS preflights Chromium sent (DevTools protocol: Playwright's own events hide them). */
  preflights: string[];
}

async function openShop(transportHeaders?: Record<string, string>): Promise<Visit> {
  const page = await browser.newPage();
  const visit: Visit = { page, consoleErrors: [], preflights: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') visit.consoleErrors.push(message.text());
  });
  const devtools = await page.context().newCDPSession(page);
  await devtools.send('Network.enable');
  devtools.on('Network.requestWillBeSent', (sent) => {
    if (sent.initiator.type === 'preflight') visit.preflights.push(`${sent.request.method} ${sent.request.url}`);
  });
  await page.goto(app.url);
  await page.evaluate(([dsn, headers]) => (window as unknown as BrowserShop).shop.init(dsn, headers), [trapline.defaults.dsn, transportHeaders] as const);
  return visit;
}

async function clickAndFlush(visit: Visit, button: string): Promise<void> {
  await visit.page.click(button);
  expect(await visit.page.evaluate(() => (window as unknown as BrowserShop).shop.flush())).toBe(true);
}

async function issueTitled(title: string) {
  const { organizationSlug: org, projectSlug: project } = trapline.defaults;
  return eventually(async () => {
    const issues = await api<{ id: string; title: string; count: string }[]>(`/projects/${org}/${project}/issues/`);
    return issues.find((issue) => issue.title.includes(title));
  }, `an issue titled ${title}`);
}

describe('@sentry/browser on another origin', () => {
  it('reports an exception that becomes an issue, with user, tags, breadcrumbs and the page URL', async () => {
    const visit = await openShop();
    await clickAndFlush(visit, '#pay');
    const issue = await issueTitled('TypeError: card declined for order ord-7');
    expect(issue.count).toBe('1');
    const [event] = await api<{ id: string }[]>(`/organizations/${trapline.defaults.organizationSlug}/issues/${issue.id}/events/`);
    const { organizationSlug: org, projectSlug: project } = trapline.defaults;
    const detail = await api<{ platform: string; user: unknown; tags: { key: string; value: string }[]; entries: { type: string; data: unknown }[] }>(`/projects/${org}/${project}/events/${event!.id}/`);
    expect(detail.platform).toBe('javascript');
    expect(detail.user).toMatchObject({ id: 'u-42', email: 'ada@example.com' });
    expect(detail.tags).toContainEqual({ key: 'checkout.step', value: 'payment' });
    expect(detail.entries.find((entry) => entry.type === 'request')?.data).toMatchObject({ url: app.url });
    expect(detail.entries.find((entry) => entry.type === 'breadcrumbs')?.data).toMatchObject({ values: expect.arrayContaining([expect.objectContaining({ category: 'console', message: 'payment form submitted' })]) });
    expect(visit.preflights).toEqual([]);
    expect(visit.consoleErrors.filter((text) => /CORS|blocked/i.test(text))).toEqual([]);
    await visit.page.close();
  });

  it('gets through a real CORS preflight when the transport sends a non-simple content type', async () => {
    const visit = await openShop({ 'content-type': 'application/x-sentry-envelope' });
    await clickAndFlush(visit, '#slow');
    await issueTitled('page /cart took 2300 ms');
    expect(visit.preflights.some((request) => request.startsWith(`OPTIONS ${trapline.publicUrl}/api/${trapline.defaults.projectId}/envelope/`))).toBe(true);
    expect(visit.consoleErrors.filter((text) => /CORS|blocked/i.test(text))).toEqual([]);
    await visit.page.close();
  });

  it('can read X-Sentry-Rate-Limits and Retry-After of a 429 as its transport does', async () => {
    const visit = await openShop();
    const key = new URL(trapline.defaults.dsn).username;
    const url = `${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`;
    // What the SDK's fetch transport reads from every answer; CORS hides unexposed headers.
    const limited = await visit.page.evaluate(async (storeUrl) => {
      for (let sent = 0; sent < 10; sent += 1) {
        const response = await fetch(storeUrl, { method: 'POST', body: JSON.stringify({ message: 'flood' }), keepalive: true });
        if (response.status === 429) return { rateLimits: response.headers.get('X-Sentry-Rate-Limits'), retryAfter: response.headers.get('Retry-After') };
      }
      return undefined;
    }, url);
    expect(limited?.rateLimits).toMatch(/^\d+:error;default:project$/);
    expect(Number(limited?.retryAfter)).toBeGreaterThan(0);
    await visit.page.close();
  });
});
