import type { Appender, Pool } from '@trapline/runtime';
import { DEFAULT_ALLOWED_ORIGINS, normalizeAllowedOrigins } from '@trapline/schemas';
import { hashToken, newToken, SCOPES } from '@trapline/api/tokens';
import { newProjectKey } from '@trapline/api/keys';

// Operator commands over the admin topic: each writes the same records the API and bootstrap
// write, then waits until the projector has applied them, so the next command sees the result.

export interface AdminDeps {
  pool: Pool;
  appender: Appender;
  adminTopic: string;
  now?: () => number;
}

export class AdminError extends Error {}

const SLUG = /^[a-z0-9][a-z0-9_-]{0,99}$/;

export async function waitProjected(pool: Pool, sql: string, params: unknown[]): Promise<void> {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (((await pool.query(sql, params)).rowCount ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new AdminError('the record was appended but not projected within 30s: is the projector running?');
}

export async function createOrganization(deps: AdminDeps, slug: string, name = slug) {
  if (!SLUG.test(slug)) throw new AdminError(`invalid organization slug ${JSON.stringify(slug)}: lowercase letters, digits, - and _`);
  await deps.appender.append(deps.adminTopic, [{ key: `organization/${slug}`, name: 'OrganizationUpserted', value: { slug, name, createdAt: (deps.now ?? Date.now)() } }]);
  await waitProjected(deps.pool, 'SELECT 1 FROM organizations WHERE slug = $1 AND name = $2', [slug, name]);
  return { slug, name };
}

export async function createProject(deps: AdminDeps, organizationSlug: string, slug: string, options: { name?: string; id?: number; platform?: string } = {}) {
  if (!SLUG.test(slug)) throw new AdminError(`invalid project slug ${JSON.stringify(slug)}`);
  if (((await deps.pool.query('SELECT 1 FROM organizations WHERE slug = $1', [organizationSlug])).rowCount ?? 0) === 0) throw new AdminError(`no organization ${organizationSlug}`);
  if (((await deps.pool.query('SELECT 1 FROM projects WHERE organization_slug = $1 AND slug = $2', [organizationSlug, slug])).rowCount ?? 0) > 0) throw new AdminError(`project ${organizationSlug}/${slug} exists`);
  // The id is the number in DSNs; chosen here, then fixed by the record on the log.
  const projectId = options.id ?? ((await deps.pool.query<{ next: number }>('SELECT coalesce(max(id), 0) + 1 AS next FROM projects')).rows[0]!.next);
  const value = { projectId, organizationSlug, slug, name: options.name ?? slug, platform: options.platform ?? null, createdAt: (deps.now ?? Date.now)() };
  await deps.appender.append(deps.adminTopic, [{ key: `project/${projectId}`, name: 'ProjectUpserted', value }]);
  await waitProjected(deps.pool, 'SELECT 1 FROM projects WHERE id = $1 AND slug = $2', [projectId, slug]);
  return value;
}

export async function createKey(deps: AdminDeps, projectId: number, label = 'Default') {
  if (((await deps.pool.query('SELECT 1 FROM projects WHERE id = $1', [projectId])).rowCount ?? 0) === 0) throw new AdminError(`no project ${projectId}`);
  const value = newProjectKey(projectId, label, (deps.now ?? Date.now)());
  await deps.appender.append(deps.adminTopic, [{ key: `key/${value.publicKey}`, name: 'ProjectKeyUpserted', value }]);
  await waitProjected(deps.pool, 'SELECT 1 FROM project_keys WHERE public_key = $1', [value.publicKey]);
  return value;
}

export async function setKeyActive(deps: AdminDeps, publicKey: string, active: boolean) {
  const row = (await deps.pool.query<{ secret_key: string; project_id: number; label: string; created_at: Date }>('SELECT secret_key, project_id, label, created_at FROM project_keys WHERE public_key = $1', [publicKey])).rows[0];
  if (!row) throw new AdminError(`no key ${publicKey}`);
  await deps.appender.append(deps.adminTopic, [
    { key: `key/${publicKey}`, name: 'ProjectKeyUpserted', value: { publicKey, secretKey: row.secret_key, projectId: row.project_id, label: row.label, active, createdAt: row.created_at.getTime() } },
  ]);
  await waitProjected(deps.pool, 'SELECT 1 FROM project_keys WHERE public_key = $1 AND active = $2', [publicKey, active]);
}

/** A new token: returned once, stored only as its hash. */
export async function createToken(deps: AdminDeps, organizationSlug: string, scopes: string[] = [...SCOPES], label = 'cli') {
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0) throw new AdminError(`unknown scopes: ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
  if (((await deps.pool.query('SELECT 1 FROM organizations WHERE slug = $1', [organizationSlug])).rowCount ?? 0) === 0) throw new AdminError(`no organization ${organizationSlug}`);
  const token = newToken();
  const tokenHash = hashToken(token);
  await deps.appender.append(deps.adminTopic, [{ key: `token/${tokenHash}`, name: 'ApiTokenUpserted', value: { tokenHash, organizationSlug, scopes, label, active: true, createdAt: (deps.now ?? Date.now)() } }]);
  await waitProjected(deps.pool, 'SELECT 1 FROM api_tokens WHERE token_hash = $1', [tokenHash]);
  return { token, scopes, organizationSlug };
}

/** A project's retention in days (fractions allowed), or `null` for the deployment's RETENTION_DAYS. */
export async function setRetention(deps: AdminDeps, projectId: number, days: number | null) {
  if (days !== null && !(Number.isFinite(days) && days > 0 && days <= 36500)) throw new AdminError(`invalid retention ${days}: a number of days above 0 (fractions allowed), or "default"`);
  if (((await deps.pool.query('SELECT 1 FROM projects WHERE id = $1', [projectId])).rowCount ?? 0) === 0) throw new AdminError(`no project ${projectId}`);
  await deps.appender.append(deps.adminTopic, [{ key: `project/${projectId}/retention`, name: 'ProjectRetentionChanged', value: { projectId, retentionDays: days, actor: 'cli', changedAt: (deps.now ?? Date.now)() } }]);
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
    const origins = change.set === null ? null : normalizeAllowedOrigins(change.set);
    if (origins && !origins.ok) throw new AdminError(`invalid allowed origins: ${origins.reason}`);
    const value = origins?.value ?? null;
    await deps.appender.append(deps.adminTopic, [{ key: `project/${projectId}/origins`, name: 'ProjectAllowedOriginsChanged', value: { projectId, allowedOrigins: value, actor: 'cli', changedAt: (deps.now ?? Date.now)() } }]);
    if (value === null) await waitProjected(deps.pool, 'SELECT 1 FROM projects p WHERE p.id = $1 AND NOT EXISTS (SELECT 1 FROM project_allowed_origins o WHERE o.project_id = p.id)', [projectId]);
    else await waitProjected(deps.pool, 'SELECT 1 FROM project_allowed_origins WHERE project_id = $1 AND origins = $2::text[]', [projectId, value]);
  }
  const row = (await deps.pool.query<{ origins: string[] }>('SELECT origins FROM project_allowed_origins WHERE project_id = $1', [projectId])).rows[0];
  return { projectId, allowedOrigins: (row?.origins ?? DEFAULT_ALLOWED_ORIGINS).join(' ') || '(none: every browser origin refused)', default: row === undefined };
}
