import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as Sentry from '@sentry/node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser-app.ts';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// The web UI in Debian's headless Chromium, against the whole stack: the official Node SDK
// reports an error, and the browser signs in with an API token, finds the issue, reads its stack
// trace, deletes an event and then the issue (pending at once, progress until done), and finds
// both deletions in the audit log. With TRAPLINE_SCREENSHOTS=1 it also writes the README's
// screenshots to docs/screenshots/.

const SCREENSHOTS = process.env.TRAPLINE_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', 'docs', 'screenshots') : undefined;

let trapline: RunningTrapline;
let browser: Browser;
let page: Page;
let org: string;
let project: string;

const api = async <T>(path: string) => {
  const response = await fetch(`${trapline.publicUrl}/api/0${path}`, { headers: { authorization: `Bearer ${trapline.defaults.token}` } });
  return { status: response.status, body: (await response.json()) as T };
};

// The app under report: named functions, so the event has in-app frames with context lines.
function chargeCard(order: { id: string }): never {
  throw new TypeError(`card declined for order ${order.id}`);
}

function checkout(order: { id: string }) {
  chargeCard(order);
}

function failCheckout(user: string): string {
  Sentry.setUser({ id: user, email: `${user}@example.com` });
  Sentry.addBreadcrumb({ category: 'cart', message: `coupon applied by ${user}`, level: 'info' });
  try {
    checkout({ id: 'ord-7' });
  } catch (error) {
    return Sentry.captureException(error);
  }
  throw new Error('unreachable');
}

async function screenshot(name: string) {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Accepts the next confirm() the page opens. */
const acceptNextDialog = () => page.once('dialog', (dialog) => void dialog.accept());

beforeAll(async () => {
  // A deletion waits 3 s: long enough to see it pending, short enough to watch it finish.
  [trapline, browser] = await Promise.all([startTrapline({ DELETION_DELAY_SECONDS: '3' }), launchChromium()]);
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await Sentry.close(2000);
  await browser?.close();
  await trapline?.dispose();
});

describe('serving the web UI', () => {
  it('answers page paths with the app, assets with long-lived caching, and /api/ exactly as before', async () => {
    const pagePath = await fetch(`${trapline.publicUrl}/organizations/${org}/issues/1/`);
    expect(pagePath.status).toBe(200);
    expect(pagePath.headers.get('content-type')).toMatch(/^text\/html/);
    expect(pagePath.headers.get('cache-control')).toBe('no-cache');
    expect(pagePath.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await pagePath.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();

    const asset = await fetch(`${trapline.publicUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // React's production bundle: its development build links this act() warning.
    expect(await asset.text()).not.toContain('wrap-tests-with-act');

    for (const path of ['/api/0/no-such-thing/', '/api/nope', '/assets/missing-abc123.js']) {
      const response = await fetch(`${trapline.publicUrl}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toEqual({ detail: 'The requested resource does not exist' });
    }
    expect((await fetch(`${trapline.publicUrl}/api/0/projects/`)).status).toBe(401);
  });
});

describe('the web UI in Chromium', () => {
  let issueId: string;
  let eventIds: string[];

  it('signs in with an API token and lists the issue an SDK reported, with its numbers and sparkline', async () => {
    Sentry.init({ dsn: trapline.defaults.dsn, release: 'shop@1.4.0', environment: 'e2e' });
    // One at a time: the issue page opens on the event received last, and two events sent together
    // may arrive in either order.
    eventIds = [failCheckout('ada')];
    expect(await Sentry.flush(10000)).toBe(true);
    eventIds.push(failCheckout('grace'));
    expect(await Sentry.flush(10000)).toBe(true);
    const issue = await eventually(async () => {
      const { body } = await api<{ id: string; title: string; count: string }[]>(`/projects/${org}/${project}/issues/`);
      return body.find((candidate) => candidate.title.includes('card declined') && candidate.count === '2');
    }, 'the issue with both events');
    issueId = issue.id;

    await page.goto(`${trapline.publicUrl}/`);
    await page.fill('#token', 'tpl_wrong');
    await page.click('button:text("Use token")');
    await expect.poll(() => page.textContent('[role=alert]')).toBe('Invalid token');
    await page.fill('#token', trapline.defaults.token);
    await page.click('button:text("Use token")');
    await page.waitForURL(`**/organizations/${org}/projects/${project}/issues/`);

    const row = page.locator(`tr[data-issue="${issueId}"]`);
    await row.waitFor();
    expect(await row.locator('.issue-title a').textContent()).toBe('TypeError: card declined for order ord-7');
    const cells = await row.locator('td').allTextContents();
    expect(cells[2]).toBe('error');
    expect(cells[4]).toBe('2'); // events
    expect(cells[5]).toBe('2'); // users
    expect(cells[6]).toBe('just now');
    // 24 hourly points, the last (this hour) the highest: both events.
    const points = (await row.locator('.sparkline polyline').getAttribute('points'))!.split(' ');
    expect(points).toHaveLength(24);
    expect(points.at(-1)).toBe('80,0');
    expect(points[0]).toBe('0,20');
    await screenshot('issues');
  });

  it("shows the API's detail for a search it refuses", async () => {
    await page.fill('input[aria-label=Search]', 'is:bogus');
    await page.click('button:text("Search")');
    await expect.poll(() => page.textContent('[role=alert]')).toBe('Invalid value for "is" search: bogus');
    expect(page.url()).toContain('query=is%3Abogus');
    await page.fill('input[aria-label=Search]', 'card declined');
    await page.click('button:text("Search")');
    await page.locator(`tr[data-issue="${issueId}"]`).waitFor();
    expect(await page.locator('tr[data-issue]').count()).toBe(1);
  });

  it('renders the exception with its in-app frames and context lines, tags, breadcrumbs, user and event navigation', async () => {
    await page.click(`tr[data-issue="${issueId}"] .issue-title a`);
    await page.waitForURL(`**/organizations/${org}/issues/${issueId}/`);
    await page.locator('.exception').waitFor();
    expect(await page.textContent('.exception h4')).toBe('TypeError: card declined for order ord-7');
    // Most recent call first: chargeCard threw, checkout called it.
    const inApp = await page.locator('.frame.in-app .function').allTextContents();
    expect(inApp.slice(0, 2)).toEqual(['chargeCard', 'checkout']);
    expect(await page.locator('.frame.system').count()).toBeGreaterThan(0);
    expect(await page.textContent('.frame.in-app .context li.current')).toContain('throw new TypeError(`card declined for order ${order.id}`);');

    expect(await page.textContent('[data-tag=environment]')).toContain('e2e');
    expect(await page.textContent('[data-tag=release]')).toContain('shop@1.4.0');
    expect(await page.locator('[data-tag=environment] .tag-value').allTextContents()).toEqual(['e2e100%']);
    expect(await page.textContent('.breadcrumbs')).toContain('coupon applied by grace');
    expect(await page.textContent('.user')).toContain('grace@example.com');
    expect(await page.textContent('.event-json pre')).toContain(eventIds[1]);
    expect(await page.textContent('.event-nav')).toContain('event 1 of 2');
    await screenshot('issue');

    await page.click('button:text("Older →")');
    await page.waitForURL(`**/issues/${issueId}/?event=${eventIds[0]}`);
    await expect.poll(() => page.textContent('.user')).toContain('ada@example.com');
    expect(await page.textContent('.event-nav')).toContain('event 2 of 2');
  });

  it('deletes one event: pending at once, then its progress until done', async () => {
    acceptNextDialog();
    await page.click('button:text("Delete event")');
    const progress = page.locator('.deletion');
    await progress.waitFor();
    expect(await progress.locator('.deletion-status').textContent()).toBe('Pending deletion');
    await page.locator('.deletion[data-status=done]').waitFor({ timeout: 60000 });
    expect(await progress.textContent()).toContain('1 events removed');
    const { status } = await api(`/projects/${org}/${project}/events/${eventIds[0]}/`);
    expect(status).toBe(404);
  });

  it('deletes the issue: pending at once, done, gone from the list, and both deletions in the audit log', async () => {
    await page.goto(`${trapline.publicUrl}/organizations/${org}/issues/${issueId}/`);
    await expect.poll(() => page.textContent('.issue-header .facts strong')).toBe('1');
    acceptNextDialog();
    await page.click('button:text("Delete issue")');
    await page.locator('.deletion').waitFor();
    expect(await page.textContent('.badge.status')).toBe('pending deletion');
    expect(await page.textContent('.deletion-status')).toBe('Pending deletion');
    await screenshot('deletion');
    await page.locator('.deletion[data-status=done]').waitFor({ timeout: 60000 });
    expect(await page.textContent('.deletion')).toContain('1 events removed');
    expect((await api(`/issues/${issueId}/`)).status).toBe(404);

    await page.click('a:text("Back to the issues")');
    // Both deletions this tab asked for, each polled to its end.
    await expect.poll(() => page.locator('.deletions .deletion[data-status=done]').count()).toBe(2);
    expect(await page.locator(`tr[data-issue="${issueId}"]`).count()).toBe(0);

    await page.click('nav a:text("Audit log")');
    await page.waitForURL(`**/organizations/${org}/audit-log/`);
    const completed = page.locator('tr[data-event="issue.delete.completed"]');
    await completed.waitFor();
    const cells = await completed.locator('td').allTextContents();
    expect(cells[2]).toContain(`deleted issue ${issueId}`);
    expect(cells[3]).toMatch(/^API token [0-9a-f]{12}$/);
    expect(cells[6]).toBe('1'); // events removed
    const requested = await page.locator('tr[data-event="issue.delete"] td').allTextContents();
    expect(requested[4]).toMatch(/UTC$/); // requested at
    expect(requested[5]).toMatch(/UTC$/); // scheduled for
    expect(await page.locator('tr[data-event="event.delete.completed"] td').nth(6).textContent()).toBe('1');
    await screenshot('audit-log');
  });

  it('changes the status of several issues at once', async () => {
    // Both are sent from here, so their stacks would group them together: a fingerprint each.
    Sentry.captureMessage('queue stalled', { level: 'warning', fingerprint: ['queue-stalled'] });
    Sentry.captureMessage('disk almost full', { level: 'warning', fingerprint: ['disk-full'] });
    expect(await Sentry.flush(10000)).toBe(true);
    await eventually(async () => ((await api<unknown[]>(`/projects/${org}/${project}/issues/`)).body.length === 2 ? true : undefined), 'two new issues');
    await page.goto(`${trapline.publicUrl}/organizations/${org}/projects/${project}/issues/`);
    await page.locator('tr[data-issue]').nth(1).waitFor();
    await page.check('input[aria-label="Select all"]');
    await page.click('button:text("Resolve")');
    await expect.poll(() => page.locator('tr[data-issue]').count()).toBe(0);
    await page.selectOption('select[aria-label=Status]', 'resolved');
    await page.waitForURL(/query=is%3Aresolved/);
    await expect.poll(() => page.locator('tr[data-issue]').count()).toBe(2);
    const statuses = await api<{ status: string }[]>(`/projects/${org}/${project}/issues/?query=is:resolved`);
    expect(statuses.body.map((issue) => issue.status)).toEqual(['resolved', 'resolved']);
  });

  it('shows each DSN key with the setup snippet for Node, the browser and Python', async () => {
    await page.click('nav a:text("Projects & keys")');
    await page.waitForURL(`**/organizations/${org}/projects/`);
    await page.locator('.dsn-value').first().waitFor();
    expect(await page.textContent('.dsn-value')).toBe(trapline.defaults.dsn);
    expect(await page.textContent('.snippet')).toContain(`Sentry.init({ dsn: "${trapline.defaults.dsn}" });`);
    await page.click('button[role=tab]:text("Python")');
    expect(await page.textContent('.snippet')).toContain(`sentry_sdk.init(dsn="${trapline.defaults.dsn}")`);
    await screenshot('projects');
  });

  it('warns in the header while the projector is not running, and stops warning once it is back', async () => {
    await trapline.services.stop('projector'); // SIGTERM: it leaves its group at once
    await page.reload();
    const banner = page.locator('.system-health.critical');
    await banner.waitFor({ timeout: 30000 });
    expect(await banner.textContent()).toMatch(/^The projector is not running: events are acknowledged but do not appear/);
    await trapline.services.start('projector');
    await page.reload();
    await page.locator('.top').waitFor();
    await expect.poll(() => page.locator('.system-health').count(), { timeout: 30000 }).toBe(0);
  });
});
