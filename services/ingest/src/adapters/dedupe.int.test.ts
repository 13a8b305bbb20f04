import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createRedis, readConfig, type Redis } from '@trapline/runtime';
import { Dedupe } from './dedupe.ts';

// Dedupe against the real Redis: what one turn marks (one script call) is seen by later lookups
// (and by the lookups of the same turn, sent after the marks), for the window only, and per project.

let redis: Redis;
const namespace = `t${randomBytes(4).toString('hex')}`;
const id = (n: number) => n.toString(16).padStart(32, '0');

beforeAll(async () => {
  redis = createRedis(readConfig().REDIS_URL);
  await redis.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${namespace}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('dedupe', () => {
  it('sees the ids the requests of one turn marked, each with the window as its expiry, and only in their project', async () => {
    const dedupe = new Dedupe(redis, namespace, 300, createLogger('test', 'silent'));
    expect(await dedupe.seen(1, [id(1), id(2), id(3)])).toEqual(new Set());
    await Promise.all([dedupe.markAppended(1, [id(1)]), dedupe.markAppended(1, [id(2)]), dedupe.markAppended(2, [id(3)])]);
    const [inProject1, inProject2] = await Promise.all([dedupe.seen(1, [id(1), id(2), id(3)]), dedupe.seen(2, [id(1), id(3)])]);
    expect(inProject1).toEqual(new Set([id(1), id(2)]));
    expect(inProject2).toEqual(new Set([id(3)]));
    const ttl = await redis.ttl(`${namespace}:seen:1:${id(1)}`);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it("answers a turn's lookups and marks together, the marks first, each request its own ids", async () => {
    const dedupe = new Dedupe(redis, namespace, 300, createLogger('test', 'silent'));
    await dedupe.markAppended(4, [id(20)]);
    const [, retried, other, fresh] = await Promise.all([
      dedupe.markAppended(4, [id(21), id(22)]),
      dedupe.seen(4, [id(21), id(23)]),
      dedupe.seen(4, [id(20)]),
      dedupe.seen(5, [id(21)]),
    ]);
    expect(retried).toEqual(new Set([id(21)]));
    expect(other).toEqual(new Set([id(20)]));
    expect(fresh).toEqual(new Set());
    expect(await dedupe.seen(4, [id(22), id(23)])).toEqual(new Set([id(22)]));
  });

  it('finds a mark not waited for in any lookup asked after it, in the same turn or a later one', async () => {
    const dedupe = new Dedupe(redis, namespace, 300, createLogger('test', 'silent'));
    void dedupe.markAppended(6, [id(30)]);
    const sameTurn = dedupe.seen(6, [id(30)]);
    void dedupe.markAppended(6, [id(31)]);
    // A later turn, while the first batch may still be unanswered: what an SDK's retry after the answer would ask.
    await new Promise((resolve) => setImmediate(resolve));
    const laterTurn = dedupe.seen(6, [id(31), id(32)]);
    expect(await sameTurn).toEqual(new Set([id(30)]));
    expect(await laterTurn).toEqual(new Set([id(31)]));
  });

  it('forgets an id once the window has passed', async () => {
    const dedupe = new Dedupe(redis, namespace, 1, createLogger('test', 'silent'));
    await dedupe.markAppended(7, [id(9)]);
    expect(await dedupe.seen(7, [id(9)])).toEqual(new Set([id(9)]));
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await dedupe.seen(7, [id(9)])).toEqual(new Set());
  });
});
