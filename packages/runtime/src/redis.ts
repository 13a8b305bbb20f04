import { Redis } from 'ioredis';

export type { Redis };

/**
 * `autoPipelining`: commands issued within one turn of the event loop (by many concurrent requests)
 * go to Redis in one write and come back in one read, in the order they were issued.
 */
export function createRedis(url: string, options: { autoPipelining?: boolean } = {}): Redis {
  return new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false, enableAutoPipelining: options.autoPipelining ?? false });
}
