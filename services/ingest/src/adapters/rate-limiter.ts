import type { Logger, Redis } from '@trapline/runtime';
import { decideRateLimit, windowStart, type RateLimitDecision } from '../domain/rate-limit.ts';
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

  get enabled(): boolean {
    return this.limits.projectPerWindow > 0 || this.limits.keyPerWindow > 0;
  }

  /** Counts each request's events in its windows; the requests of one event-loop turn in one MULTI. */
  private readonly count = perTurn(async (requests: { projectKey: string; keyKey: string; events: number }[]) => {
    const transaction = this.redis.multi();
    const ttl = this.limits.windowSeconds * 2;
    for (const { projectKey, keyKey, events } of requests) transaction.incrby(projectKey, events).expire(projectKey, ttl).incrby(keyKey, events).expire(keyKey, ttl);
    const results = await transaction.exec();
    const used = (index: number) => Number(results?.[index]?.[1] ?? 0);
    return requests.map((_, request) => ({ project: used(request * 4), key: used(request * 4 + 2) }));
  });

  async check(projectId: number, publicKey: string, events: number, nowMs: number): Promise<RateLimitDecision> {
    if (!this.enabled || events === 0) return { allowed: true };
    const window = windowStart(nowMs, this.limits.windowSeconds);
    try {
      const used = await this.count({ projectKey: `${this.namespace}:rl:project:${projectId}:${window}`, keyKey: `${this.namespace}:rl:key:${publicKey}:${window}`, events });
      return decideRateLimit(
        [
          { scope: 'project', used: used.project, limit: this.limits.projectPerWindow },
          { scope: 'key', used: used.key, limit: this.limits.keyPerWindow },
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
