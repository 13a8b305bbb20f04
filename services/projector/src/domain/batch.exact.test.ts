import { describe, expect, it } from 'vitest';
import { bySize } from './batch.ts';

// Parts by size at their edges: keys count, a missing key or value counts nothing, a part fills
// up to the limit exactly, and a first record over the limit is a part alone (never an empty one).

const lengths = (parts: { key: Buffer | string | null; value: Buffer | null }[][]) => parts.map((part) => part.map((entry) => `${entry.key?.length ?? '-'}+${entry.value?.length ?? '-'}`));

describe('parts by size', () => {
  it('counts the key as well as the value', () => {
    const records = [{ key: 'k'.repeat(60), value: Buffer.alloc(40) }, { key: 'k'.repeat(60), value: Buffer.alloc(40) }];
    expect(lengths(bySize(records, 150))).toEqual([['60+40'], ['60+40']]);
  });

  it('counts nothing for a missing key or value', () => {
    const records = [{ key: null, value: Buffer.alloc(100) }, { key: 'k'.repeat(100), value: null }, { key: null, value: null }];
    expect(lengths(bySize(records, 200))).toEqual([['-+100', '100+-', '-+-']]);
  });

  it('fills a part to the limit exactly', () => {
    const records = [{ key: 'a', value: Buffer.alloc(49) }, { key: 'b', value: Buffer.alloc(49) }, { key: 'c', value: Buffer.alloc(0) }];
    expect(lengths(bySize(records, 100))).toEqual([['1+49', '1+49'], ['1+0']]);
  });

  it('sends a first record over the limit alone, in no empty part', () => {
    expect(lengths(bySize([{ key: 'a', value: Buffer.alloc(500) }], 100))).toEqual([['1+500']]);
  });
});
