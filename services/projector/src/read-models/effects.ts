import type { PartitionRange } from '@trapline/runtime';

// What every read model's apply shares: what it is given besides the record and the caller's
// transaction, and what it returns for the consumer to do once that transaction has committed.

/** The events table's time partitions, as the batch applying the record sees them. */
export interface ApplyContext {
  /** Width of a new partition of the events table, in seconds. */
  partitionWidthSeconds: number;
  /** The partitions known to exist: a working copy of the consumer's cache, refreshed when one is missing. */
  partitions: PartitionRange[];
}

export const applyContext = (partitionWidthSeconds = 86400): ApplyContext => ({ partitionWidthSeconds, partitions: [] });

/** What follows from applying records, once their transaction has committed. */
export interface Effects {
  /**
   * Keys of events refused because they had expired already (received before the expiry horizon,
   * replayed or sent late) or were dropped: erased from the log.
   */
  erasures: readonly string[];
  /** An expiry emptied partitions: the empty tables are dropped. */
  partitionsEmptied: boolean;
}

export const NO_EFFECTS: Effects = Object.freeze({ erasures: Object.freeze([]), partitionsEmptied: false });

export const combinedEffects = (all: readonly Effects[]): Effects => ({ erasures: all.flatMap((effects) => effects.erasures), partitionsEmptied: all.some((effects) => effects.partitionsEmptied) });

/** The record itself can never be applied (dead-lettered, never retried). */
export class PoisonRecord extends Error {}
