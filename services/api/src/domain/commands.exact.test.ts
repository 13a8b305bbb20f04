import { describe, expect, it } from 'vitest';
import { DEFAULT_RULE, ruleRecord, type ProjectKeyUpserted, type ProjectUpserted } from '@trapline/schemas';
import { createKey, createOrganization, createProject, createTeam, projectTeamsRecord, setAllowedOrigins, setRetention, slugify, teamId, updateKey, updateProject } from './commands.ts';

// The admin commands with plain inputs: given the state the caller found, when the command comes,
// then exactly these records (key, name, value) and this answer, or exactly this refusal.

const NOW = 1_700_000_000_000;
const project: ProjectUpserted = { projectId: 7, organizationSlug: 'acme', slug: 'web', name: 'Web', platform: 'node', createdAt: 1 };
const key: ProjectKeyUpserted = { publicKey: 'a'.repeat(32), secretKey: 'b'.repeat(32), projectId: 7, label: 'Default', active: true, createdAt: 1, rateLimit: null };
const orgState = { organizationExists: true, projectSlugs: ['web'], nextProjectId: 8 };
const teamState = { organizationExists: true, teamSlugs: ['web'] };

const NAME_RULE = 'invalid name: 1 to 200 characters, no NUL';
const slugRule = (what: string, slug: string) => `invalid ${what} slug ${JSON.stringify(slug)}: lowercase letters, digits, - and _, at most 50, starting with a letter or digit`;

describe('slugs from names', () => {
  it.each<[string, string]>([
    ['Back  End', 'back-end'],
    ['__ops', 'ops'],
    ['--ops', 'ops'],
    ['Ops--', 'ops'],
    ['ops_', 'ops_'],
    ['x'.repeat(60), 'x'.repeat(50)],
    ['Web!!', 'web'],
  ])('given the name %j, then the slug %j', (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });
});

describe('organizations', () => {
  it('given a slug only, then one OrganizationUpserted named by its slug', () => {
    expect(createOrganization({ slug: 'acme' }, NOW)).toEqual({
      ok: true,
      records: [{ key: 'organization/acme', name: 'OrganizationUpserted', value: { slug: 'acme', name: 'acme', createdAt: NOW } }],
      value: { slug: 'acme', name: 'acme' },
    });
    expect(createOrganization({ slug: 'acme', name: 'Acme Inc.' }, NOW)).toMatchObject({ ok: true, value: { slug: 'acme', name: 'Acme Inc.' } });
  });

  it.each<[string, { slug: string; name?: string }, string]>([
    ['a slug starting with -', { slug: '-acme' }, slugRule('organization', '-acme')],
    ['a name of spaces', { slug: 'acme', name: '   ' }, NAME_RULE],
  ])('given %s, then refused', (_, command, detail) => {
    expect(createOrganization(command, NOW)).toEqual({ ok: false, detail });
  });
});

describe('teams', () => {
  it('given a slug only, then the team is named by its slug', () => {
    const id = teamId('acme', 'ops');
    expect(createTeam({ organizationSlug: 'acme', slug: 'ops', actor: 'user:7' }, teamState, NOW)).toEqual({
      ok: true,
      records: [{ key: `team/${id}`, name: 'TeamUpserted', value: { teamId: id, organizationSlug: 'acme', slug: 'ops', name: 'ops', actor: 'user:7', createdAt: NOW } }],
      value: { teamId: id, organizationSlug: 'acme', slug: 'ops', name: 'ops', actor: 'user:7', createdAt: NOW },
    });
  });

  it.each<[string, { slug?: string; name?: string }, typeof teamState, { ok: false; detail: string; conflict?: true }]>([
    ['no organization', { slug: 'ops' }, { ...teamState, organizationExists: false }, { ok: false, detail: 'no organization acme' }],
    ['neither slug nor name', {}, teamState, { ok: false, detail: 'give a slug or a name' }],
    ['a taken slug', { slug: 'web' }, teamState, { ok: false, detail: 'A team with this slug already exists.', conflict: true }],
    ['a name whose slug is taken', { name: 'Web' }, teamState, { ok: false, detail: 'A team with this slug already exists.', conflict: true }],
    ['a bad slug', { slug: 'Ops' }, teamState, { ok: false, detail: slugRule('team', 'Ops') }],
    ['a name with NUL', { slug: 'ops', name: 'o\u0000ps' }, teamState, { ok: false, detail: NAME_RULE }],
  ])('given %s, then refused', (_, command, state, refusal) => {
    expect(createTeam({ organizationSlug: 'acme', actor: 'a', ...command }, state, NOW)).toEqual(refusal);
  });
});

describe('projects', () => {
  it('given a slug, a platform and an id, when created without a team or default rule, then only its ProjectUpserted', () => {
    const value = { projectId: 12, organizationSlug: 'acme', slug: 'api', name: 'api', platform: 'javascript-react', createdAt: NOW };
    expect(createProject({ organizationSlug: 'acme', slug: 'api', platform: 'javascript-react', id: 12, actor: 'a' }, orgState, NOW)).toEqual({
      ok: true,
      records: [{ key: 'project/12', name: 'ProjectUpserted', value }],
      value,
    });
  });

  it("given a team and a default rule id, then the project, its teams and Sentry's default rule, written by trapline", () => {
    const value = { projectId: 8, organizationSlug: 'acme', slug: 'billing', name: 'Billing', platform: null, createdAt: NOW };
    expect(createProject({ organizationSlug: 'acme', name: 'Billing', teamId: 42, actor: 'token:1' }, { ...orgState, defaultRuleId: '99' }, NOW)).toEqual({
      ok: true,
      records: [
        { key: 'project/8', name: 'ProjectUpserted', value },
        { key: 'project/8/teams', name: 'ProjectTeamsChanged', value: { projectId: 8, teamIds: [42], actor: 'token:1', changedAt: NOW } },
        { key: 'project/8/rule/99', name: 'AlertRuleUpserted', value: ruleRecord(DEFAULT_RULE, { projectId: 8, ruleId: '99', actor: 'trapline', createdAt: NOW, changedAt: NOW }) },
      ],
      value,
    });
  });

  it.each<[string, string | null]>([['', ''], ['go', 'go'], ['x'.repeat(64), 'x'.repeat(64)], ['python.django', 'python.django']])('given the platform %j, then accepted as %j', (platform, stored) => {
    expect(createProject({ organizationSlug: 'acme', slug: 'api', platform, actor: 'a' }, orgState, NOW)).toMatchObject({ ok: true, value: { platform: stored } });
  });

  it.each<[string, Record<string, unknown>, Partial<typeof orgState> & { idTaken?: boolean }, { ok: false; detail: string; conflict?: true }]>([
    ['no organization', { slug: 'api' }, { organizationExists: false }, { ok: false, detail: 'no organization acme' }],
    ['neither slug nor name', {}, {}, { ok: false, detail: 'give a slug or a name' }],
    ['a bad slug', { slug: 'api!' }, {}, { ok: false, detail: slugRule('project', 'api!') }],
    ['a slug of 51 characters', { slug: 'a'.repeat(51) }, {}, { ok: false, detail: slugRule('project', 'a'.repeat(51)) }],
    ['a name of 201 characters', { slug: 'api', name: 'n'.repeat(201) }, {}, { ok: false, detail: NAME_RULE }],
    ['a platform with a capital', { slug: 'api', platform: 'Node' }, {}, { ok: false, detail: 'invalid platform "Node"' }],
    ['a platform ending in a space', { slug: 'api', platform: 'node ' }, {}, { ok: false, detail: 'invalid platform "node "' }],
    ['a platform of 65 characters', { slug: 'api', platform: 'x'.repeat(65) }, {}, { ok: false, detail: `invalid platform "${'x'.repeat(65)}"` }],
    ['id 0', { slug: 'api', id: 0 }, {}, { ok: false, detail: 'invalid project id 0' }],
    ['id 1.5', { slug: 'api', id: 1.5 }, {}, { ok: false, detail: 'invalid project id 1.5' }],
    ['a taken slug', { slug: 'web' }, {}, { ok: false, detail: 'A project with this slug already exists: acme/web', conflict: true }],
    ['a taken id', { slug: 'api', id: 3 }, { idTaken: true }, { ok: false, detail: 'project id 3 is taken', conflict: true }],
  ])('given %s, then refused', (_, command, state, refusal) => {
    expect(createProject({ organizationSlug: 'acme', actor: 'a', ...command }, { ...orgState, ...state }, NOW)).toEqual(refusal);
  });

  it('accepts a slug of 50 characters and a name of 200', () => {
    expect(createProject({ organizationSlug: 'acme', slug: 'a'.repeat(50), name: 'n'.repeat(200), actor: 'a' }, orgState, NOW).ok).toBe(true);
  });

  it('given teams out of order and repeated, then the teams record holds each once, in numeric order', () => {
    expect(projectTeamsRecord(7, [10, 9, 10, 100], 'user:7', NOW)).toEqual({ key: 'project/7/teams', name: 'ProjectTeamsChanged', value: { projectId: 7, teamIds: [9, 10, 100], actor: 'user:7', changedAt: NOW } });
  });
});

describe('retention and allowed origins', () => {
  it('given days, then one ProjectRetentionChanged; given null, the default', () => {
    expect(setRetention(7, 0.5, 'cli', NOW)).toEqual({ ok: true, records: [{ key: 'project/7/retention', name: 'ProjectRetentionChanged', value: { projectId: 7, retentionDays: 0.5, actor: 'cli', changedAt: NOW } }], value: 0.5 });
    expect(setRetention(7, null, 'cli', NOW)).toMatchObject({ ok: true, value: null, records: [{ value: { retentionDays: null } }] });
    expect(setRetention(7, Number.POSITIVE_INFINITY, 'cli', NOW)).toEqual({ ok: false, detail: 'invalid retention Infinity: a number of days above 0 and at most 36500 (fractions allowed), or the default' });
  });

  it('given origins, then one ProjectAllowedOriginsChanged with them normalized; given null, the default', () => {
    expect(setAllowedOrigins(7, ['https://Shop.Example'], 'cli', NOW)).toEqual({
      ok: true,
      records: [{ key: 'project/7/origins', name: 'ProjectAllowedOriginsChanged', value: { projectId: 7, allowedOrigins: ['https://shop.example'], actor: 'cli', changedAt: NOW } }],
      value: ['https://shop.example'],
    });
    expect(setAllowedOrigins(7, null, 'cli', NOW)).toEqual({ ok: true, records: [{ key: 'project/7/origins', name: 'ProjectAllowedOriginsChanged', value: { projectId: 7, allowedOrigins: null, actor: 'cli', changedAt: NOW } }], value: null });
  });
});

describe('project settings', () => {
  it('given only a new name, then only the ProjectUpserted, the platform kept', () => {
    const renamed = { ...project, name: 'Storefront' };
    expect(updateProject(project, { name: 'Storefront' }, 'a', NOW)).toEqual({ ok: true, records: [{ key: 'project/7', name: 'ProjectUpserted', value: renamed }], value: { project: renamed } });
  });

  it('given only a cleared platform, then the project without one, its name kept', () => {
    const cleared = { ...project, platform: null };
    expect(updateProject(project, { platform: null }, 'a', NOW)).toEqual({ ok: true, records: [{ key: 'project/7', name: 'ProjectUpserted', value: cleared }], value: { project: cleared } });
    expect(updateProject(project, { platform: 'python' }, 'a', NOW)).toMatchObject({ ok: true, value: { project: { name: 'Web', platform: 'python' } } });
  });

  it('given only a retention, then only the retention record, the project unchanged', () => {
    expect(updateProject(project, { retentionDays: 30 }, 'a', NOW)).toEqual({
      ok: true,
      records: [{ key: 'project/7/retention', name: 'ProjectRetentionChanged', value: { projectId: 7, retentionDays: 30, actor: 'a', changedAt: NOW } }],
      value: { project, retentionDays: 30 },
    });
  });

  it('given only allowed domains, then only the origins record', () => {
    expect(updateProject(project, { allowedDomains: null }, 'a', NOW)).toEqual({
      ok: true,
      records: [{ key: 'project/7/origins', name: 'ProjectAllowedOriginsChanged', value: { projectId: 7, allowedOrigins: null, actor: 'a', changedAt: NOW } }],
      value: { project, allowedOrigins: null },
    });
  });

  it.each<[string, Parameters<typeof updateProject>[1], string]>([
    ['nothing', {}, 'give name, platform, allowedDomains or retentionDays'],
    ['every field undefined', { name: undefined, platform: undefined, allowedDomains: undefined, retentionDays: undefined }, 'give name, platform, allowedDomains or retentionDays'],
    ['an empty name', { name: '' }, NAME_RULE],
    ['a bad platform', { platform: 'No Way' }, 'invalid platform "No Way"'],
    ['a platform with a slash before it', { platform: '/node' }, 'invalid platform "/node"'],
    ['a platform with a slash after it', { platform: 'node/' }, 'invalid platform "node/"'],
    ['a bad name with good domains', { name: 'x'.repeat(201), allowedDomains: ['*'] }, NAME_RULE],
    ['a path in a domain', { allowedDomains: ['https://x.test/path'] }, expect.stringMatching(/^invalid allowed origins: /) as unknown as string],
  ])('given %s, then refused', (_, change, detail) => {
    expect(updateProject(project, change, 'a', NOW)).toEqual({ ok: false, detail });
  });
});

describe('keys', () => {
  it("given a project and no label, then a key labelled Default, active, without a rate limit", () => {
    const decision = createKey({ projectId: 7 }, { projectExists: true }, NOW);
    expect(decision.ok).toBe(true);
    if (!decision.ok) return;
    expect(decision.value).toEqual({ publicKey: expect.stringMatching(/^[0-9a-f]{32}$/), secretKey: expect.stringMatching(/^[0-9a-f]{32}$/), projectId: 7, label: 'Default', active: true, createdAt: NOW, rateLimit: null });
    expect(decision.records).toEqual([{ key: `key/${decision.value.publicKey}`, name: 'ProjectKeyUpserted', value: decision.value }]);
  });

  it.each<[string, Parameters<typeof createKey>[0], string]>([
    ['an empty label', { projectId: 7, label: '' }, NAME_RULE],
    ['a count of 0', { projectId: 7, rateLimit: { count: 0, window: 60 } }, 'invalid rateLimit.count 0: a whole number of events above 0'],
    ['a window over a day', { projectId: 7, label: 'ci', rateLimit: { count: 1, window: 86401 } }, 'invalid rateLimit.window 86401: whole seconds above 0, at most 86400'],
  ])('given %s, then refused', (_, command, detail) => {
    expect(createKey(command, { projectExists: true }, NOW)).toEqual({ ok: false, detail });
  });

  it('accepts a window of exactly a day', () => {
    expect(createKey({ projectId: 7, rateLimit: { count: 1, window: 86400 } }, { projectExists: true }, NOW)).toMatchObject({ ok: true, value: { rateLimit: { count: 1, window: 86400 } } });
  });

  it('given a key, when nothing is named, then the same key restated; when revoked, the same key inactive', () => {
    expect(updateKey(key, {})).toEqual({ ok: true, records: [{ key: `key/${key.publicKey}`, name: 'ProjectKeyUpserted', value: key }], value: key });
    expect(updateKey({ ...key, active: false }, { label: 'ci' })).toMatchObject({ ok: true, value: { label: 'ci', active: false } });
    const { rateLimit: _, ...old } = key;
    expect(updateKey(old, { active: false })).toEqual({ ok: true, records: [{ key: `key/${key.publicKey}`, name: 'ProjectKeyUpserted', value: { ...key, active: false } }], value: { ...key, active: false } });
  });

  it.each<[string, Parameters<typeof updateKey>[1], string]>([
    ['an empty label', { label: '' }, NAME_RULE],
    ['a label of 201 characters', { label: 'l'.repeat(201) }, NAME_RULE],
    ['a fractional window', { rateLimit: { count: 1, window: 1.5 } }, 'invalid rateLimit.window 1.5: whole seconds above 0, at most 86400'],
  ])('given %s, then the update is refused', (_, change, detail) => {
    expect(updateKey(key, change)).toEqual({ ok: false, detail });
  });
});
