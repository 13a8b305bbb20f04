import { describe, expect, it } from 'vitest';
import { affordable, wordConditions, wordQuery } from './text-words.ts';

// The word-index conditions at their edges: a run both ending a word and beginning one, and a
// budget met exactly or passed only by the conditions together.

describe('a run that is both an exact entry and a prefix', () => {
  it('gives both conditions, each once', () => {
    expect(wordConditions(["field123'", 'field123', "field123'"])).toEqual([
      { run: 'field123', prefix: false },
      { run: 'field123', prefix: true },
    ]);
    expect(wordQuery(['field123', "field123'"], [7])).toBe(`('7.field123':* & '7.field123') | '~'`);
  });
});

describe('the budget of postings', () => {
  // Two entries outside the most common ones (each estimated as the least common: 2,000 postings).
  const statistics = { entries: ['1.cannot'], frequencies: [0.5, 0.002, 0.5, 0], issues: 1_000_000 };
  const conditions = wordConditions(["field7'", "other9'"]);

  it('takes a condition whose postings meet the budget exactly', () => {
    expect(affordable(conditions, statistics, 4_000, [1])).toEqual(conditions);
    expect(affordable(conditions, statistics, 2_000, [1])).toEqual([{ run: 'field7', prefix: false }]);
  });

  it('counts the postings of the conditions taken together', () => {
    expect(affordable(conditions, statistics, 3_999, [1])).toEqual([{ run: 'field7', prefix: false }]);
  });
});
