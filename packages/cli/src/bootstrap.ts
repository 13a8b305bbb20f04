import { randomBytes } from 'node:crypto';
import type { Appender, Pool } from '@trapline/runtime';
import { hashToken, newToken, SCOPES } from '@trapline/api/tokens';

// First-start defaults as admin records on the log (so a rebuild restores them): an
// organization, a project, a DSN key and an API token with every scope.

export interface BootstrapResult {
  organizationSlug: string;
  projectSlug: string;
  projectId: number;
  dsn: string;
  /** Present only when this call created the token: it is stored nowhere but as a hash. */
  token?: string;
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

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} was not projected within ${timeoutMs / 1000}s: is the projector running?`);
}

export async function bootstrap(input: BootstrapInput): Promise<BootstrapResult> {
  const { pool, appender, adminTopic, publicUrl } = input;
  const organizationSlug = input.organizationSlug ?? 'trapline';
  const projectSlug = input.projectSlug ?? 'default';
  const projectId = input.projectId ?? 1;
  const now = input.now ?? Date.now;
  const keyRow = async () =>
    (await pool.query<{ public_key: string }>('SELECT public_key FROM project_keys WHERE project_id = $1 AND active ORDER BY created_at LIMIT 1', [projectId])).rows[0];
  let key = await keyRow();
  if (!key) {
    const publicKey = randomBytes(16).toString('hex');
    await appender.append(adminTopic, [
      { key: `organization/${organizationSlug}`, name: 'OrganizationUpserted', value: { slug: organizationSlug, name: organizationSlug, createdAt: now() } },
      { key: `project/${projectId}`, name: 'ProjectUpserted', value: { projectId, organizationSlug, slug: projectSlug, name: projectSlug, platform: null, createdAt: now() } },
      { key: `key/${publicKey}`, name: 'ProjectKeyUpserted', value: { publicKey, secretKey: randomBytes(16).toString('hex'), projectId, label: 'Default', active: true, createdAt: now() } },
    ]);
    await waitUntil(async () => (key = await keyRow()) !== undefined, 'the default DSN key');
  }
  const tokenKnown = async (token: string) =>
    ((await pool.query('SELECT 1 FROM api_tokens WHERE token_hash = $1 AND active', [hashToken(token)])).rowCount ?? 0) > 0;
  let token: string | undefined;
  if (!input.knownToken || !(await tokenKnown(input.knownToken))) {
    token = newToken();
    const tokenHash = hashToken(token);
    await appender.append(adminTopic, [
      { key: `token/${tokenHash}`, name: 'ApiTokenUpserted', value: { tokenHash, organizationSlug, scopes: [...SCOPES], label: 'bootstrap', active: true, createdAt: now() } },
    ]);
    const created = token;
    await waitUntil(() => tokenKnown(created), 'the API token');
  }
  return { organizationSlug, projectSlug, projectId, dsn: dsnFor(publicUrl, key!.public_key, projectId), ...(token ? { token } : {}) };
}
