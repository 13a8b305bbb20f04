import type { Logger, Redis } from '@trapline/runtime';
import { decideRateLimit, windowStart, type RateLimitDecision } from '../domain/rate-limit.ts';
import type { ProjectKey } from '../domain/auth.ts';
import { perTurn } from './per-turn.ts';

export interface RateLimits {
  projectPerWindow: number;
  keyPerWindow: number;
  windowSeconds: number;
}

/**
 * Fixed-window counters in Redis, per project and per DSN key. Fails open: when Redis does not
 * answer, events are accepted (and a warning logged) rather than refused.
 */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly limits: RateLimits,
    private readonly logger: Logger,
  ) {}

  /** Whether anything limits this key: the deployment's limits or the key's own. */
  private limited(key: ProjectKey): boolean {
    return this.limits.projectPerWindow > 0 || this.limits.keyPerWindow > 0 || (key.rateLimit?.count ?? 0) > 0;
  }

  /** Counts each request's events in its windows; the requests of one event-loop turn in one MULTI. */
  private readonly count = perTurn(async (requests: { projectKey: string; keyKey: string; keyWindowSeconds: number; events: number }[]) => {
    const transaction = this.redis.multi();
    const ttl = this.limits.windowSeconds * 2;
    for (const { projectKey, keyKey, keyWindowSeconds, events } of requests) transaction.incrby(projectKey, events).expire(projectKey, ttl).incrby(keyKey, events).expire(keyKey, keyWindowSeconds * 2);
    const results = await transaction.exec();
    const used = (index: number) => Number(results?.[index]?.[1] ?? 0);
    return requests.map((_, request) => ({ project: used(request * 4), key: used(request * 4 + 2) }));
  });

  /** A key with its own rate limit (Sentry's rateLimit) is counted in its own window, against its own count. */
  async check(projectId: number, key: ProjectKey, events: number, nowMs: number): Promise<RateLimitDecision> {
    if (!this.limited(key) || events === 0) return { allowed: true };
    const window = windowStart(nowMs, this.limits.windowSeconds);
    const keyLimit = key.rateLimit ? { limit: key.rateLimit.count, windowSeconds: key.rateLimit.window } : { limit: this.limits.keyPerWindow, windowSeconds: this.limits.windowSeconds };
    const keyWindow = windowStart(nowMs, keyLimit.windowSeconds);
    try {
      const used = await this.count({
        projectKey: `${this.namespace}:rl:project:${projectId}:${window}`,
        keyKey: `${this.namespace}:rl:key:${key.publicKey}:${keyLimit.windowSeconds}:${keyWindow}`,
        keyWindowSeconds: keyLimit.windowSeconds,
        events,
      });
      return decideRateLimit(
        [
          { scope: 'project', used: used.project, limit: this.limits.projectPerWindow },
          { scope: 'key', used: used.key, ...keyLimit },
        ],
        nowMs,
        this.limits.windowSeconds,
      );
    } catch (error) {
      this.logger.warn({ err: error }, 'rate limiter unavailable; accepting');
      return { allowed: true };
    }
  }
}
