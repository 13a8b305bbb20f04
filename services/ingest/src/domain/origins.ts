import { ANY_ORIGIN, isOriginAllowed, type AllowedOrigins } from '@trapline/schemas';

// CORS for browser SDKs: the origin a request comes from and what ingest answers about it, by the
// project's allowed origins (`@trapline/schemas`' allowed-origins.ts says what a pattern matches).

/**
 * The origin a request comes from: its Origin header, else (no Origin, or the `null` a browser
 * sends for privacy) the scheme, host and port of its Referer, as Sentry does. Undefined when
 * neither names one.
 */
export function requestOrigin(origin: string | undefined, referer: string | undefined): string | undefined {
  if (origin && origin !== 'null') return origin;
  if (!referer) return undefined;
  try {
    const url = new URL(referer);
    // As Sentry's origin_from_url: a Referer without a host (a page opened from disk) is `file://`.
    return `${url.protocol}//${url.host}`;
  } catch {
    return referer;
  }
}

export type CorsDecision = { allowed: true; headers: Record<string, string> } | { allowed: false; origin: string; headers: Record<string, string> };

/**
 * What ingest answers a request about CORS: with the default `*`, `Access-Control-Allow-Origin: *`;
 * with a list, the request's origin echoed when it is allowed and nothing when it is not (the
 * browser then keeps the answer from the page). `Vary: Origin` always: the answer depends on it.
 */
// What every request to a project allowing any origin (the default) is answered: one object for all.
const ANY_ORIGIN_DECISION: CorsDecision = Object.freeze({ allowed: true, headers: Object.freeze({ 'access-control-allow-origin': ANY_ORIGIN, vary: 'Origin' }) });

export function decideCors(allowed: AllowedOrigins, originHeader: string | undefined, referer: string | undefined): CorsDecision {
  if (allowed.any) return ANY_ORIGIN_DECISION;
  const vary = { vary: 'Origin' };
  const origin = requestOrigin(originHeader, referer);
  if (origin === undefined) return { allowed: true, headers: vary };
  if (!isOriginAllowed(origin, allowed)) return { allowed: false, origin, headers: vary };
  return { allowed: true, headers: { 'access-control-allow-origin': origin, ...vary } };
}
