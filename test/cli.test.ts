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

  it('creates a team and a project in it, which the API shows as Sentry does; sets a key\'s rate limit the API shows', async () => {
    const team = cli('teams', 'create', 'acme', 'backend', '--name', 'Back End');
    expect(team.status, team.stderr).toBe(0);
    const project = cli('projects', 'create', 'acme', 'billing', '--team', 'backend');
    expect(project.status, project.stderr).toBe(0);
    expect(cli('teams', 'list').stdout).toMatch(/acme\s+backend\s+Back End\s+billing/);
    const limited = cli('keys', 'rate-limit', publicKey, '50/60');
    expect(limited.status, limited.stderr).toBe(0);
    const headers = { authorization: `Bearer ${trapline.defaults.token}` };
    // The default token is another organization's: read acme's objects through a token of its own.
    const created = cli('tokens', 'create', 'acme');
    const acme = { authorization: `Bearer ${created.stdout.trim()}` };
    const projects = (await (await fetch(`${trapline.publicUrl}/api/0/teams/acme/backend/projects/`, { headers: acme })).json()) as { slug: string; teams: { slug: string }[] }[];
    expect(projects).toMatchObject([{ slug: 'billing', teams: [{ slug: 'backend' }] }]);
    const keys = (await (await fetch(`${trapline.publicUrl}/api/0/projects/acme/web/keys/`, { headers: acme })).json()) as { id: string; rateLimit: unknown }[];
    expect(keys.find((key) => key.id === publicKey)?.rateLimit).toEqual({ count: 50, window: 60 });
    expect((await fetch(`${trapline.publicUrl}/api/0/teams/acme/backend/`, { headers })).status).toBe(404);
  });

  it.each([
    [['teams', 'create', 'acme', 'backend'], /already exists/],
    [['teams', 'create', 'nobody', 'ops'], /no organization nobody/],
    [['projects', 'create', 'acme', 'api', '--team', 'nobody'], /no team acme\/nobody/],
    [['projects', 'retention', '2', '0'], /invalid retention/],
    [['keys', 'rate-limit', 'ffff', '10/0'], /invalid rateLimit.window|no key ffff/],
    [['keys', 'rate-limit', 'ffff', 'lots'], /invalid rate limit/],
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
