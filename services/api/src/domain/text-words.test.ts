import { describe, expect, it } from 'vitest';
import { affordable, cutConditions, decides, fewPostings, postings, wordConditions, wordQuery, worthReading } from './text-words.ts';

describe('free-text terms as word-index queries', () => {
  it.each<[string[], string | undefined]>([
    [['module12'], `('1.module12':*) | '~'`],
    [["field123'"], `('1.field123') | '~'`],
    [['Cannot read'], `('1.cannot' & '1.read':*) | '~'`],
    [['module12', 'handler12'], `('1.module12':* & '1.handler12':*) | '~'`],
    [['(reading'], `('1.reading':*) | '~'`],
    [['ALPHA', 'alpha'], `('1.alpha':*) | '~'`],
    [['#12'], undefined],
    [['ab'], undefined],
    [['a.b.cde'], `('1.cde':*) | '~'`],
    [['Ünïcode'], undefined],
    [['Ünïcode', 'beta'], `('1.beta':*) | '~'`],
    [['50%_x\\y'], undefined],
    [['100%'], `('1.100') | '~'`],
  ])('%j → %s', (terms, query) => {
    expect(wordQuery(terms, [1])).toBe(query);
  });

  it('reads the entries of each project asked for, once each, and none for no project', () => {
    expect(wordQuery(['module12', 'handler12'], [1, 12, 1])).toBe(`('1.module12':* & '1.handler12':*) | ('12.module12':* & '12.handler12':*) | '~'`);
    expect(wordQuery(['module12'], [])).toBeUndefined();
  });
});

describe('the conditions a read can afford', () => {
  // Frequencies as pg_stats gives them: one per entry, then the least, the greatest and the null one.
  const statistics = { entries: ['1.cannot', '1.handler12', '1.read', '1.reading', '2.handler12', '12.handler12'], frequencies: [1, 0.02, 1, 1, 0.01, 0.05, 0.003, 1, 0], issues: 1_000_000 };

  it('estimates an entry by its frequency, a prefix by the sum of its entries, anything else as the least common', () => {
    expect(postings({ run: 'handler12', prefix: false }, statistics, [1])).toBeCloseTo(23_000);
    expect(postings({ run: 'read', prefix: true }, statistics, [1])).toBeCloseTo(2_003_000);
    expect(postings({ run: 'field7', prefix: false }, statistics, [1])).toBeCloseTo(3_000);
  });

  it('in the projects asked for only, each project once', () => {
    expect(postings({ run: 'handler12', prefix: true }, statistics, [2])).toBeCloseTo(13_000);
    expect(postings({ run: 'handler12', prefix: true }, statistics, [1, 2, 1])).toBeCloseTo(36_000);
    expect(postings({ run: 'handler12', prefix: true }, statistics, [3])).toBeCloseTo(3_000);
    expect(postings({ run: 'handler12', prefix: true }, statistics, [])).toBe(0);
  });

  it('keeps the rarest conditions within the budget, and all of them without statistics', () => {
    const conditions = wordConditions(['Cannot', 'handler12', "field7'"]);
    expect(affordable(conditions, statistics, 40_000, [1])).toEqual([{ run: 'field7', prefix: false }, { run: 'handler12', prefix: true }]);
    expect(affordable(conditions, statistics, 10_000, [1])).toEqual([{ run: 'field7', prefix: false }]);
    expect(affordable(wordConditions(['Cannot read']), statistics, 40_000, [1])).toEqual([]);
    expect(affordable(conditions, undefined, 0, [1])).toEqual(conditions);
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
  const statistics = { entries: ['1.module180', '1.module181', '1.handler18', '1.cannot'], frequencies: [0.009, 0.009, 0.02, 1, 0.003, 1, 0], issues: 1_000_000 };

  it('adds a condition past the budget when it spares fetching more issues than it has postings', () => {
    const conditions = wordConditions(['module18', 'handler18']);
    expect(affordable(conditions, statistics, 40_000, [1])).toEqual([{ run: 'module18', prefix: true }]);
    expect(worthReading(conditions, statistics, 40_000, 4, [1])).toEqual([{ run: 'module18', prefix: true }, { run: 'handler18', prefix: true }]);
    expect(worthReading(conditions, statistics, 40_000, 1, [1])).toEqual([{ run: 'module18', prefix: true }]);
  });

  it('never past the budget alone, nor with a condition held by nearly every issue', () => {
    expect(worthReading(wordConditions(['Cannot']), statistics, 40_000, 4, [1])).toEqual([]);
    expect(worthReading(wordConditions(['handler18', 'Cannot']), statistics, 40_000, 4, [1])).toEqual([{ run: 'handler18', prefix: true }]);
    expect(worthReading(wordConditions(['handler18']), undefined, 0, 4, [1])).toEqual(wordConditions(['handler18']));
  });
});

describe('the conditions a cut reads', () => {
  const statistics = { entries: ['1.module180', '1.module181', '1.handler18', '1.cannot', '1.field7'], frequencies: [0.009, 0.009, 0.02, 1, 0.001, 0.003, 1, 0], issues: 1_000_000 };

  it('the rarest, and another only when it spares fetching more of the cut than it has postings', () => {
    const conditions = wordConditions(['module18', 'handler18']);
    expect(cutConditions(conditions, statistics, 40_000, 4, [1], 1)).toEqual([{ run: 'module18', prefix: true }, { run: 'handler18', prefix: true }]);
    expect(cutConditions(conditions, statistics, 40_000, 4, [1], 0.07)).toEqual([{ run: 'module18', prefix: true }]);
    expect(cutConditions(wordConditions(['Cannot']), statistics, 40_000, 4, [1], 0.07)).toEqual([]);
  });

  it('none to cut for when an exact entry read is rare', () => {
    expect(fewPostings(wordConditions(["field7'"]), statistics, [1], 4_000)).toBe(true);
    expect(fewPostings(wordConditions(['field7']), statistics, [1], 4_000)).toBe(false);
    expect(fewPostings(wordConditions(["handler18'"]), statistics, [1], 4_000)).toBe(false);
  });
});
