import type { Appender, Pool } from '@trapline/runtime';
import { hashToken } from '@trapline/api';
import { ensureFirstOwner } from './accounts.ts';
import { createKey, createOrganization, createProject, createToken } from './admin.ts';

// First-start defaults as admin records on the log (so a rebuild restores them): an
// organization, a project, a DSN key, an API token with every scope and the first owner.

export interface BootstrapResult {
  organizationSlug: string;
  projectSlug: string;
  projectId: number;
  dsn: string;
  /** Present only when this call created the token: it is stored nowhere but as a hash. */
  token?: string;
  /** The first owner; the password only when this call created it (stored nowhere but as a hash). */
  owner: { email: string; password?: string };
}

export interface BootstrapInput {
  pool: Pool;
  appender: Appender;
  adminTopic: string;
  publicUrl: string;
  organizationSlug?: string;
  projectSlug?: string;
  projectId?: number;
  /** An existing token to keep using (its hash is checked), e.g. one saved by `npm start`. */
  knownToken?: string;
  now?: () => number;
}

export function dsnFor(publicUrl: string, publicKey: string, projectId: number): string {
  const url = new URL(publicUrl);
  url.username = publicKey;
  url.pathname = `${url.pathname.replace(/\/$/, '')}/${projectId}`;
  return url.toString();
}

const exists = async (pool: Pool, sql: string, params: unknown[]) => ((await pool.query(sql, params)).rowCount ?? 0) > 0;

export async function bootstrap(input: BootstrapInput): Promise<BootstrapResult> {
  const { pool } = input;
  const deps = { pool, appender: input.appender, adminTopic: input.adminTopic, ...(input.now ? { now: input.now } : {}) };
  const organizationSlug = input.organizationSlug ?? 'trapline';
  const projectSlug = input.projectSlug ?? 'default';
  const projectId = input.projectId ?? 1;
  if (!(await exists(pool, 'SELECT 1 FROM organizations WHERE slug = $1', [organizationSlug]))) await createOrganization(deps, organizationSlug);
  if (!(await exists(pool, 'SELECT 1 FROM projects WHERE id = $1', [projectId]))) await createProject(deps, organizationSlug, projectSlug, { id: projectId });
  const existingKey = (await pool.query<{ public_key: string }>('SELECT public_key FROM project_keys WHERE project_id = $1 AND active ORDER BY created_at LIMIT 1', [projectId])).rows[0]?.public_key;
  const publicKey = existingKey ?? (await createKey(deps, projectId)).publicKey;
  const keepToken = input.knownToken !== undefined && (await exists(pool, 'SELECT 1 FROM api_tokens WHERE token_hash = $1 AND active', [hashToken(input.knownToken)]));
  const token = keepToken ? undefined : (await createToken(deps, organizationSlug, undefined, 'bootstrap')).token;
  const owner = await ensureFirstOwner(deps, organizationSlug);
  return { organizationSlug, projectSlug, projectId, dsn: dsnFor(input.publicUrl, publicKey, projectId), ...(token ? { token } : {}), owner };
}
