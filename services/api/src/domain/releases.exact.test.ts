import type { DeployRow, ProjectRow, ReleaseRow, RepositoryRow } from '@trapline/runtime';
import { describe, expect, it } from 'vitest';
import { commitsOfRefs, nextRelease, releaseId, serializeCommits, serializeDeploy, serializeRelease, serializeRepository, shortVersion, statusDetailsOf, versionProblem } from './releases.ts';

// Releases as sentry-cli and the SDKs name them, with plain rows: the version rule, the short
// version the UI shows, what a create or update makes of a release, and Sentry's shapes.

const at = (iso: string) => new Date(iso);

describe('release versions', () => {
  it.each([
    ['', 'release version must be 1 to 200 characters'],
    ['v'.repeat(201), 'release version must be 1 to 200 characters'],
    ['web@1.0\n', 'release version must not contain line breaks, tabs or slashes'],
    ['web@1.0\r', 'release version must not contain line breaks, tabs or slashes'],
    ['web\t1.0', 'release version must not contain line breaks, tabs or slashes'],
    ['web\f1.0', 'release version must not contain line breaks, tabs or slashes'],
    ['web\u00001.0', 'release version must not contain line breaks, tabs or slashes'],
    ['web/1.0', 'release version must not contain line breaks, tabs or slashes'],
    ['web\\1.0', 'release version must not contain line breaks, tabs or slashes'],
    ['.', 'release version must not be "."'],
    ['..', 'release version must not be ".."'],
    ['latest', 'release version must not be "latest"'],
    ['LATEST', 'release version must not be "LATEST"'],
  ])('refuses %j: %s', (version, problem) => {
    expect(versionProblem(version)).toBe(problem);
  });

  it.each([['v'], ['v'.repeat(200)], ['web@1.2.3+build.4'], ['...'], ['latest-1'], ['1 0']])('accepts %j', (version) => {
    expect(versionProblem(version)).toBeUndefined();
  });

  it.each([
    ['web@1.2.3+build', '1.2.3+build'],
    ['1.2.3', '1.2.3'],
    ['@scope/pkg@2.0.0', 'scope/pkg@2.0.0'],
    ['a'.repeat(40), 'a'.repeat(12)],
    [`web@${'ABCDEF0123'.repeat(4)}`, 'ABCDEF0123AB'],
    ['a'.repeat(39), 'a'.repeat(39)],
    ['a'.repeat(41), 'a'.repeat(41)],
    [`x${'a'.repeat(40)}`, `x${'a'.repeat(40)}`],
  ])('shows %s as %s', (version, short) => {
    expect(shortVersion(version)).toBe(short);
  });

  it('gives a release the same numeric id on every replay, a different one per organization and version', () => {
    expect(releaseId('acme', 'web@1.0')).toBe(releaseId('acme', 'web@1.0'));
    expect(Number.isSafeInteger(releaseId('acme', 'web@1.0'))).toBe(true);
    expect(releaseId('acme', 'web@1.0')).toBeLessThan(2 ** 52);
    expect(new Set([releaseId('acme', 'web@1.0'), releaseId('acme', 'web@1.1'), releaseId('other', 'web@1.0'), releaseId('acme\nweb', '@1.0')]).size).toBe(4);
  });
});

const existing: ReleaseRow = {
  version: 'web@1.0',
  declared_project_ids: [9, 3],
  seen_project_ids: [5, 3],
  ref: 'main',
  url: 'https://ci.example.com/1',
  date_created: at('2026-01-01T00:00:00.000Z'),
  date_started: at('2026-01-01T01:00:00.000Z'),
  date_released: null,
  commits: [{ id: 'abc', repository: 'acme/web', message: 'fix', authorName: 'Ada', authorEmail: 'ada@example.com', timestamp: Date.parse('2025-12-31T00:00:00.000Z') }],
  declared: true,
  first_event: at('2026-01-02T00:00:00.000Z'),
  last_event: at('2026-01-03T00:00:00.000Z'),
  new_groups: 4,
  deploy_count: 2,
};

describe('a create or update', () => {
  const NOW = Date.parse('2026-02-01T00:00:00.000Z');

  it('creates a release with what it was given, nulls for the rest', () => {
    expect(nextRelease('acme', 'web@2.0', undefined, { projectIds: [7, 2, 7] }, 'token:1', NOW)).toEqual({
      organizationSlug: 'acme',
      version: 'web@2.0',
      projectIds: [2, 7],
      ref: null,
      url: null,
      dateCreated: NOW,
      dateStarted: null,
      dateReleased: null,
      commits: [],
      deleted: false,
      actor: 'token:1',
      changedAt: NOW,
    });
  });

  it('keeps what an update leaves out, accumulates projects, and replaces what it gives (null too)', () => {
    const commits = commitsOfRefs([{ repository: 'acme/web', commit: 'def' }], NOW);
    expect(nextRelease('acme', 'web@1.0', existing, { projectIds: [11], url: null, dateReleased: NOW, commits }, 'user:2', NOW)).toEqual({
      organizationSlug: 'acme',
      version: 'web@1.0',
      projectIds: [3, 5, 9, 11],
      ref: 'main',
      url: null,
      dateCreated: Date.parse('2026-01-01T00:00:00.000Z'),
      dateStarted: Date.parse('2026-01-01T01:00:00.000Z'),
      dateReleased: NOW,
      commits: [{ id: 'def', repository: 'acme/web', message: null, authorName: null, authorEmail: null, timestamp: NOW }],
      deleted: false,
      actor: 'user:2',
      changedAt: NOW,
    });
    expect(nextRelease('acme', 'web@1.0', existing, {}, 'user:2', NOW)).toMatchObject({ projectIds: [3, 5, 9], ref: 'main', url: 'https://ci.example.com/1', dateReleased: null, commits: existing.commits });
    expect(nextRelease('acme', 'web@1.0', { ...existing, date_started: null }, { ref: null, dateStarted: 5 }, 'a', NOW)).toMatchObject({ ref: null, dateStarted: 5 });
    expect(nextRelease('acme', 'web@1.0', { ...existing, date_released: at('2026-01-05T00:00:00.000Z') }, {}, 'a', NOW).dateReleased).toBe(Date.parse('2026-01-05T00:00:00.000Z'));
    expect(nextRelease('acme', 'web@1.0', { ...existing, declared_project_ids: [100], seen_project_ids: [20] }, {}, 'a', NOW).projectIds).toEqual([20, 100]);
  });
});

describe('Sentry’s shapes', () => {
  const project = (id: number, platform: string | null): ProjectRow => ({
    id,
    organization_slug: 'acme',
    slug: `p${id}`,
    name: `P ${id}`,
    platform,
    created_at: at('2026-01-01T00:00:00.000Z'),
    retention_days: null,
    allowed_origins: null,
    organization_name: 'Acme',
    organization_created_at: at('2026-01-01T00:00:00.000Z'),
    teams: [],
    first_event: null,
  });
  const deploy: DeployRow = { deploy_id: 'd1', environment: 'production', name: 'deploy 1', url: null, date_started: null, date_finished: at('2026-01-04T00:00:00.000Z'), project_ids: [3] };

  it('gives a release its projects, counts, last commit and last deploy', () => {
    const answer = serializeRelease('acme', existing, [project(3, 'node'), project(5, null), project(6, 'python')], deploy);
    expect(answer).toEqual({
      id: releaseId('acme', 'web@1.0'),
      version: 'web@1.0',
      shortVersion: '1.0',
      status: 'open',
      ref: 'main',
      url: 'https://ci.example.com/1',
      dateCreated: '2026-01-01T00:00:00.000Z',
      dateReleased: null,
      dateStarted: '2026-01-01T01:00:00.000Z',
      data: {},
      owner: null,
      userAgent: null,
      newGroups: 4,
      commitCount: 1,
      lastCommit: {
        id: 'abc',
        message: 'fix',
        dateCreated: '2025-12-31T00:00:00.000Z',
        pullRequest: null,
        suspectCommitType: '',
        // Named only by commits: Sentry's repository with no URL, dated from the release.
        repository: { id: String(releaseId('acme', 'repository:acme/web')), name: 'acme/web', url: null, provider: { id: 'unknown', name: 'Unknown Provider' }, status: 'active', dateCreated: '2026-01-01T00:00:00.000Z', integrationId: null, externalSlug: null },
        author: { name: 'Ada', email: 'ada@example.com' },
        releases: [{ version: 'web@1.0', shortVersion: '1.0', ref: 'main', url: 'https://ci.example.com/1', dateReleased: null, dateCreated: '2026-01-01T00:00:00.000Z' }],
      },
      authors: [],
      deployCount: 2,
      lastDeploy: { id: 'd1', environment: 'production', name: 'deploy 1', url: null, dateStarted: null, dateFinished: '2026-01-04T00:00:00.000Z' },
      firstEvent: '2026-01-02T00:00:00.000Z',
      lastEvent: '2026-01-03T00:00:00.000Z',
      currentProjectMeta: {},
      versionInfo: { package: 'web', version: { raw: '1.0' }, description: '1.0', buildHash: null },
      projects: [
        { id: 3, slug: 'p3', name: 'P 3', newGroups: 0, platform: 'node', platforms: ['node'], hasHealthData: false },
        { id: 5, slug: 'p5', name: 'P 5', newGroups: 0, platform: null, platforms: [], hasHealthData: false },
      ],
    });
  });

  it('gives a release without commits, deploys, package or events nulls', () => {
    const bare: ReleaseRow = { ...existing, version: '2.0', commits: [], first_event: null, last_event: null, declared_project_ids: [], seen_project_ids: [6] };
    expect(serializeRelease('acme', bare, [project(6, 'python')])).toMatchObject({
      commitCount: 0,
      lastCommit: null,
      lastDeploy: null,
      firstEvent: null,
      lastEvent: null,
      versionInfo: { package: null, version: { raw: '2.0' }, description: '2.0', buildHash: null },
      projects: [{ id: 6 }],
    });
  });

  it('gives a commit without author or repository Sentry\'s empty shapes, and one without a time its release\'s date', () => {
    const release: ReleaseRow = { ...existing, commits: [{ id: 'x', repository: null, message: null, authorName: null, authorEmail: null, timestamp: null }, { id: 'y', repository: 'r', message: 'm', authorName: null, authorEmail: 'e@x', timestamp: 0 }] };
    const known: RepositoryRow = { name: 'R', url: 'https://git.example.com/r', created_at: at('2025-06-01T00:00:00.000Z') };
    const [x, y] = serializeCommits('acme', release, [known]);
    expect(x).toEqual({ id: 'x', message: null, dateCreated: '2026-01-01T00:00:00.000Z', pullRequest: null, suspectCommitType: '', author: {}, releases: x!.releases });
    expect(y).toMatchObject({ id: 'y', message: 'm', dateCreated: '1970-01-01T00:00:00.000Z', author: { name: null, email: 'e@x' } });
    // The organization's repository of that name, whatever its case.
    expect(y!.repository).toEqual(serializeRepository('acme', known));
    expect(serializeCommits('acme', { ...release, commits: [{ ...release.commits[0]!, authorName: 'Ann' }] }, [])[0]!.author).toEqual({ name: 'Ann', email: '' });
  });

  it('gives a deploy and a repository Sentry’s fields', () => {
    expect(serializeDeploy({ ...deploy, url: 'https://x/', date_started: at('2026-01-03T00:00:00.000Z') })).toEqual({ id: 'd1', environment: 'production', name: 'deploy 1', url: 'https://x/', dateStarted: '2026-01-03T00:00:00.000Z', dateFinished: '2026-01-04T00:00:00.000Z' });
    const repository: RepositoryRow = { name: 'acme/web', url: 'https://git.example.com/acme/web', created_at: at('2026-01-01T00:00:00.000Z') };
    expect(serializeRepository('acme', repository)).toEqual({
      id: String(releaseId('acme', 'repository:acme/web')),
      name: 'acme/web',
      url: 'https://git.example.com/acme/web',
      provider: { id: 'unknown', name: 'Unknown Provider' },
      status: 'active',
      dateCreated: '2026-01-01T00:00:00.000Z',
      integrationId: null,
      externalSlug: null,
    });
  });

  it.each([
    [{ status: 'unresolved', resolved_in_release: '1.0' }, {}],
    [{ status: 'resolved' }, {}],
    [{ status: 'resolved', resolved_in_release: '1.0' }, { inRelease: '1.0' }],
    [{ status: 'resolved', resolved_in_next_release: '1.0', resolved_in_release: '0.9' }, { inNextRelease: true }],
    [{ status: 'resolved', resolved_in_release: null, resolved_in_next_release: null }, {}],
  ])('gives an issue %j the statusDetails %j', (group, details) => {
    expect(statusDetailsOf(group)).toEqual(details);
  });
});
