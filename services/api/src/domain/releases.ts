import { createHash } from 'node:crypto';
import type { DeployRow, ProjectRow, ReleaseRow, RepositoryRow } from '@trapline/runtime';
import type { ReleaseCommit, ReleaseUpserted } from '@trapline/schemas';

// Releases in Sentry's shapes, and the pure decisions behind the release API: what a create or an
// update makes of a release's state (the whole state goes on the log as one ReleaseUpserted).

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** Sentry's release version rule: 1–200 characters, no line breaks, tabs or slashes, not `.`, `..` or `latest`. */
export function versionProblem(version: string): string | undefined {
  if (version.length === 0 || version.length > 200) return 'release version must be 1 to 200 characters';
  if (/[\n\r\t\f\u0000/\\]/.test(version)) return 'release version must not contain line breaks, tabs or slashes';
  if (version === '.' || version === '..' || version.toLowerCase() === 'latest') return `release version must not be "${version}"`;
  return undefined;
}

/** A stable numeric id for a release (Sentry's ids are integers; 52 bits, safe in JSON): the same on every replay. */
export const releaseId = (organizationSlug: string, version: string) => parseInt(createHash('sha1').update(`${organizationSlug}\n${version}`).digest('hex').slice(0, 13), 16);

/** Sentry's shortVersion: `package@1.2.3+build` → `1.2.3+build`, a 40-digit commit SHA → its first 12. */
export function shortVersion(version: string): string {
  const after = version.includes('@') ? version.slice(version.indexOf('@') + 1) : version;
  return /^[0-9a-f]{40}$/i.test(after) ? after.slice(0, 12) : after;
}

export interface ReleaseChange {
  projectIds?: number[] | undefined;
  ref?: string | null | undefined;
  url?: string | null | undefined;
  dateStarted?: number | null | undefined;
  dateReleased?: number | null | undefined;
  commits?: ReleaseCommit[] | undefined;
}

/** The release after a create or update: projects accumulate (as Sentry's do), the rest is replaced when given. */
export function nextRelease(organizationSlug: string, version: string, existing: ReleaseRow | undefined, change: ReleaseChange, actor: string, now: number): ReleaseUpserted {
  const projectIds = [...new Set([...(existing?.declared_project_ids ?? []), ...(existing?.seen_project_ids ?? []), ...(change.projectIds ?? [])])].sort((a, b) => a - b);
  const pick = <T>(given: T | undefined, current: T) => (given === undefined ? current : given);
  return {
    organizationSlug,
    version,
    projectIds,
    ref: pick(change.ref, existing?.ref ?? null),
    url: pick(change.url, existing?.url ?? null),
    dateCreated: existing?.date_created.getTime() ?? now,
    dateStarted: pick(change.dateStarted, existing?.date_started?.getTime() ?? null),
    dateReleased: pick(change.dateReleased, existing?.date_released?.getTime() ?? null),
    commits: change.commits ?? existing?.commits ?? [],
    deleted: false,
    actor,
    changedAt: now,
  };
}

/**
 * Commits of `refs` (sentry-cli set-commits --commit repo@sha): the head commit of each, as no
 * integration can list a range. Dated when recorded, as Sentry dates a commit given without a time.
 */
export function commitsOfRefs(refs: { repository: string; commit: string }[], now: number): ReleaseCommit[] {
  return refs.map((ref) => ({ id: ref.commit, repository: ref.repository, message: null, authorName: null, authorEmail: null, timestamp: now }));
}

/**
 * Sentry's commit, with the releases it is in (here: the one asked about). A commit recorded
 * without a time (before commits were dated when recorded) dates from its release. Its repository
 * is the organization's one of that name; one named only by commits (Sentry creates it on
 * set-commits) has no URL and dates from the release. No pull requests without an integration.
 */
function serializeCommit(organizationSlug: string, release: ReleaseRow, commit: ReleaseCommit, repositories: RepositoryRow[]) {
  const repository = commit.repository === null ? undefined : (repositories.find((known) => known.name.toLowerCase() === commit.repository!.toLowerCase()) ?? { name: commit.repository, url: null, created_at: release.date_created });
  return {
    id: commit.id,
    message: commit.message,
    dateCreated: new Date(commit.timestamp ?? release.date_created.getTime()).toISOString(),
    pullRequest: null,
    suspectCommitType: '',
    ...(repository ? { repository: serializeRepository(organizationSlug, repository) } : {}),
    author: commit.authorEmail === null && commit.authorName === null ? {} : { name: commit.authorName, email: commit.authorEmail ?? '' },
    releases: [{ version: release.version, shortVersion: shortVersion(release.version), ref: release.ref, url: release.url, dateReleased: iso(release.date_released), dateCreated: release.date_created.toISOString() }],
  };
}

export const serializeCommits = (organizationSlug: string, release: ReleaseRow, repositories: RepositoryRow[]) => release.commits.map((commit) => serializeCommit(organizationSlug, release, commit, repositories));

export function serializeRelease(organizationSlug: string, release: ReleaseRow, projects: ProjectRow[], lastDeploy?: DeployRow, repositories: RepositoryRow[] = []) {
  const ids = new Set([...release.declared_project_ids, ...release.seen_project_ids]);
  const lastCommit = release.commits[0];
  return {
    id: releaseId(organizationSlug, release.version),
    version: release.version,
    shortVersion: shortVersion(release.version),
    status: 'open',
    ref: release.ref,
    url: release.url,
    dateCreated: iso(release.date_created),
    dateReleased: iso(release.date_released),
    dateStarted: iso(release.date_started),
    data: {},
    owner: null,
    userAgent: null,
    newGroups: release.new_groups,
    commitCount: release.commits.length,
    lastCommit: lastCommit ? serializeCommit(organizationSlug, release, lastCommit, repositories) : null,
    authors: [],
    deployCount: release.deploy_count,
    // Sentry's release gives its last deploy a name (a string): a deploy without one has "".
    lastDeploy: lastDeploy ? { ...serializeDeploy(lastDeploy), name: lastDeploy.name ?? '' } : null,
    firstEvent: iso(release.first_event),
    lastEvent: iso(release.last_event),
    currentProjectMeta: {},
    versionInfo: { package: release.version.includes('@') ? release.version.slice(0, release.version.indexOf('@')) : null, version: { raw: shortVersion(release.version) }, description: shortVersion(release.version), buildHash: null },
    projects: projects.filter((project) => ids.has(project.id)).map((project) => ({ id: project.id, slug: project.slug, name: project.name, newGroups: 0, platform: project.platform, platforms: project.platform ? [project.platform] : [], hasHealthData: false })),
  };
}

export function serializeDeploy(deploy: DeployRow) {
  return { id: deploy.deploy_id, environment: deploy.environment, name: deploy.name, url: deploy.url, dateStarted: iso(deploy.date_started), dateFinished: deploy.date_finished.toISOString() };
}

export function serializeRepository(organizationSlug: string, repository: RepositoryRow) {
  return {
    id: String(releaseId(organizationSlug, `repository:${repository.name}`)),
    name: repository.name,
    url: repository.url,
    provider: { id: 'unknown', name: 'Unknown Provider' },
    status: 'active',
    dateCreated: repository.created_at.toISOString(),
    integrationId: null,
    externalSlug: null,
  };
}

/** An issue's statusDetails from its projected resolution. */
export const statusDetailsOf = (group: { status: string; resolved_in_release?: string | null; resolved_in_next_release?: string | null }) =>
  group.status !== 'resolved' ? {} : group.resolved_in_next_release ? { inNextRelease: true } : group.resolved_in_release ? { inRelease: group.resolved_in_release } : {};
