import { describe, expect, it } from 'vitest';
import { affordable, decides, postings, wordConditions, wordQuery, worthReading } from './text-words.ts';

describe('free-text terms as word-index queries', () => {
  it.each<[string[], string | undefined]>([
    [['module12'], `('module12':*) | '~'`],
    [["field123'"], `('field123') | '~'`],
    [['Cannot read'], `('cannot' & 'read':*) | '~'`],
    [['module12', 'handler12'], `('module12':* & 'handler12':*) | '~'`],
    [['(reading'], `('reading':*) | '~'`],
    [['ALPHA', 'alpha'], `('alpha':*) | '~'`],
    [['#12'], undefined],
    [['ab'], undefined],
    [['a.b.cde'], `('cde':*) | '~'`],
    [['Ünïcode'], undefined],
    [['Ünïcode', 'beta'], `('beta':*) | '~'`],
    [['50%_x\\y'], undefined],
    [['100%'], `('100') | '~'`],
  ])('%j → %s', (terms, query) => {
    expect(wordQuery(terms)).toBe(query);
  });
});

describe('the conditions a read can afford', () => {
  // Frequencies as pg_stats gives them: one per entry, then the least, the greatest and the null one.
  const statistics = { entries: ['cannot', 'handler12', 'read', 'reading'], frequencies: [1, 0.02, 1, 1, 0.003, 1, 0], issues: 1_000_000 };

  it('estimates an entry by its frequency, a prefix by the sum of its entries, anything else as the least common', () => {
    expect(postings({ run: 'handler12', prefix: false }, statistics)).toBeCloseTo(23_000);
    expect(postings({ run: 'read', prefix: true }, statistics)).toBeCloseTo(2_003_000);
    expect(postings({ run: 'field7', prefix: false }, statistics)).toBeCloseTo(3_000);
  });

  it('keeps the rarest conditions within the budget, and all of them without statistics', () => {
    const conditions = wordConditions(['Cannot', 'handler12', "field7'"]);
    expect(affordable(conditions, statistics, 40_000)).toEqual([{ run: 'field7', prefix: false }, { run: 'handler12', prefix: true }]);
    expect(affordable(conditions, statistics, 10_000)).toEqual([{ run: 'field7', prefix: false }]);
    expect(affordable(wordConditions(['Cannot read']), statistics, 40_000)).toEqual([]);
    expect(affordable(conditions, undefined, 0)).toEqual(conditions);
  });
});

describe('the terms the word index decides alone', () => {
  it.each<[string, string[], boolean]>([
    ['module12', ['module12'], true],
    ['MODULE12', ['module12'], true],
    ['module12', ['module12', 'handler12'], true],
    ["field123'", ["field123'"], false],
    ['mod1 in', ['mod1 in'], false],
    ['lph', ['lph'], true],
    ['ab', ['ab'], false],
    ['\u212aabc', ['\u212aabc'], false],
  ])('%s, its conditions read: %s', (term, read, decided) => {
    expect(decides(term, wordConditions(read))).toBe(decided);
  });

  it('not when its condition was left out as too common', () => {
    expect(decides('module12', wordConditions(['handler12']))).toBe(false);
  });
});

describe('the conditions worth reading', () => {
  // module18's entries estimated at 21,000 postings, handler18's at 23,000: together past the budget.
  const statistics = { entries: ['module180', 'module181', 'handler18', 'cannot'], frequencies: [0.009, 0.009, 0.02, 1, 0.003, 1, 0], issues: 1_000_000 };

  it('adds a condition past the budget when it spares fetching more issues than it has postings', () => {
    const conditions = wordConditions(['module18', 'handler18']);
    expect(affordable(conditions, statistics, 40_000)).toEqual([{ run: 'module18', prefix: true }]);
    expect(worthReading(conditions, statistics, 40_000, 4)).toEqual([{ run: 'module18', prefix: true }, { run: 'handler18', prefix: true }]);
    expect(worthReading(conditions, statistics, 40_000, 1)).toEqual([{ run: 'module18', prefix: true }]);
  });

  it('never past the budget alone, nor with a condition held by nearly every issue', () => {
    expect(worthReading(wordConditions(['Cannot']), statistics, 40_000, 4)).toEqual([]);
    expect(worthReading(wordConditions(['handler18', 'Cannot']), statistics, 40_000, 4)).toEqual([{ run: 'handler18', prefix: true }]);
    expect(worthReading(wordConditions(['handler18']), undefined, 0, 4)).toEqual(wordConditions(['handler18']));
  });
});
