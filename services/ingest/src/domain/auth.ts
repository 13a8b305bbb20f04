import { ok, reject, type Result } from './rejections.ts';

// The forms Sentry SDKs authenticate with: X-Sentry-Auth, Authorization: Sentry …,
// ?sentry_key=… in the query, and the dsn in an envelope's header.

export interface Credentials {
  publicKey: string;
  secretKey?: string;
}

export interface AuthSources {
  xSentryAuth?: string;
  authorization?: string;
  query: Record<string, unknown>;
  envelopeDsn?: string;
}

/** Parses `Sentry sentry_key=abc, sentry_version=7, …` (the `Sentry ` prefix is optional). */
export function parseSentryAuthHeader(header: string): Result<Credentials> {
  const body = header.trim().replace(/^sentry\s+/i, '');
  const fields = new Map<string, string>();
  for (const part of body.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const publicKey = fields.get('sentry_key');
  if (!publicKey) return reject('invalid_auth', 'authentication header has no sentry_key');
  const secretKey = fields.get('sentry_secret');
  return ok(secretKey ? { publicKey, secretKey } : { publicKey });
}

/** The key and (optional) secret of a DSN such as `https://key:secret@host/42`. */
export function parseDsn(dsn: string): Result<Credentials & { projectId: string }> {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    return reject('invalid_auth', 'the envelope header dsn is not a URL');
  }
  const projectId = url.pathname.split('/').filter(Boolean).pop() ?? '';
  if (!url.username) return reject('invalid_auth', 'the envelope header dsn has no public key');
  const credentials = { publicKey: decodeURIComponent(url.username), projectId };
  return ok(url.password ? { ...credentials, secretKey: decodeURIComponent(url.password) } : credentials);
}

export function findCredentials(sources: AuthSources): Result<Credentials> {
  if (sources.xSentryAuth) return parseSentryAuthHeader(sources.xSentryAuth);
  if (sources.authorization && /^sentry\s/i.test(sources.authorization)) return parseSentryAuthHeader(sources.authorization);
  const queryKey = sources.query.sentry_key;
  if (typeof queryKey === 'string' && queryKey) {
    const secret = sources.query.sentry_secret;
    return ok(typeof secret === 'string' && secret ? { publicKey: queryKey, secretKey: secret } : { publicKey: queryKey });
  }
  if (sources.envelopeDsn) {
    const dsn = parseDsn(sources.envelopeDsn);
    return dsn.ok ? ok({ publicKey: dsn.value.publicKey, ...(dsn.value.secretKey ? { secretKey: dsn.value.secretKey } : {}) }) : dsn;
  }
  return reject('missing_auth');
}

export interface ProjectKey {
  publicKey: string;
  secretKey: string;
  projectId: number;
  active: boolean;
  /** The key's own rate limit (Sentry's: count events per window seconds); null: the deployment's. */
  rateLimit?: { count: number; window: number } | null;
}

/** Decides whether credentials may post to the project in the path. */
export function authorize(credentials: Credentials, key: ProjectKey | undefined, projectId: number): Result<ProjectKey> {
  if (!key) return reject('unknown_key');
  if (credentials.secretKey !== undefined && credentials.secretKey !== key.secretKey) return reject('unknown_key');
  if (!key.active) return reject('key_disabled');
  if (key.projectId !== projectId) return reject('wrong_project');
  return ok(key);
}
