import type { Logger, Redis } from '@trapline/runtime';
import { decideRateLimit, windowStart, type RateLimitDecision } from '../domain/rate-limit.ts';

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

  get enabled(): boolean {
    return this.limits.projectPerWindow > 0 || this.limits.keyPerWindow > 0;
  }

  async check(projectId: number, publicKey: string, events: number, nowMs: number): Promise<RateLimitDecision> {
    if (!this.enabled || events === 0) return { allowed: true };
    const window = windowStart(nowMs, this.limits.windowSeconds);
    const projectKey = `${this.namespace}:rl:project:${projectId}:${window}`;
    const keyKey = `${this.namespace}:rl:key:${publicKey}:${window}`;
    try {
      const results = await this.redis
        .multi()
        .incrby(projectKey, events)
        .expire(projectKey, this.limits.windowSeconds * 2)
        .incrby(keyKey, events)
        .expire(keyKey, this.limits.windowSeconds * 2)
        .exec();
      const used = (index: number) => Number(results?.[index]?.[1] ?? 0);
      return decideRateLimit(
        [
          { scope: 'project', used: used(0), limit: this.limits.projectPerWindow },
          { scope: 'key', used: used(2), limit: this.limits.keyPerWindow },
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
