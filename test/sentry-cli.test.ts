import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';

// sentry-cli (the @sentry/cli npm package's real binary) against Trapline, configured only by
// SENTRY_URL, SENTRY_AUTH_TOKEN and SENTRY_DSN, as a user would.

const require = createRequire(import.meta.url);
const binary = (require('@sentry/cli') as { getPath(): string }).getPath();

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline();
});

afterAll(async () => {
  await trapline?.dispose();
});

function sentryCli(...args: string[]) {
  const { organizationSlug, projectSlug, token, dsn } = trapline.defaults;
  const result = spawnSync(binary, args, {
    encoding: 'utf8',
    timeout: 60000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SENTRY_URL: trapline.publicUrl, SENTRY_AUTH_TOKEN: token, SENTRY_ORG: organizationSlug, SENTRY_PROJECT: projectSlug, SENTRY_DSN: dsn, SENTRY_LOAD_DOTENV: '0' },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const issueTitles = async () => {
  const response = await fetch(`${trapline.publicUrl}/api/0/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/issues/?query=`, { headers: { authorization: `Bearer ${trapline.defaults.token}` } });
  return (await response.json()) as { id: string; title: string; status: string }[];
};

describe('sentry-cli', () => {
  it('info: authenticates against the API root', () => {
    const { status, output } = sentryCli('info');
    expect(status, output).toBe(0);
    expect(output).toContain(trapline.publicUrl);
  });

  it('send-event: the event becomes an issue', async () => {
    const { status, output } = sentryCli('send-event', '-m', 'hello from sentry-cli', '--level', 'warning');
    expect(status, output).toBe(0);
    const issue = await eventually(async () => (await issueTitles()).find((entry) => entry.title === 'hello from sentry-cli'), 'the issue');
    expect(issue.status).toBe('unresolved');
  });

  it('issues list: shows the issue', () => {
    const { status, output } = sentryCli('issues', 'list');
    expect(status, output).toBe(0);
    expect(output).toContain('hello from sentry-cli');
  });

  it('issues resolve, mute and unresolve: change the status through the log, visible to the next read', async () => {
    const issue = (await issueTitles()).find((entry) => entry.title === 'hello from sentry-cli')!;
    const statusNow = async () => (await issueTitles()).find((entry) => entry.id === issue.id)?.status;
    const resolved = sentryCli('issues', 'resolve', '-i', issue.id);
    expect(resolved.status, resolved.output).toBe(0);
    expect(await statusNow()).toBe('resolved');
    const muted = sentryCli('issues', 'mute', '-i', issue.id);
    expect(muted.status, muted.output).toBe(0);
    expect(await statusNow()).toBe('ignored');
    const reopened = sentryCli('issues', 'unresolve', '-i', issue.id);
    expect(reopened.status, reopened.output).toBe(0);
    expect(await statusNow()).toBe('unresolved');
  });

  it('events list: shows the event', () => {
    const { status, output } = sentryCli('events', 'list');
    expect(status, output).toBe(0);
    expect(output).toContain('hello from sentry-cli');
  });
});
