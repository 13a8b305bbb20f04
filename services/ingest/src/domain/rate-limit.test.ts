import { describe, expect, it } from 'vitest';
import { decideRateLimit, sentryRateLimitHeader, windowStart } from './rate-limit.ts';

const at = (seconds: number) => seconds * 1000;

describe('rate limits', () => {
  it.each([
    [[{ scope: 'project' as const, used: 10, limit: 10 }], true],
    [[{ scope: 'project' as const, used: 11, limit: 10 }], false],
    [[{ scope: 'project' as const, used: 1e6, limit: 0 }], true],
    [[{ scope: 'project' as const, used: 5, limit: 10 }, { scope: 'key' as const, used: 3, limit: 2 }], false],
  ])('usage %j allowed: %s', (usages, allowed) => {
    expect(decideRateLimit(usages, at(120), 60).allowed).toBe(allowed);
  });

  it('says how long until the window ends and which scope hit its limit', () => {
    const decision = decideRateLimit([{ scope: 'key', used: 3, limit: 2 }], at(125.5), 60);
    expect(decision).toEqual({ allowed: false, retryAfterSeconds: 55, scope: 'key' });
    expect(sentryRateLimitHeader(decision as Extract<typeof decision, { allowed: false }>)).toBe('55:error;default:key');
  });

  it("waits for the end of a key's own window when the key's limit is hit", () => {
    expect(decideRateLimit([{ scope: 'project', used: 1, limit: 0 }, { scope: 'key', used: 6, limit: 5, windowSeconds: 3600 }], at(4000), 60)).toEqual({ allowed: false, retryAfterSeconds: 3200, scope: 'key' });
  });

  it('never asks for less than a second', () => {
    expect(decideRateLimit([{ scope: 'project', used: 2, limit: 1 }], at(179.9), 60)).toMatchObject({ retryAfterSeconds: 1 });
  });

  it('aligns windows to their length', () => {
    expect(windowStart(at(125), 60)).toBe(120);
    expect(windowStart(at(119.99), 60)).toBe(60);
  });
});
