import { describe, expect, it } from 'vitest';
import { bySize } from './consumer.ts';

const record = (bytes: number) => ({ key: 'k', value: Buffer.alloc(bytes - 1) });

describe('dead letters in requests below the broker limit', () => {
  it('splits consecutive records at the byte limit, in order, a larger record alone', () => {
    const records = [record(300), record(300), record(300), record(900), record(100)];
    expect(bySize(records, 700).map((part) => part.map((entry) => entry.value.length + 1))).toEqual([[300, 300], [300], [900], [100]]);
  });
  it('sends nothing for nothing', () => {
    expect(bySize([], 10)).toEqual([]);
  });
});
