import { type Appender, dropExpiredPartitions, type Logger, type Pool } from '@trapline/runtime';
import { bySize } from '../domain/batch.ts';
import type { BatchResult } from './apply-batch.ts';

// Settle: what a committed batch left to do, before its offset is committed: the dead letters
// appended, the partitions an expiry emptied dropped, the expired events erased from the log.

export interface SettleDeps {
  pool: Pool;
  appender: Appender;
  dlqTopic: string;
  logger: Logger;
}

const DLQ_REQUEST_BYTES = 512 * 1024;

/** Expired partitions left empty by an expiry go now, or at the next try (app.ts retries every few seconds) if readers hold the tables. Returns whether they went. */
export async function dropEmptiedPartitions({ pool, logger }: Pick<SettleDeps, 'pool' | 'logger'>): Promise<boolean> {
  try {
    const dropped = await dropExpiredPartitions(pool);
    if (dropped.length > 0) logger.info({ partitions: dropped.length }, 'expired partitions dropped');
    return true;
  } catch (error) {
    logger.warn({ err: error }, 'expired partitions not dropped yet; tried again in a few seconds');
    return false;
  }
}

/** Returns whether partitions were dropped (the consumer's cache of them is then stale). */
export async function settle(result: BatchResult, origin: { topic: string; partition: number }, deps: SettleDeps): Promise<boolean> {
  const { deadLetters, effects } = result;
  if (deadLetters.length > 0) {
    deps.logger.warn({ ...origin, count: deadLetters.length }, 'records dead-lettered');
    // In requests well below the broker's message size limit: a batch of large poison records
    // sent at once would be refused as too large, and the partition would never move on.
    for (const part of bySize(deadLetters, DLQ_REQUEST_BYTES)) await deps.appender.appendRaw(deps.dlqTopic, part);
  }
  const dropped = effects.partitionsEmptied && (await dropEmptiedPartitions(deps));
  if (effects.erasures.length > 0) {
    const keys = [...new Set(effects.erasures)];
    deps.logger.info({ ...origin, count: keys.length }, 'expired events erased from the log');
    await deps.appender.append(origin.topic, keys.map((key) => ({ key, tombstone: true as const })));
  }
  return dropped;
}
