import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TagPairs, type TagValueSum, TagSums } from './tag-sums.ts';

type Tags = [string, string][];
interface Placed { partition: number; groupId: number; projectId: number; at: number; tags: Tags; stored: boolean }

/** The sums as the aggregate over the events rows makes them (count, min and max of the time per issue, key and value). */
function aggregate(events: Placed[]): TagValueSum[] {
  const sums = new Map<string, TagValueSum>();
  for (const event of events.filter((entry) => entry.stored)) {
    for (const [key, value] of event.tags) {
      const name = JSON.stringify([event.groupId, key, value]);
      const sum = sums.get(name);
      if (!sum) sums.set(name, { groupId: event.groupId, projectId: event.projectId, key, value, count: 1, first: event.at, last: event.at });
      else Object.assign(sum, { count: sum.count + 1, first: Math.min(sum.first, event.at), last: Math.max(sum.last, event.at) });
    }
  }
  return sorted([...sums.values()]);
}

const sorted = (sums: TagValueSum[]) => [...sums].sort((a, b) => a.groupId - b.groupId || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));

/** Events through the workers' numbering (batches of `batch` per partition) and the loader's sums, as the bulk load takes them. */
function summed(events: Placed[], batch: number, limits: { pairs?: number; values?: number } = {}): TagSums {
  const sums = new TagSums(limits.values);
  const readers = new Map<number, TagPairs>();
  const byPartition = new Map<number, Placed[]>();
  for (const event of events) byPartition.set(event.partition, [...(byPartition.get(event.partition) ?? []), event]);
  for (const [partition, placed] of byPartition) {
    for (let from = 0; from < placed.length; from += batch) {
      const slice = placed.slice(from, from + batch);
      let reader = readers.get(partition);
      if (!reader) readers.set(partition, (reader = new TagPairs(limits.pairs)));
      for (const event of slice) reader.add(event.tags);
      const taken = reader.take();
      sums.learn(partition, taken);
      let start = 0;
      for (const event of slice) {
        if (event.stored && taken) sums.add(partition, event.groupId, event.projectId, taken.ids, start, start + event.tags.length, event.at);
        start += event.tags.length;
      }
    }
  }
  return sums;
}

const text = fc.string({ unit: 'grapheme', maxLength: 6 });
// Issues of partition p are p*10 … p*10+3: an issue's events share their partition, as a project's do.
const placed = fc.record({ partition: fc.nat({ max: 2 }), issue: fc.nat({ max: 3 }), at: fc.integer({ min: 0, max: 10_000 }), tags: fc.array(fc.tuple(fc.constantFrom('a', 'b', 'a:', ':b', ''), text), { maxLength: 5 }), stored: fc.boolean() })
  .map(({ partition, issue, at, tags, stored }) => ({ partition, groupId: partition * 10 + issue, projectId: partition + 1, at, tags, stored }));

describe('TagSums', () => {
  it('sums the tags of the stored events as the aggregate over their rows does, whatever the batches', () => {
    fc.assert(fc.property(fc.array(placed, { maxLength: 80 }), fc.integer({ min: 1, max: 7 }), (events, batch) => {
      const sums = summed(events, batch);
      expect(sums.gaveUp).toBeUndefined();
      expect(sorted([...sums.rows()])).toEqual(aggregate(events));
    }), { numRuns: 300 });
  });

  it('names no two pairs alike, whatever their characters', () => {
    const events: Placed[] = [['a:', 'b'], ['a', ':b'], ['2:a', ''], ['', '2:a'], ['a:b', '']].map((tag, n) => ({ partition: 0, groupId: 1, projectId: 1, at: n, tags: [tag as [string, string]], stored: true }));
    expect(sorted([...summed(events, 2).rows()])).toEqual(aggregate(events));
  });

  it('gives up past its bounds, or for an issue with events in two partitions, and then holds nothing', () => {
    const many = Array.from({ length: 50 }, (_, n): Placed => ({ partition: 0, groupId: 1, projectId: 1, at: n, tags: [['id', `v${n}`]], stored: true }));
    expect(summed(many, 10, { values: 49 }).gaveUp).toBe('more than 49 distinct tag values');
    expect([...summed(many, 10, { values: 49 }).rows()]).toEqual([]);
    expect(summed(many, 10, { pairs: 49 }).gaveUp).toBe('partition 0 has more distinct tag values than its reader numbers');
    expect(summed(many, 10, { values: 50, pairs: 50 }).gaveUp).toBeUndefined();
    const split: Placed[] = [{ partition: 0, groupId: 7, projectId: 1, at: 1, tags: [['a', 'b']], stored: true }, { partition: 1, groupId: 7, projectId: 1, at: 2, tags: [['a', 'b']], stored: true }];
    expect(summed(split, 1).gaveUp).toBe('issue 7 has events in partitions 0 and 1');
    // The sums per issue and pair are bounded too, not only the pairs.
    const spread = Array.from({ length: 6 }, (_, n): Placed => ({ partition: 0, groupId: n, projectId: 1, at: n, tags: [['k', 'same']], stored: true }));
    expect(summed(spread, 3, { values: 5 }).gaveUp).toBe('more than 5 tag values');
  });
});
