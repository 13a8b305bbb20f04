import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser-app.ts';
import { startTrapline, type RunningTrapline } from './harness.ts';

// People in the web UI, in Debian's headless Chromium against the whole stack: the first owner
// signs in with the password `npm start` printed, sees the issues, invites someone; the invitee
// accepts the link in a second browser context (its own cookies), is signed in, and meets what a
// member may not do; signs out and in again; the owner sees them as a member and makes a token.

let trapline: RunningTrapline;
let browser: Browser;
let ownerContext: BrowserContext;
let inviteeContext: BrowserContext;
let owner: Page;
let invitee: Page;
let org: string;
let project: string;
let inviteLink: string;

/** With TRAPLINE_SCREENSHOTS=1, the README's screenshots of these pages. */
async function screenshot(page: Page, name: string) {
  if (process.env.TRAPLINE_SCREENSHOTS !== '1') return;
  const dir = join(import.meta.dirname, '..', 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  [trapline, browser] = await Promise.all([startTrapline(), launchChromium()]);
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
  const viewport = { width: 1280, height: 800 };
  [ownerContext, inviteeContext] = await Promise.all([browser.newContext({ viewport }), browser.newContext({ viewport })]);
  [owner, invitee] = await Promise.all([ownerContext.newPage(), inviteeContext.newPage()]);
});

afterAll(async () => {
  await browser?.close();
  await trapline?.dispose();
});

async function signIn(page: Page, email: string, password: string) {
  await page.goto(`${trapline.publicUrl}/`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button:text("Sign in")');
}

describe('people in the web UI', () => {
  it('signs the owner in with email and password, refusing a wrong one, and shows their name and the issues', async () => {
    await signIn(owner, trapline.defaults.owner.email, 'wrong password');
    await expect.poll(() => owner.textContent('[role=alert]')).toBe('Invalid email or password.');
    await screenshot(owner, 'sign-in');
    await signIn(owner, trapline.defaults.owner.email, trapline.defaults.owner.password!);
    await owner.waitForURL(`**/organizations/${org}/projects/${project}/issues/`);
    expect(await owner.textContent('header .user')).toBe('Owner');
    const cookies = await ownerContext.cookies();
    expect(cookies.find((cookie) => cookie.name === 'trapline_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
  });

  it('invites someone and shows the single-use link once', async () => {
    await owner.click('a:text("Members")');
    await owner.fill('input[aria-label="Email to invite"]', 'newbie@example.com');
    await owner.selectOption('select[aria-label="Role to invite with"]', 'member');
    await owner.click('button:text("Invite")');
    inviteLink = (await owner.locator('.shown-once code').textContent())!;
    expect(inviteLink).toMatch(/\/accept\/\d+\/[0-9a-f]{64}\/$/);
    await expect.poll(() => owner.locator('tr[data-email="newbie@example.com"] .badge').textContent()).toBe('invited');
    await screenshot(owner, 'members');
  });

  it('lets the invitee accept in their own browser, signed in at once, meeting what a member may not do', async () => {
    await invitee.goto(inviteLink);
    await expect.poll(() => invitee.textContent('form[aria-label="Accept invitation"] p')).toContain(`Join ${org} as member`);
    await screenshot(invitee, 'accept-invitation');
    await invitee.fill('#name', 'Newbie');
    await invitee.fill('#new-password', 'newbie password');
    await invitee.click('button:text("Accept invitation")');
    await invitee.waitForURL(`**/organizations/${org}/projects/${project}/issues/`);
    expect(await invitee.textContent('header .user')).toBe('Newbie');
    await invitee.click('a:text("Members")');
    await invitee.fill('input[aria-label="Email to invite"]', 'friend@example.com');
    await invitee.click('button:text("Invite")');
    await expect.poll(() => invitee.textContent('[role=alert]')).toBe('You do not have permission to perform this action.');
    await invitee.click('a:text("Audit log")');
    await expect.poll(() => invitee.textContent('[role=alert]')).toBe('You do not have permission to perform this action.');
    // The link worked once.
    const again = await inviteeContext.newPage();
    await again.goto(inviteLink);
    await expect.poll(() => again.textContent('[role=alert]')).toBe('This invitation link is invalid or was already used.');
  });

  it('signs the invitee out and in again with the password they chose', async () => {
    await invitee.click('button:text("Sign out")');
    await invitee.waitForSelector('#email');
    expect((await inviteeContext.cookies()).find((cookie) => cookie.name === 'trapline_session')?.value ?? '').toBe('');
    await signIn(invitee, 'newbie@example.com', 'newbie password');
    await invitee.waitForURL(`**/organizations/${org}/projects/${project}/issues/`);
  });

  it('shows the owner the new member, and makes a personal token', async () => {
    await owner.reload();
    await expect.poll(() => owner.locator('tr[data-email="newbie@example.com"] td').first().textContent()).toBe('Newbie');
    await owner.click('a:text("Tokens")');
    await owner.fill('input[aria-label="Token name"]', 'laptop');
    await owner.click('button:text("Create token")');
    const token = (await owner.locator('.shown-once code').textContent())!;
    expect(token).toMatch(/^tpu_[0-9a-f]{64}$/);
    const response = await fetch(`${trapline.publicUrl}/api/0/projects/${org}/${project}/issues/`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    await expect.poll(() => owner.locator('table.tokens td').first().textContent()).toBe('laptop');
  });
});
