import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveBrowserApp, type BrowserApp, type BrowserShop } from './browser-app.ts';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// @sentry/browser in headless Chromium (Debian's package, installed by global-setup when missing),
// on a page whose origin is not Trapline's: the browser itself enforces CORS on every request the
// SDK makes, preflights included, against the project's allowed domains.

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

  it("is refused while the project's allowed domains leave out the page's origin, and gets through a preflight once they name it", async () => {
    const { organizationSlug: org, projectSlug: project, projectId } = trapline.defaults;
    const pageOrigin = new URL(app.url).origin;
    const key = new URL(trapline.defaults.dsn).username;
    const setAllowedDomains = async (allowedDomains: string[] | null) => {
      const response = await fetch(`${trapline.publicUrl}/api/0/projects/${org}/${project}/`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${trapline.defaults.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ allowedDomains }),
      });
      expect(response.status).toBe(200);
    };
    /** Whether ingest lets the page's origin post now (asked with a preflight, which stores nothing). */
    const ingestAllows = async () => (await fetch(`${trapline.publicUrl}/api/${projectId}/envelope/?sentry_key=${key}`, { method: 'OPTIONS', headers: { origin: pageOrigin, 'access-control-request-method': 'POST' } })).status === 204;
    const timesSeen = async () => Number((await issueTitled('page /cart took 2300 ms')).count);
    const before = await timesSeen();

    await setAllowedDomains(['https://shop.example.test']);
    await eventually(async () => ((await ingestAllows()) ? undefined : true), 'ingest refusing the page');
    const refused = await openShop();
    await refused.page.click('#slow');
    await refused.page.evaluate(() => (window as unknown as BrowserShop).shop.flush());
    await eventually(async () => (refused.consoleErrors.some((text) => /CORS/i.test(text)) ? true : undefined), 'Chromium blocking the answer that names no allowed origin');
    await refused.page.close();

    await setAllowedDomains([pageOrigin]);
    await eventually(async () => ((await ingestAllows()) ? true : undefined), 'ingest allowing the page');
    const allowed = await openShop({ 'content-type': 'application/x-sentry-envelope' });
    await clickAndFlush(allowed, '#slow');
    // Both events went to the project's one partition in order: the refused one would be counted first.
    await eventually(async () => ((await timesSeen()) > before ? true : undefined), 'the event from the allowed page');
    expect(await timesSeen()).toBe(before + 1);
    expect(allowed.preflights.length).toBeGreaterThan(0);
    expect(allowed.consoleErrors.filter((text) => /CORS|blocked/i.test(text))).toEqual([]);
    await allowed.page.close();
    await setAllowedDomains(null);
    await eventually(async () => ((await ingestAllows()) ? true : undefined), 'the default again');
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
