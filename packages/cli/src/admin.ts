import type { Appender, Pool } from '@trapline/runtime';
import { adminKeys, DEFAULT_ALLOWED_ORIGINS, type KeyRateLimit, newRuleId, type ProjectKeyUpserted } from '@trapline/schemas';
import { commands, type Decision, hashToken, newToken, SCOPES } from '@trapline/api';

// Operator commands over the admin topic: each decides with the same builder the API uses
// (`commands` of @trapline/api), appends its records, then waits until the projector has applied
// them, so the next command sees the result.

export interface AdminDeps {
  pool: Pool;
  appender: Appender;
  adminTopic: string;
  now?: () => number;
}

export class AdminError extends Error {}

export async function waitProjected(pool: Pool, sql: string, params: unknown[]): Promise<void> {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (((await pool.query(sql, params)).rowCount ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new AdminError('the record was appended but not projected within 30s: is the projector running?');
}

const exists = async (pool: Pool, sql: string, params: unknown[]) => ((await pool.query(sql, params)).rowCount ?? 0) > 0;

/** Appends what the command's builder decided (the API's builders: same checks, same records), or refuses with its reason. */
async function decide<T>(deps: AdminDeps, decision: Decision<T>): Promise<T> {
  if (!decision.ok) throw new AdminError(decision.detail);
  await deps.appender.append(deps.adminTopic, decision.records);
  return decision.value;
}

const now = (deps: AdminDeps) => (deps.now ?? Date.now)();

export async function createOrganization(deps: AdminDeps, slug: string, name = slug) {
  const organization = await decide(deps, commands.createOrganization({ slug, name }, now(deps)));
  await waitProjected(deps.pool, 'SELECT 1 FROM organizations WHERE slug = $1 AND name = $2', [slug, name]);
  return organization;
}

async function teamIdOf(pool: Pool, organizationSlug: string, slug: string): Promise<number> {
  const row = (await pool.query<{ id: number }>('SELECT id FROM teams WHERE organization_slug = $1 AND slug = $2', [organizationSlug, slug])).rows[0];
  if (!row) throw new AdminError(`no team ${organizationSlug}/${slug}`);
  return row.id;
}

export async function createProject(deps: AdminDeps, organizationSlug: string, slug: string, options: { name?: string; id?: number; platform?: string; team?: string } = {}) {
  const { pool } = deps;
  const state = {
    organizationExists: await exists(pool, 'SELECT 1 FROM organizations WHERE slug = $1', [organizationSlug]),
    projectSlugs: (await pool.query<{ slug: string }>('SELECT slug FROM projects WHERE organization_slug = $1', [organizationSlug])).rows.map((row) => row.slug),
    // The id is the number in DSNs; chosen here, then fixed by the record on the log.
    nextProjectId: (await pool.query<{ next: number }>('SELECT coalesce(max(id), 0) + 1 AS next FROM projects')).rows[0]!.next,
    idTaken: options.id !== undefined && (await exists(pool, 'SELECT 1 FROM projects WHERE id = $1', [options.id])),
    defaultRuleId: newRuleId(),
  };
  const teamId = options.team === undefined ? undefined : await teamIdOf(pool, organizationSlug, options.team);
  const value = await decide(deps, commands.createProject({ organizationSlug, slug, name: options.name, platform: options.platform, id: options.id, teamId, actor: 'cli' }, state, now(deps)));
  await waitProjected(pool, 'SELECT 1 FROM projects WHERE id = $1 AND slug = $2', [value.projectId, slug]);
  return value;
}

export async function createTeam(deps: AdminDeps, organizationSlug: string, slug: string, name?: string) {
  const state = {
    organizationExists: await exists(deps.pool, 'SELECT 1 FROM organizations WHERE slug = $1', [organizationSlug]),
    teamSlugs: (await deps.pool.query<{ slug: string }>('SELECT slug FROM teams WHERE organization_slug = $1', [organizationSlug])).rows.map((row) => row.slug),
  };
  const team = await decide(deps, commands.createTeam({ organizationSlug, slug, name, actor: 'cli' }, state, now(deps)));
  await waitProjected(deps.pool, 'SELECT 1 FROM teams WHERE id = $1', [team.teamId]);
  return { id: team.teamId, organization: organizationSlug, slug: team.slug, name: team.name };
}

export async function createKey(deps: AdminDeps, projectId: number, label = 'Default', rateLimit: KeyRateLimit | null = null) {
  const state = { projectExists: await exists(deps.pool, 'SELECT 1 FROM projects WHERE id = $1', [projectId]) };
  const value = await decide(deps, commands.createKey({ projectId, label, rateLimit }, state, now(deps)));
  await waitProjected(deps.pool, 'SELECT 1 FROM project_keys WHERE public_key = $1', [value.publicKey]);
  return value;
}

async function existingKey(pool: Pool, publicKey: string): Promise<ProjectKeyUpserted> {
  const row = (await pool.query<{ secret_key: string; project_id: number; label: string; active: boolean; created_at: Date; rate_limit_count: number | null; rate_limit_window: number | null }>(
    'SELECT secret_key, project_id, label, active, created_at, rate_limit_count, rate_limit_window FROM project_keys WHERE public_key = $1',
    [publicKey],
  )).rows[0];
  if (!row) throw new AdminError(`no key ${publicKey}`);
  const rateLimit = row.rate_limit_count === null || row.rate_limit_window === null ? null : { count: row.rate_limit_count, window: row.rate_limit_window };
  return { publicKey, secretKey: row.secret_key, projectId: row.project_id, label: row.label, active: row.active, createdAt: row.created_at.getTime(), rateLimit };
}

export async function setKeyActive(deps: AdminDeps, publicKey: string, active: boolean) {
  await decide(deps, commands.updateKey(await existingKey(deps.pool, publicKey), { active }));
  await waitProjected(deps.pool, 'SELECT 1 FROM project_keys WHERE public_key = $1 AND active = $2', [publicKey, active]);
}

/** A key's own rate limit (`count` events per `window` seconds), or null for the deployment's. */
export async function setKeyRateLimit(deps: AdminDeps, publicKey: string, rateLimit: KeyRateLimit | null) {
  const key = await decide(deps, commands.updateKey(await existingKey(deps.pool, publicKey), { rateLimit }));
  await waitProjected(deps.pool, 'SELECT 1 FROM project_keys WHERE public_key = $1 AND rate_limit_count IS NOT DISTINCT FROM $2 AND rate_limit_window IS NOT DISTINCT FROM $3', [publicKey, rateLimit?.count ?? null, rateLimit?.window ?? null]);
  return { key: publicKey, rateLimit: key.rateLimit ? `${key.rateLimit.count} per ${key.rateLimit.window}s` : 'none (the deployment\'s)' };
}

/** A new token: returned once, stored only as its hash. */
export async function createToken(deps: AdminDeps, organizationSlug: string, scopes: string[] = [...SCOPES], label = 'cli') {
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0) throw new AdminError(`unknown scopes: ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
  if (((await deps.pool.query('SELECT 1 FROM organizations WHERE slug = $1', [organizationSlug])).rowCount ?? 0) === 0) throw new AdminError(`no organization ${organizationSlug}`);
  const token = newToken();
  const tokenHash = hashToken(token);
  await deps.appender.append(deps.adminTopic, [{ key: adminKeys.apiToken(tokenHash), name: 'ApiTokenUpserted', value: { tokenHash, organizationSlug, scopes, label, active: true, createdAt: (deps.now ?? Date.now)() } }]);
  await waitProjected(deps.pool, 'SELECT 1 FROM api_tokens WHERE token_hash = $1', [tokenHash]);
  return { token, scopes, organizationSlug };
}

/** A project's retention in days (fractions allowed), or `null` for the deployment's RETENTION_DAYS. */
export async function setRetention(deps: AdminDeps, projectId: number, days: number | null) {
  if (!(await exists(deps.pool, 'SELECT 1 FROM projects WHERE id = $1', [projectId]))) throw new AdminError(`no project ${projectId}`);
  await decide(deps, commands.setRetention(projectId, days, 'cli', now(deps)));
  if (days === null) await waitProjected(deps.pool, 'SELECT 1 FROM projects p WHERE p.id = $1 AND NOT EXISTS (SELECT 1 FROM project_retention r WHERE r.project_id = p.id)', [projectId]);
  else await waitProjected(deps.pool, 'SELECT 1 FROM project_retention WHERE project_id = $1 AND retention_days = $2', [projectId, days]);
  return { projectId, retentionDays: days ?? 'default' };
}

/** A project by its id (the number in its DSN) or `<org>/<slug>`. */
async function projectIdOf(pool: Pool, project: string): Promise<number> {
  const [org, slug] = project.split('/');
  const byId = /^\d{1,16}$/.test(project);
  const result = byId || slug !== undefined
    ? await pool.query<{ id: number }>(byId ? 'SELECT id FROM projects WHERE id = $1' : 'SELECT id FROM projects WHERE organization_slug = $1 AND slug = $2', byId ? [project] : [org, slug])
    : undefined;
  const row = result?.rows[0];
  if (!row) throw new AdminError(`no project ${project}: give its id or <org>/<slug>`);
  return row.id;
}

/**
 * A project's allowed origins (Sentry's allowedDomains): shown, set to a list (`[]` refuses every
 * browser origin), or back to the default `["*"]` with `null`.
 */
export async function allowedOrigins(deps: AdminDeps, project: string, change?: { set: string[] | null }) {
  const projectId = await projectIdOf(deps.pool, project);
  if (change !== undefined) {
    const value = await decide(deps, commands.setAllowedOrigins(projectId, change.set, 'cli', now(deps)));
    if (value === null) await waitProjected(deps.pool, 'SELECT 1 FROM projects p WHERE p.id = $1 AND NOT EXISTS (SELECT 1 FROM project_allowed_origins o WHERE o.project_id = p.id)', [projectId]);
    else await waitProjected(deps.pool, 'SELECT 1 FROM project_allowed_origins WHERE project_id = $1 AND origins = $2::text[]', [projectId, value]);
  }
  const row = (await deps.pool.query<{ origins: string[] }>('SELECT origins FROM project_allowed_origins WHERE project_id = $1', [projectId])).rows[0];
  return { projectId, allowedOrigins: (row?.origins ?? DEFAULT_ALLOWED_ORIGINS).join(' ') || '(none: every browser origin refused)', default: row === undefined };
}
