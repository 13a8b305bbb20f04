import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli, startTrapline, type RunningTrapline } from './harness.ts';

// The operator's `trapline` command against a running Trapline: what it creates lands on the
// admin topic, and ingest and the API honour it.

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline();
});

afterAll(async () => {
  await trapline?.dispose();
});

const cli = (...args: string[]) => runCli(trapline.env, args, 60000);

const store = (dsn: string) => {
  const url = new URL(dsn);
  return fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message: 'via a CLI-made key' }) });
};

describe('the trapline CLI', () => {
  let dsn: string;
  let publicKey: string;

  it('creates an organization, a project with the next id, and a DSN key that ingest accepts at once', async () => {
    expect(cli('orgs', 'create', 'acme', '--name', 'Acme Inc').status).toBe(0);
    const project = cli('projects', 'create', 'acme', 'web');
    expect(project.status, project.stderr).toBe(0);
    expect(project.stdout).toMatch(/^2\s+acme\s+web/m);
    const key = cli('keys', 'create', '2');
    expect(key.status, key.stderr).toBe(0);
    dsn = /(http:\/\/\S+)/.exec(key.stdout)![1]!;
    publicKey = new URL(dsn).username;
    expect((await store(dsn)).status).toBe(200);
    expect(cli('keys', 'list', '2').stdout).toContain(publicKey);
  });

  it('revokes a key: ingest refuses it within seconds', async () => {
    expect(cli('keys', 'revoke', publicKey).status).toBe(0);
    const refused = await eventually(async () => {
      const response = await store(dsn);
      return response.status === 403 ? response : undefined;
    }, 'the key refused', 10000);
    expect(await refused.json()).toEqual({ detail: 'this DSN key is disabled' });
  });

  it('creates a scoped token that reads its organization and nothing more', async () => {
    const created = cli('tokens', 'create', 'acme', '--scopes', 'event:read');
    expect(created.status, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const listed = cli('tokens', 'list');
    expect(listed.stdout).toMatch(/acme\s+event:read/);
    expect(listed.stdout).not.toContain(token);
    const headers = { authorization: `Bearer ${token}` };
    expect((await fetch(`${trapline.publicUrl}/api/0/projects/acme/web/issues/`, { headers })).status).toBe(200);
    expect((await fetch(`${trapline.publicUrl}/api/0/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/issues/`, { headers })).status).toBe(404);
  });

  it.each([
    [['orgs', 'create', 'Not A Slug'], /invalid organization slug/],
    [['projects', 'create', 'nobody', 'web'], /no organization nobody/],
    [['projects', 'create', 'acme', 'web'], /exists/],
    [['tokens', 'create', 'acme', '--scopes', 'root:all'], /unknown scopes: root:all/],
    [['keys', 'revoke', 'ffff'], /no key ffff/],
  ])('refuses %j with exit 2 and a reason', (args, message) => {
    const result = cli(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
