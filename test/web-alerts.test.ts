import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser-app.ts';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';
import { startHttpReceiver } from './receivers.ts';

// The web UI's rules page in Debian's headless Chromium against the whole stack: sign in, create a
// Slack rule, see the default rule beside it, see the delivery a new issue makes, disable, edit
// and delete a rule.

let trapline: RunningTrapline;
let browser: Browser;
let page: Page;
let receiver: Awaited<ReturnType<typeof startHttpReceiver>>;
let org: string;
let project: string;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  [trapline, browser] = await Promise.all([startTrapline({ ALERT_RULES_REFRESH_MS: '200' }), launchChromium()]);
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 180000);

afterAll(async () => {
  await browser?.close();
  await trapline?.dispose();
  await receiver?.close();
});

const rows = () => page.locator('table.rules tbody tr');

describe('the rules page', () => {
  it('creates a rule, shows its delivery, disables, edits and deletes it', async () => {
    await page.goto(`${trapline.publicUrl}/`);
    await page.fill('#token', trapline.defaults.token);
    await page.click('button:text("Use token")');
    await page.waitForURL(`**/organizations/${org}/projects/${project}/issues/`);
    await page.goto(`${trapline.publicUrl}/organizations/${org}/projects/`);
    await page.click('text=Alert rules');
    await page.waitForURL(`**/organizations/${org}/projects/${project}/alerts/rules/`);
    await expect.poll(() => rows().count()).toBe(1); // Sentry's default rule

    await page.fill('.rule-form label:has-text("Name") input', 'tell Slack');
    await page.selectOption('.rule-form label:has-text("Then") select', { label: 'Slack' });
    await page.fill('.rule-form input[type=url]', `${receiver.url}/slack`);
    await page.click('.rule-form button[type=submit]');
    await expect.poll(() => rows().count(), { timeout: 15000 }).toBe(2);

    await new Promise((resolve) => setTimeout(resolve, 500)); // the notifier's rule cache
    const url = new URL(trapline.defaults.dsn);
    expect((await fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message: 'seen in the browser' }) })).status).toBe(200);
    await eventually(async () => (receiver.on('/slack').length > 0 ? true : undefined), 'the Slack message');
    await expect.poll(async () => {
      await page.click('text=Refresh');
      return page.locator('table.deliveries tr[data-status=sent]').count();
    }, { timeout: 15000 }).toBe(1);

    const rule = rows().filter({ hasText: 'tell Slack' });
    await rule.locator('text=Disable').click();
    await expect.poll(() => rule.locator('td').nth(4).textContent(), { timeout: 15000 }).toBe('disabled');
    await rule.locator('text=Edit').click();
    await page.fill('.rule-form label:has-text("Name") input', 'tell Slack, renamed');
    await page.click('.rule-form button[type=submit]');
    const renamed = rows().filter({ hasText: 'tell Slack, renamed' });
    await expect.poll(() => renamed.count(), { timeout: 15000 }).toBe(1);
    await renamed.locator('text=Delete').click();
    await expect.poll(() => rows().count(), { timeout: 15000 }).toBe(1);
  }, 120000);

  it('shows the API’s refusal of a bad rule', async () => {
    await page.fill('.rule-form label:has-text("Name") input', 'bad');
    await page.fill('.rule-form label:has-text("At most every") input', '50000'); // above Sentry's 30 days: the form lets it through, the API refuses it
    await page.click('.rule-form button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('body.frequency');
  });
});
