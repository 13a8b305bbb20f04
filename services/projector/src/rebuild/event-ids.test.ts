import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventIds } from './event-ids.ts';

// The bulk load's set of stored event ids against a Set of the same strings: the same answers for
// hex ids (packed), ids of any other form (kept apart) and ids that differ in one digit, through
// the table's growth.

describe('EventIds', () => {
  it('answers as a Set of the ids would, through many growths', () => {
    const ids = new EventIds();
    const expected = new Set<string>();
    for (let n = 0; n < 20000; n += 1) {
      const id = (n * 7919).toString(16).padStart(32, '0');
      ids.add(id);
      expected.add(id);
      if (n % 3 === 0) ids.add(id); // again: no change
    }
    expect(ids.size).toBe(expected.size);
    const wrong: string[] = [];
    for (let n = 0; n < 40000; n += 1) {
      const id = n.toString(16).padStart(32, '0');
      if (ids.has(id) !== expected.has(id)) wrong.push(id);
    }
    expect(wrong).toEqual([]);
  });

  it('tells apart ids one digit apart, the all-zero id, and ids that are not lowercase hex', () => {
    const ids = new EventIds();
    const zero = '0'.repeat(32);
    expect(ids.has(zero)).toBe(false);
    ids.add(zero);
    expect(ids.has(zero)).toBe(true);
    const base = 'abcdef0123456789abcdef0123456789';
    ids.add(base);
    for (let at = 0; at < 32; at += 1) expect(ids.has(`${base.slice(0, at)}${base[at] === 'a' ? 'b' : 'a'}${base.slice(at + 1)}`)).toBe(false);
    for (const other of [base.toUpperCase(), `${base}0`, base.slice(1), 'not-an-id', '']) {
      expect(ids.has(other)).toBe(false);
      ids.add(other);
      expect(ids.has(other)).toBe(true);
    }
    expect(ids.has('abcdef0123456789abcdef012345678g')).toBe(false);
    expect(ids.size).toBe(7);
  });

  it('holds what a Set holds, whatever the ids', () => {
    const id = fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.string({ maxLength: 40 }));
    fc.assert(fc.property(fc.array(id, { maxLength: 300 }), fc.array(id, { maxLength: 50 }), (added, probed) => {
      const ids = new EventIds();
      for (const value of added) ids.add(value);
      const expected = new Set(added);
      expect(ids.size).toBe(expected.size);
      expect([...added, ...probed].filter((value) => ids.has(value) !== expected.has(value))).toEqual([]);
    }), { numRuns: 200 });
  });
});
