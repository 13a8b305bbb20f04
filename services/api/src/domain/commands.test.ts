import { describe, expect, it } from 'vitest';
import type { ProjectKeyUpserted, ProjectUpserted } from '@trapline/schemas';
import { createKey, createOrganization, createProject, createTeam, setAllowedOrigins, setRetention, slugify, teamId, updateKey, updateProject } from './commands.ts';

// Given the state the caller found, when a command comes, then these records (or this refusal).

const NOW = 1_700_000_000_000;
const project: ProjectUpserted = { projectId: 7, organizationSlug: 'acme', slug: 'web', name: 'Web', platform: 'node', createdAt: 1 };
const key: ProjectKeyUpserted = { publicKey: 'a'.repeat(32), secretKey: 'b'.repeat(32), projectId: 7, label: 'Default', active: true, createdAt: 1, rateLimit: null };
const names = (decision: { ok: boolean; records?: { key: string; name: string }[] }) => decision.records?.map((record) => `${record.name} ${record.key}`);

describe('teams', () => {
  it('given an organization without the team, when it is created by name, then one TeamUpserted with a slug from the name and an id from both', () => {
    const decision = createTeam({ organizationSlug: 'acme', name: 'Back End!', actor: 'token:1' }, { organizationExists: true, teamSlugs: ['web'] }, NOW);
    expect(decision).toMatchObject({ ok: true, value: { slug: 'back-end', name: 'Back End!', teamId: teamId('acme', 'back-end'), createdAt: NOW } });
    expect(names(decision)).toEqual([`TeamUpserted team/${teamId('acme', 'back-end')}`]);
  });

  it.each([
    [{ slug: 'web' }, { organizationExists: true, teamSlugs: ['web'] }, /already exists/, true],
    [{ slug: 'Bad Slug' }, { organizationExists: true, teamSlugs: [] }, /invalid team slug/, undefined],
    [{}, { organizationExists: true, teamSlugs: [] }, /slug or a name/, undefined],
    [{ slug: 'ops' }, { organizationExists: false, teamSlugs: [] }, /no organization/, undefined],
  ])('given %j and state %j, refuses: %s', (command, state, detail, conflict) => {
    const decision = createTeam({ organizationSlug: 'acme', actor: 'a', ...command }, state, NOW);
    expect(decision.ok).toBe(false);
    expect(!decision.ok && decision.detail).toMatch(detail);
    expect(!decision.ok && decision.conflict).toBe(conflict);
  });

  it('gives the same id to the same organization and slug, another to another', () => {
    expect(teamId('acme', 'ops')).toBe(teamId('acme', 'ops'));
    expect(teamId('acme', 'ops')).not.toBe(teamId('other', 'ops'));
    expect(Number.isSafeInteger(teamId('acme', 'ops'))).toBe(true);
  });

  it.each([['Back End', 'back-end'], ['  Ops  ', 'ops'], ['a_b-c', 'a_b-c'], ['Ünïcode', 'n-code']])('slugifies %j as %j', (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });
});

describe('projects', () => {
  const state = { organizationExists: true, projectSlugs: ['web'], nextProjectId: 8 };

  it('given a team, when a project is created in it, then the project with the next id and its teams', () => {
    const decision = createProject({ organizationSlug: 'acme', name: 'Billing API', teamId: 42, actor: 'token:1' }, state, NOW);
    expect(decision).toMatchObject({ ok: true, value: { projectId: 8, slug: 'billing-api', name: 'Billing API', platform: null } });
    expect(names(decision)).toEqual(['ProjectUpserted project/8', 'ProjectTeamsChanged project/8/teams']);
    expect(decision.ok && decision.records[1]!.value).toMatchObject({ projectId: 8, teamIds: [42] });
  });

  it("given a default rule id, when a project is created, then Sentry's default rule comes with it", () => {
    const decision = createProject({ organizationSlug: 'acme', slug: 'api', actor: 'a' }, { ...state, defaultRuleId: '1234567890' }, NOW);
    expect(names(decision)).toEqual(['ProjectUpserted project/8', 'AlertRuleUpserted project/8/rule/1234567890']);
    expect(decision.ok && decision.records[1]!.value).toMatchObject({ projectId: 8, ruleId: '1234567890', name: 'Send a notification for new issues' });
  });

  it.each([
    [{ slug: 'web' }, state, /already exists/],
    [{ slug: 'api', id: 3 }, { ...state, idTaken: true }, /taken/],
    [{ slug: 'api', platform: 'Not A Platform' }, state, /invalid platform/],
    [{ slug: 'api', id: -1 }, state, /invalid project id/],
  ])('refuses %j', (command, given, detail) => {
    const decision = createProject({ organizationSlug: 'acme', actor: 'a', ...command }, given, NOW);
    expect(!decision.ok && decision.detail).toMatch(detail);
  });

  it('updates name, platform, retention and allowed domains in one decision, and refuses the whole on one bad part', () => {
    const decision = updateProject(project, { name: 'Storefront', retentionDays: 30, allowedDomains: ['https://Shop.Example'] }, 'token:1', NOW);
    expect(names(decision)).toEqual(['ProjectUpserted project/7', 'ProjectRetentionChanged project/7/retention', 'ProjectAllowedOriginsChanged project/7/origins']);
    expect(decision).toMatchObject({ ok: true, value: { project: { name: 'Storefront', platform: 'node' }, retentionDays: 30, allowedOrigins: ['https://shop.example'] } });
    expect(updateProject(project, { name: 'Storefront', retentionDays: 0 }, 'a', NOW)).toMatchObject({ ok: false, detail: expect.stringMatching(/invalid retention/) });
    expect(updateProject(project, {}, 'a', NOW)).toMatchObject({ ok: false });
  });

  it.each([[null, true], [0.5, true], [36500, true], [0, false], [-1, false], [36501, false], [Number.NaN, false]])('retention %s is accepted: %s', (days, accepted) => {
    expect(setRetention(7, days, 'cli', NOW).ok).toBe(accepted);
  });

  it('normalizes allowed origins, and refuses a path', () => {
    expect(setAllowedOrigins(7, null, 'cli', NOW)).toMatchObject({ ok: true, value: null });
    expect(setAllowedOrigins(7, ['https://x.test/path'], 'cli', NOW)).toMatchObject({ ok: false, detail: expect.stringMatching(/^invalid allowed origins/) });
  });
});

describe('organizations and keys', () => {
  it('creates an organization, refusing a bad slug', () => {
    expect(names(createOrganization({ slug: 'acme' }, NOW))).toEqual(['OrganizationUpserted organization/acme']);
    expect(createOrganization({ slug: '-acme' }, NOW).ok).toBe(false);
  });

  it('given a project, creates a key with a rate limit; without the project, refuses', () => {
    const decision = createKey({ projectId: 7, label: 'ci', rateLimit: { count: 100, window: 60 } }, { projectExists: true }, NOW);
    expect(decision).toMatchObject({ ok: true, value: { projectId: 7, label: 'ci', active: true, rateLimit: { count: 100, window: 60 } } });
    expect(createKey({ projectId: 7 }, { projectExists: false }, NOW)).toMatchObject({ ok: false, detail: 'no project 7' });
  });

  it('given a key, revokes it, sets and clears its rate limit, keeping the rest', () => {
    expect(updateKey(key, { active: false })).toMatchObject({ ok: true, value: { ...key, active: false } });
    const limited = updateKey(key, { rateLimit: { count: 5, window: 3600 } });
    expect(limited).toMatchObject({ ok: true, value: { label: 'Default', rateLimit: { count: 5, window: 3600 } } });
    expect(limited.ok && updateKey(limited.value, { label: 'renamed' })).toMatchObject({ ok: true, value: { label: 'renamed', rateLimit: { count: 5, window: 3600 } } });
    expect(limited.ok && updateKey(limited.value, { rateLimit: null })).toMatchObject({ ok: true, value: { rateLimit: null } });
  });

  it.each([[{ count: 0, window: 60 }], [{ count: 10, window: 0 }], [{ count: 10, window: 86401 }], [{ count: 1.5, window: 60 }]])('refuses the rate limit %j', (rateLimit) => {
    expect(updateKey(key, { rateLimit }).ok).toBe(false);
  });
});
