// The bulk load's tag values summed in memory as its events are placed, instead of one
// INSERT … SELECT … GROUP BY over every events row at the end (a scan of the whole table, 5 s of
// the 8 s of indexing at a million events: bench/results/2026-12-08-binary-copy.md).
//
// The parse workers name each (key, value) pair of a partition by a number the first time they meet
// it (`TagPairs`) and send the numbers of each event's tags; the loader adds each placed event to
// its issue's sums by those numbers (`TagSums`), and writes the sums once, as the aggregate did. Both
// are bounded: past `maxValues` sums or pairs (or the pairs a worker numbers in a partition) the sums are given up and the
// aggregate over the table runs instead, with the same result.

/** Pairs of one partition, numbered in the order they were first met. */
export class TagPairs {
  /** key → value → number (no string made per tag to look it up). */
  private readonly ids = new Map<string, Map<string, number>>();
  private size = 0;
  private added: string[] = [];
  private eventIds: number[] = [];
  private full = false;

  constructor(private readonly maxPairs = 1_000_000) {}

  /** An event's tags; false once the partition has more distinct pairs than `maxPairs` (numbering stops). */
  add(tags: readonly (readonly [string, string])[]): boolean {
    if (this.full) return false;
    for (const [key, value] of tags) {
      let values = this.ids.get(key);
      if (values === undefined) this.ids.set(key, (values = new Map()));
      let id = values.get(value);
      if (id === undefined) {
        if (this.size >= this.maxPairs) {
          this.full = true;
          this.ids.clear();
          return false;
        }
        values.set(value, (id = this.size++));
        this.added.push(key, value);
      }
      this.eventIds.push(id);
    }
    return true;
  }

  /**
   * What a batch carries since the last take: the numbers of its events' tags, event after event
   * (each event's as many as its tags), and the pairs first met meanwhile (key, value, …), numbered
   * from `from`. Null once numbering stopped.
   */
  take(): { ids: Uint32Array; added: string[]; from: number } | null {
    if (this.full) return null;
    const added = this.added;
    const taken = { ids: Uint32Array.from(this.eventIds), added, from: this.size - added.length / 2 };
    this.added = [];
    this.eventIds = [];
    return taken;
  }
}

/** An issue's count, first and last seen of one tag value (the live projector's run sums too, read-models/events.ts). */
export interface TagValueSum {
  groupId: number;
  projectId: number;
  key: string;
  value: string;
  count: number;
  first: number;
  last: number;
}

/** Per issue and pair: count, first and last seen. */
export class TagSums {
  private readonly pairs = new Map<number, string[]>();
  private readonly groups = new Map<number, { partition: number; projectId: number; slots: Map<number, number> }>();
  private counts = new Float64Array(1024);
  private firsts = new Float64Array(1024);
  private lasts = new Float64Array(1024);
  private size = 0;
  private learned = 0;
  /** Why the sums were given up (then `rows` has nothing and the aggregate runs). */
  gaveUp: string | undefined;

  constructor(private readonly maxValues = 2_000_000) {}

  /** Pairs a partition's worker met first in a batch (`TagPairs.take`); null: it stopped numbering them. */
  learn(partition: number, taken: { added: string[]; from: number } | null): void {
    if (this.gaveUp) return;
    if (taken === null) return this.giveUp(`partition ${partition} has more distinct tag values than its reader numbers`);
    let pairs = this.pairs.get(partition);
    if (!pairs) this.pairs.set(partition, (pairs = []));
    if (pairs.length / 2 !== taken.from) return this.giveUp(`partition ${partition}'s tag pairs came out of order`);
    this.learned += taken.added.length / 2;
    if (this.learned > this.maxValues) return this.giveUp(`more than ${this.maxValues} distinct tag values`);
    for (const name of taken.added) pairs.push(name);
  }

  /** A placed event of `groupId` received at `at`: its tags are `ids[start, end)`, numbered in `partition`. */
  add(partition: number, groupId: number, projectId: number, ids: Uint32Array, start: number, end: number, at: number): void {
    if (this.gaveUp) return;
    let group = this.groups.get(groupId);
    if (!group) this.groups.set(groupId, (group = { partition, projectId, slots: new Map() }));
    else if (group.partition !== partition) return this.giveUp(`issue ${groupId} has events in partitions ${group.partition} and ${partition}`);
    for (let index = start; index < end; index += 1) {
      const pair = ids[index]!;
      let slot = group.slots.get(pair);
      if (slot === undefined) {
        if (this.size >= this.maxValues) return this.giveUp(`more than ${this.maxValues} tag values`);
        slot = this.size++;
        if (slot === this.counts.length) this.grow();
        group.slots.set(pair, slot);
        this.counts[slot] = 1;
        this.firsts[slot] = at;
        this.lasts[slot] = at;
      } else {
        this.counts[slot]! += 1;
        if (at < this.firsts[slot]!) this.firsts[slot] = at;
        if (at > this.lasts[slot]!) this.lasts[slot] = at;
      }
    }
  }

  /** Every sum, issue by issue. */
  *rows(): Generator<TagValueSum> {
    if (this.gaveUp) return;
    for (const [groupId, { partition, projectId, slots }] of this.groups) {
      const pairs = this.pairs.get(partition)!;
      for (const [pair, slot] of slots) {
        yield { groupId, projectId, key: pairs[2 * pair]!, value: pairs[2 * pair + 1]!, count: this.counts[slot]!, first: this.firsts[slot]!, last: this.lasts[slot]! };
      }
    }
  }

  private giveUp(reason: string): void {
    this.gaveUp = reason;
    this.pairs.clear();
    this.groups.clear();
    this.counts = this.firsts = this.lasts = new Float64Array(0);
    this.size = 0;
  }

  private grow(): void {
    const grown = (from: Float64Array) => {
      const to = new Float64Array(2 * from.length);
      to.set(from);
      return to;
    };
    this.counts = grown(this.counts);
    this.firsts = grown(this.firsts);
    this.lasts = grown(this.lasts);
  }
}
