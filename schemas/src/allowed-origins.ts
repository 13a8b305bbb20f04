// A project's allowed origins (Sentry's project option `allowedDomains`, the `allowedOrigins` of
// ProjectAllowedOriginsChanged): the web pages whose browser SDKs may post events. What a valid
// value is (the API and the CLI check it) and what it means (ingest matches it). Patterns, read as
// Sentry reads them:
//   *                         any origin (the default)
//   https://app.example.com   that scheme and host, on any port (`:8443` pins one)
//   example.com               that host, on any scheme and port
//   *.example.com             example.com and every subdomain of it
//   *:8080                    any host on that port
// Case-insensitive; hosts compare in punycode, as URL parsing gives them. A request without an
// origin (server SDKs, or a browser's `null` origin with no Referer) is never refused. An origin
// without a host (`file://`, a page opened from disk, as its Referer names it) matches only a
// pattern of any host on its scheme (`file://*`), as Sentry's is_valid_origin matches it.

export const ANY_ORIGIN = '*';
/** What a project allows until it sets its own list. */
export const DEFAULT_ALLOWED_ORIGINS: readonly string[] = [ANY_ORIGIN];
export const MAX_ALLOWED_ORIGINS = 200;
export const MAX_ORIGIN_PATTERN_LENGTH = 300;

export interface OriginPattern {
  /** null: any scheme. */
  scheme: string | null;
  /** null: any host. */
  host: string | null;
  /** Also every subdomain of `host`. */
  subdomains: boolean;
  /** null: any port. */
  port: string | null;
}

/** A project's list, parsed once when ingest loads it. */
export type AllowedOrigins = { any: true } | { any: false; patterns: readonly OriginPattern[] };

export const ALLOW_ANY_ORIGIN: AllowedOrigins = { any: true };

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const PATTERN = /^(?:(\*|[a-z][a-z0-9+.-]*):\/\/)?(\*|\*\.[^/:*@?#]+|\[[0-9a-f:.]+\]|[^/:*@?#]+)(?::(\d{1,5}))?$/;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };

/** A host as URL parsing writes it (lowercase, punycode, IPv4 normalized), or undefined. */
function canonicalHost(host: string): string | undefined {
  try {
    const url = new URL(`http://${host}`);
    return url.hostname !== '' && url.pathname === '/' && url.port === '' ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

/** The stored spelling of a pattern: trimmed, lowercase, without trailing slashes (as Sentry keeps it). */
export const normalizeOriginPattern = (text: string) => text.trim().toLowerCase().replace(/\/+$/, '');

export function parseOriginPattern(text: string): Parsed<OriginPattern> {
  const invalid = { ok: false as const, reason: `${JSON.stringify(text.slice(0, 100))} is not an origin pattern: use *, example.com, *.example.com or https://example.com[:port] (no path)` };
  const normalized = normalizeOriginPattern(text);
  if (normalized === ANY_ORIGIN) return { ok: true, value: { scheme: null, host: null, subdomains: false, port: null } };
  if (normalized.length > MAX_ORIGIN_PATTERN_LENGTH) return invalid;
  const match = PATTERN.exec(normalized);
  if (!match) return invalid;
  const [, scheme, hostPart, port] = match as unknown as [string, string | undefined, string, string | undefined];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) return invalid;
  const subdomains = hostPart.startsWith('*.');
  const host = hostPart === ANY_ORIGIN ? null : canonicalHost(subdomains ? hostPart.slice(2) : hostPart);
  if (host === undefined) return invalid;
  return { ok: true, value: { scheme: scheme === undefined || scheme === ANY_ORIGIN ? null : scheme, host, subdomains, port: port === undefined ? null : String(Number(port)) } };
}

/**
 * The list as the API and the CLI store it: each pattern valid and normalized, duplicates
 * dropped, order kept. An empty list is allowed: no browser may post (requests without an origin
 * still may), as in Sentry.
 */
export function normalizeAllowedOrigins(texts: readonly string[]): Parsed<string[]> {
  if (texts.length > MAX_ALLOWED_ORIGINS) return { ok: false, reason: `at most ${MAX_ALLOWED_ORIGINS} allowed origins` };
  for (const text of texts) {
    const pattern = parseOriginPattern(text);
    if (!pattern.ok) return pattern;
  }
  return { ok: true, value: [...new Set(texts.map(normalizeOriginPattern))] };
}

/** Ingest's compiled form of a stored list; a pattern that does not parse is ignored, as Sentry does. */
export function compileAllowedOrigins(texts: readonly string[]): AllowedOrigins {
  const patterns = texts.flatMap((text) => {
    const pattern = parseOriginPattern(text);
    return pattern.ok ? [pattern.value] : [];
  });
  return patterns.some((pattern) => pattern.scheme === null && pattern.host === null && pattern.port === null) ? ALLOW_ANY_ORIGIN : { any: false, patterns };
}

interface RequestOrigin {
  scheme: string;
  host: string;
  /** Explicit, or the scheme's default. */
  port: string;
}

function parseRequestOrigin(text: string): RequestOrigin | undefined {
  try {
    const url = new URL(text);
    const scheme = url.protocol.slice(0, -1);
    // No host (`file://`, `about:blank`): an empty one, which only a pattern of any host matches.
    return { scheme, host: url.hostname, port: url.port || (DEFAULT_PORTS[scheme] ?? '') };
  } catch {
    return undefined;
  }
}

function matches(origin: RequestOrigin, pattern: OriginPattern): boolean {
  if (pattern.scheme !== null && pattern.scheme !== origin.scheme) return false;
  if (pattern.port !== null && pattern.port !== origin.port) return false;
  if (pattern.host === null) return true;
  return origin.host === pattern.host || (pattern.subdomains && origin.host.endsWith(`.${pattern.host}`));
}

/** Whether a page at `origin` (an Origin header's value) may post; a malformed origin may not. */
export function isOriginAllowed(origin: string, allowed: AllowedOrigins): boolean {
  if (allowed.any) return true;
  const parsed = parseRequestOrigin(origin);
  return parsed !== undefined && allowed.patterns.some((pattern) => matches(parsed, pattern));
}
