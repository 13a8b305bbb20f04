import { describe, expect, it } from 'vitest';
import { wordQuery } from './text-words.ts';

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
