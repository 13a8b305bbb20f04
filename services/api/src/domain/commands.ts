import { createHash } from 'node:crypto';
import type { OutgoingRecord } from '@trapline/runtime';
import { adminKeys, alertKeys, DEFAULT_RULE, type KeyRateLimit, normalizeAllowedOrigins, type ProjectKeyUpserted, type ProjectUpserted, ruleRecord, type TeamUpserted } from '@trapline/schemas';
import { newProjectKey } from './keys.ts';

// The admin commands, one pure builder each: given what the caller found in the read model (the
// state), decide the records to append on trapline.admin or a refusal. The API
// (routes/organizations.ts, routes/teams.ts) and the `trapline` CLI (packages/cli/src/admin.ts) call
// the same builders, so both paths check alike and write the same records.

export type Decision<T> = { ok: true; records: OutgoingRecord[]; value: T } | { ok: false; detail: string; conflict?: true };

const refuse = (detail: string, conflict?: true): { ok: false; detail: string; conflict?: true } => (conflict ? { ok: false, detail, conflict } : { ok: false, detail });
const decided = <T>(records: OutgoingRecord[], value: T): Decision<T> => ({ ok: true, records, value });

export const SLUG = /^[a-z0-9][a-z0-9_-]{0,49}$/;
export const MAX_NAME_LENGTH = 200;
export const MAX_RETENTION_DAYS = 36500;
/** Sentry's key rate limit windows go up to a day. */
export const MAX_RATE_LIMIT_WINDOW_SECONDS = 86400;

/** Sentry's slugify of a name: lowercase, runs of other characters as '-', at most 50. */
export function slugify(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|-+$/g, '').slice(0, 50);
}

function checkSlug(what: string, slug: string): string | undefined {
  return SLUG.test(slug) ? undefined : `invalid ${what} slug ${JSON.stringify(slug)}: lowercase letters, digits, - and _, at most 50, starting with a letter or digit`;
}

function checkName(name: string): string | undefined {
  if (name.trim() === '' || name.length > MAX_NAME_LENGTH || name.includes('\u0000')) return `invalid name: 1 to ${MAX_NAME_LENGTH} characters, no NUL`;
  return undefined;
}

/** A team's id: a function of its organization and slug, so creating it again (or a rebuild) gives the same. */
export function teamId(organizationSlug: string, slug: string): number {
  return parseInt(createHash('sha256').update(`team/${organizationSlug}/${slug}`).digest('hex').slice(0, 13), 16);
}

export function createOrganization(command: { slug: string; name?: string | undefined }, now: number): Decision<{ slug: string; name: string }> {
  const problem = checkSlug('organization', command.slug) ?? checkName(command.name ?? command.slug);
  if (problem) return refuse(problem);
  const value = { slug: command.slug, name: command.name ?? command.slug, createdAt: now };
  return decided([{ key: adminKeys.organization(value.slug), name: 'OrganizationUpserted', value }], { slug: value.slug, name: value.name });
}

/** Sentry's team creation: a slug, a name, or both (the slug then comes from the name). */
export function createTeam(
  command: { organizationSlug: string; slug?: string | undefined; name?: string | undefined; actor: string },
  state: { organizationExists: boolean; teamSlugs: readonly string[] },
  now: number,
): Decision<TeamUpserted> {
  if (!state.organizationExists) return refuse(`no organization ${command.organizationSlug}`);
  const slug = command.slug ?? (command.name === undefined ? '' : slugify(command.name));
  const problem = (command.slug === undefined && command.name === undefined ? 'give a slug or a name' : undefined) ?? checkSlug('team', slug) ?? checkName(command.name ?? slug);
  if (problem) return refuse(problem);
  if (state.teamSlugs.includes(slug)) return refuse('A team with this slug already exists.', true);
  const value: TeamUpserted = { teamId: teamId(command.organizationSlug, slug), organizationSlug: command.organizationSlug, slug, name: command.name ?? slug, actor: command.actor, createdAt: now };
  return decided([{ key: adminKeys.team(value.teamId), name: 'TeamUpserted', value }], value);
}

/** A new project (its id, the number in DSNs, is the next free one unless given), optionally in a team. */
export function createProject(
  command: { organizationSlug: string; slug?: string | undefined; name?: string | undefined; platform?: string | null | undefined; id?: number | undefined; teamId?: number | undefined; actor: string },
  /** `defaultRuleId`: the id the project's default alert rule gets (chosen by the caller: ids are random). */
  state: { organizationExists: boolean; projectSlugs: readonly string[]; nextProjectId: number; idTaken?: boolean; defaultRuleId?: string },
  now: number,
): Decision<ProjectUpserted> {
  if (!state.organizationExists) return refuse(`no organization ${command.organizationSlug}`);
  const slug = command.slug ?? (command.name === undefined ? '' : slugify(command.name));
  const problem =
    (command.slug === undefined && command.name === undefined ? 'give a slug or a name' : undefined) ??
    checkSlug('project', slug) ??
    checkName(command.name ?? slug) ??
    (command.platform && !/^[a-z0-9_.-]{1,64}$/.test(command.platform) ? `invalid platform ${JSON.stringify(command.platform)}` : undefined) ??
    (command.id !== undefined && !(Number.isSafeInteger(command.id) && command.id > 0) ? `invalid project id ${command.id}` : undefined);
  if (problem) return refuse(problem);
  if (state.projectSlugs.includes(slug)) return refuse(`A project with this slug already exists: ${command.organizationSlug}/${slug}`, true);
  if (state.idTaken) return refuse(`project id ${command.id} is taken`, true);
  const value: ProjectUpserted = { projectId: command.id ?? state.nextProjectId, organizationSlug: command.organizationSlug, slug, name: command.name ?? slug, platform: command.platform ?? null, createdAt: now };
  const records: OutgoingRecord[] = [{ key: adminKeys.project(value.projectId), name: 'ProjectUpserted', value }];
  if (command.teamId !== undefined) records.push(projectTeamsRecord(value.projectId, [command.teamId], command.actor, now));
  // A new project gets Sentry's default rule (a new issue e-mails the project's people), as in Sentry.
  if (state.defaultRuleId !== undefined) {
    const ruleId = state.defaultRuleId;
    records.push({ key: alertKeys.rule(value.projectId, ruleId), name: 'AlertRuleUpserted', value: ruleRecord(DEFAULT_RULE, { projectId: value.projectId, ruleId, actor: 'trapline', createdAt: now, changedAt: now }) });
  }
  return decided(records, value);
}

export function projectTeamsRecord(projectId: number, teamIds: number[], actor: string, changedAt: number): OutgoingRecord {
  return { key: adminKeys.projectTeams(projectId), name: 'ProjectTeamsChanged', value: { projectId, teamIds: [...new Set(teamIds)].sort((a, b) => a - b), actor, changedAt } };
}

/** A project's retention in days (fractions allowed), or null for the deployment's RETENTION_DAYS. */
export function setRetention(projectId: number, days: number | null, actor: string, now: number): Decision<number | null> {
  if (days !== null && !(Number.isFinite(days) && days > 0 && days <= MAX_RETENTION_DAYS)) return refuse(`invalid retention ${days}: a number of days above 0 and at most ${MAX_RETENTION_DAYS} (fractions allowed), or the default`);
  return decided([{ key: adminKeys.projectRetention(projectId), name: 'ProjectRetentionChanged', value: { projectId, retentionDays: days, actor, changedAt: now } }], days);
}

/** A project's allowed origins (Sentry's allowedDomains); null goes back to the default ["*"]. */
export function setAllowedOrigins(projectId: number, origins: readonly string[] | null, actor: string, now: number): Decision<string[] | null> {
  const normalized = origins === null ? null : normalizeAllowedOrigins([...origins]);
  if (normalized && !normalized.ok) return refuse(`invalid allowed origins: ${normalized.reason}`);
  const value = normalized?.value ?? null;
  return decided([{ key: adminKeys.projectOrigins(projectId), name: 'ProjectAllowedOriginsChanged', value: { projectId, allowedOrigins: value, actor, changedAt: now } }], value);
}

/** Sentry's project settings update: name, platform, allowed domains, retention; at least one. */
export function updateProject(
  project: ProjectUpserted,
  change: { name?: string | undefined; platform?: string | null | undefined; allowedDomains?: readonly string[] | null | undefined; retentionDays?: number | null | undefined },
  actor: string,
  now: number,
): Decision<{ project: ProjectUpserted; allowedOrigins?: string[] | null; retentionDays?: number | null }> {
  if (Object.values(change).every((value) => value === undefined)) return refuse('give name, platform, allowedDomains or retentionDays');
  const records: OutgoingRecord[] = [];
  const value: { project: ProjectUpserted; allowedOrigins?: string[] | null; retentionDays?: number | null } = { project };
  if (change.name !== undefined || change.platform !== undefined) {
    const renamed = { ...project, name: change.name ?? project.name, platform: change.platform === undefined ? project.platform : change.platform };
    const problem = checkName(renamed.name) ?? (renamed.platform && !/^[a-z0-9_.-]{1,64}$/.test(renamed.platform) ? `invalid platform ${JSON.stringify(renamed.platform)}` : undefined);
    if (problem) return refuse(problem);
    records.push({ key: adminKeys.project(project.projectId), name: 'ProjectUpserted', value: renamed });
    value.project = renamed;
  }
  if (change.retentionDays !== undefined) {
    const retention = setRetention(project.projectId, change.retentionDays, actor, now);
    if (!retention.ok) return retention;
    records.push(...retention.records);
    value.retentionDays = retention.value;
  }
  if (change.allowedDomains !== undefined) {
    const origins = setAllowedOrigins(project.projectId, change.allowedDomains, actor, now);
    if (!origins.ok) return origins;
    records.push(...origins.records);
    value.allowedOrigins = origins.value;
  }
  return decided(records, value);
}

function checkRateLimit(rateLimit: KeyRateLimit | null | undefined): string | undefined {
  if (!rateLimit) return undefined;
  const { count, window } = rateLimit;
  if (!(Number.isSafeInteger(count) && count > 0)) return `invalid rateLimit.count ${count}: a whole number of events above 0`;
  if (!(Number.isSafeInteger(window) && window > 0 && window <= MAX_RATE_LIMIT_WINDOW_SECONDS)) return `invalid rateLimit.window ${window}: whole seconds above 0, at most ${MAX_RATE_LIMIT_WINDOW_SECONDS}`;
  return undefined;
}

export function createKey(command: { projectId: number; label?: string | undefined; rateLimit?: KeyRateLimit | null | undefined }, state: { projectExists: boolean }, now: number): Decision<ProjectKeyUpserted> {
  if (!state.projectExists) return refuse(`no project ${command.projectId}`);
  const problem = checkName(command.label ?? 'Default') ?? checkRateLimit(command.rateLimit);
  if (problem) return refuse(problem);
  const value: ProjectKeyUpserted = { ...newProjectKey(command.projectId, command.label ?? 'Default', now), rateLimit: command.rateLimit ?? null };
  return decided([{ key: adminKeys.projectKey(value.publicKey), name: 'ProjectKeyUpserted', value }], value);
}

/** Rename a key, enable or revoke it (revoking keeps its record, inactive), set or clear its rate limit. */
export function updateKey(key: ProjectKeyUpserted, change: { label?: string | undefined; active?: boolean | undefined; rateLimit?: KeyRateLimit | null | undefined }): Decision<ProjectKeyUpserted> {
  const problem = (change.label === undefined ? undefined : checkName(change.label)) ?? checkRateLimit(change.rateLimit);
  if (problem) return refuse(problem);
  const value: ProjectKeyUpserted = {
    ...key,
    label: change.label ?? key.label,
    active: change.active ?? key.active,
    rateLimit: change.rateLimit === undefined ? (key.rateLimit ?? null) : change.rateLimit,
  };
  return decided([{ key: adminKeys.projectKey(value.publicKey), name: 'ProjectKeyUpserted', value }], value);
}
