import type { GroupRow, ProjectRow } from '@trapline/runtime';
import type { ReleaseReadModel } from '../adapters/releases-read-model.ts';
import { serializeRelease } from '../domain/releases.ts';

/** An issue's `firstRelease` and `lastRelease` (Sentry's issue detail): the releases of its first and latest events. */
export async function issueReleases(releases: ReleaseReadModel, group: GroupRow, project: ProjectRow) {
  const one = async (version: string | null | undefined) => {
    if (!version) return null;
    const release = await releases.release(project.organization_slug, version);
    return release ? serializeRelease(project.organization_slug, release, [project]) : { version, shortVersion: version, dateCreated: null, dateReleased: null, projects: [] };
  };
  return { firstRelease: await one(group.first_release), lastRelease: await one(group.last_release) };
}
