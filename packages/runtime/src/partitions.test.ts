import { describe, expect, it } from 'vitest';
import { parsePartitionName, partitionHolding, partitionName, planPartition } from './partitions.ts';

const DAY = 86400;

describe('event partitions', () => {
  it('takes the width-aligned slot holding the time', () => {
    expect(planPartition((10 * DAY + 5) * 1000, DAY, [])).toEqual({ from: 10 * DAY, to: 11 * DAY });
    expect(planPartition(10 * DAY * 1000, DAY, [])).toEqual({ from: 10 * DAY, to: 11 * DAY });
  });

  it('never overlaps a partition made under another width', () => {
    // Hourly partitions exist for the first hours of day 10; the new daily slot starts after them and stops before the next.
    const existing = [{ from: 10 * DAY, to: 10 * DAY + 3600 }, { from: 10 * DAY + 7200, to: 10 * DAY + 10800 }, { from: 10 * DAY + 50000, to: 10 * DAY + 60000 }];
    expect(planPartition((10 * DAY + 3700) * 1000, DAY, existing)).toEqual({ from: 10 * DAY + 3600, to: 10 * DAY + 7200 });
    expect(planPartition((10 * DAY + 20000) * 1000, DAY, existing)).toEqual({ from: 10 * DAY + 10800, to: 10 * DAY + 50000 });
    expect(planPartition((10 * DAY + 70000) * 1000, DAY, existing)).toEqual({ from: 10 * DAY + 60000, to: 11 * DAY });
  });

  it('finds the partition holding a time, bounds inclusive at the start only', () => {
    const ranges = [{ from: 100, to: 200 }, { from: 200, to: 300 }];
    expect(partitionHolding(199_999, ranges)).toEqual({ from: 100, to: 200 });
    expect(partitionHolding(200_000, ranges)).toEqual({ from: 200, to: 300 });
    expect(partitionHolding(300_000, ranges)).toBeUndefined();
  });

  it('reads a range back from the name it was given, and nothing from other tables', () => {
    expect(parsePartitionName(partitionName('events', { from: 1700000000, to: 1700086400 }))).toEqual({ from: 1700000000, to: 1700086400 });
    expect(parsePartitionName('events_expired')).toBeNull();
    expect(parsePartitionName('event_tags_1_2')).toBeNull();
  });
});
