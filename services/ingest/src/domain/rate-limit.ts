// Rate limits as a pure decision over fixed windows: given how many events a scope has used in
// the current window (after this request), allow it or say when to retry, in Sentry's header format.

export type RateLimitScope = 'project' | 'key';

export interface WindowUsage {
  scope: RateLimitScope;
  /** Events counted in the current window, including this request's. */
  used: number;
  /** Allowed per window; 0 means unlimited. */
  limit: number;
  /** This scope's own window (a DSN key's rate limit), else the deployment's. */
  windowSeconds?: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; scope: RateLimitScope };

/** The start of the fixed window `nowMs` falls in. */
export function windowStart(nowMs: number, windowSeconds: number): number {
  return Math.floor(nowMs / 1000 / windowSeconds) * windowSeconds;
}

export function decideRateLimit(usages: WindowUsage[], nowMs: number, windowSeconds: number): RateLimitDecision {
  const exceeded = usages.find((usage) => usage.limit > 0 && usage.used > usage.limit);
  if (!exceeded) return { allowed: true };
  const window = exceeded.windowSeconds ?? windowSeconds;
  const retryAfterSeconds = Math.max(1, Math.ceil(windowStart(nowMs, window) + window - nowMs / 1000));
  return { allowed: false, retryAfterSeconds, scope: exceeded.scope };
}

/** `X-Sentry-Rate-Limits`: `retry_after:categories:scope`; SDKs stop sending those categories meanwhile. */
export function sentryRateLimitHeader(decision: Extract<RateLimitDecision, { allowed: false }>): string {
  return `${decision.retryAfterSeconds}:error;default:${decision.scope}`;
}
