import type { ReleaseRow } from '@trapline/runtime';
import { describe, expect, it } from 'vitest';
import { commitsOfRefs, releaseId, serializeCommits, serializeRelease } from './releases.ts';

const release: ReleaseRow = {
  version: 'web@1.2.3', declared_project_ids: [1], seen_project_ids: [], ref: null, url: null, date_created: new Date(10_000), date_started: null, date_released: null,
  commits: [
    { id: 'a1', repository: 'Acme/Web', message: 'Fix', authorName: 'Ada', authorEmail: 'ada@example.com', timestamp: 20_000 },
    { id: 'b2', repository: 'scripts', message: null, authorName: 'Bob', authorEmail: null, timestamp: null },
    { id: 'c3', repository: null, message: null, authorName: null, authorEmail: null, timestamp: null },
  ],
  declared: true, first_event: null, last_event: null, new_groups: 0, deploy_count: 0,
};
const repositories = [{ name: 'acme/web', url: 'https://git.example.com/acme/web', created_at: new Date(5_000) }];

describe("releases in Sentry's shapes", () => {
  it('gives a release an integer id, the same for the same organization and version', () => {
    expect(Number.isSafeInteger(releaseId('acme', 'web@1.2.3'))).toBe(true);
    expect(releaseId('acme', 'web@1.2.3')).toBe(releaseId('acme', 'web@1.2.3'));
    expect(releaseId('acme', 'web@1.2.3')).not.toBe(releaseId('other', 'web@1.2.3'));
    expect(serializeRelease('acme', release, []).id).toBe(releaseId('acme', 'web@1.2.3'));
  });

  it("gives a commit the organization's repository of its name, the release it is in, and its time", () => {
    const [known] = serializeCommits('acme', release, repositories);
    expect(known).toEqual({
      id: 'a1', message: 'Fix', dateCreated: new Date(20_000).toISOString(), pullRequest: null, suspectCommitType: '',
      repository: { id: expect.any(String), name: 'acme/web', url: 'https://git.example.com/acme/web', provider: { id: 'unknown', name: 'Unknown Provider' }, status: 'active', dateCreated: new Date(5_000).toISOString(), integrationId: null, externalSlug: null },
      author: { name: 'Ada', email: 'ada@example.com' },
      releases: [{ version: 'web@1.2.3', shortVersion: '1.2.3', ref: null, url: null, dateReleased: null, dateCreated: new Date(10_000).toISOString() }],
    });
  });

  it('dates a commit without a time and a repository named only by commits from the release; no author is {}', () => {
    const [, named, bare] = serializeCommits('acme', release, repositories);
    expect(named).toMatchObject({ dateCreated: new Date(10_000).toISOString(), repository: { name: 'scripts', url: null, dateCreated: new Date(10_000).toISOString() }, author: { name: 'Bob', email: '' } });
    expect(bare!.author).toEqual({});
    expect(bare).not.toHaveProperty('repository');
  });

  it('dates the head commits of refs when they are recorded', () => {
    expect(commitsOfRefs([{ repository: 'acme/web', commit: 'f'.repeat(40) }], 42)).toEqual([{ id: 'f'.repeat(40), repository: 'acme/web', message: null, authorName: null, authorEmail: null, timestamp: 42 }]);
  });

  it("names a release's last deploy with a string, as Sentry's release schema has it", () => {
    const deploy = { deploy_id: 'd', environment: 'production', name: null, url: null, date_started: null, date_finished: new Date(30_000), project_ids: [1] };
    expect(serializeRelease('acme', release, [], deploy).lastDeploy).toEqual({ id: 'd', environment: 'production', name: '', url: null, dateStarted: null, dateFinished: new Date(30_000).toISOString() });
    expect(serializeRelease('acme', release, []).lastDeploy).toBeNull();
  });
});
