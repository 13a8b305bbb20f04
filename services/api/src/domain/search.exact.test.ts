import { describe, expect, it } from 'vitest';
import { ISSUE_SORTS, linkHeader, parseCursor, parseIssueSearch, parseSort, parseStatsPeriod, type IssueSearch } from './search.ts';

// Sentry's issue search, sort, period and cursor, from plain query text: given the text, then
// exactly these filters, or exactly this refusal.

const none: IssueSearch = { statuses: [], levels: [], tags: [], text: [] };

describe('issue search', () => {
  it.each<[string, Partial<IssueSearch>]>([
    // is:archived is an alias of ignored: asked once.
    ['is:resolved is:archived is:ignored is:unresolved', { statuses: ['resolved', 'ignored', 'unresolved'] }],
    ['level:warning level:fatal', { levels: ['warning', 'fatal'] }],
    // A colon first or last is no key: the token is text.
    [':value', { text: [':value'] }],
    ['is:', { text: ['is:'] }],
    // Only the first colon splits.
    ['url:http://x:8080/', { tags: [['url', 'http://x:8080/']] }],
    // Quotes group text with spaces, anywhere in a token, and are removed.
    ['message:"a  b"c', { tags: [['message', 'a  bc']] }],
    ['"two words" more', { text: ['two words', 'more'] }],
    ['a"b c"d e', { text: ['ab cd', 'e'] }],
    // Tabs and runs of spaces separate tokens too.
    ['one\ttwo   three', { text: ['one', 'two', 'three'] }],
    ['environment:prod', { tags: [['environment', 'prod']] }],
  ])('given %j, then %j', (query, parsed) => {
    expect(parseIssueSearch(query)).toEqual({ ok: true, search: { ...none, ...parsed } });
  });

  it('given no query, then no filter', () => {
    expect(parseIssueSearch(undefined)).toEqual({ ok: true, search: none });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'Resolved'])('given is:%s, then refused: no such status', (value) => {
    expect(parseIssueSearch(`is:${value}`)).toEqual({ ok: false, detail: `Invalid value for "is" search: ${value}` });
  });
});

describe('sorts', () => {
  it("maps Sentry's sorts to the read model's columns", () => {
    expect(ISSUE_SORTS).toEqual({ date: 'last_seen', new: 'first_seen', freq: 'times_seen', user: 'user_count' });
    expect(parseSort('date')).toBe('date');
  });

  it.each(['toString', 'constructor', '', 'Date'])('given the sort %j, then none', (sort) => {
    expect(parseSort(sort)).toBeUndefined();
  });
});

describe('stats periods', () => {
  it.each<[string, number | null | undefined]>([
    ['1s', 1000],
    ['30m', 30 * 60_000],
    ['2w', 2 * 604_800_000],
    ['0h', 0],
    // Longer than JavaScript's dates reach back: no bound, rather than an invalid date.
    ['99999999999999999999d', null],
    ['100000000d', 8.64e15],
    ['24H', undefined],
    ['h', undefined],
    ['24h ', undefined],
    [' 24h', undefined],
    ['1.5h', undefined],
    ['24y', undefined],
  ])('given %j, then %j', (period, ms) => {
    expect(parseStatsPeriod(period)).toBe(ms);
  });
});

describe('cursors', () => {
  it.each<[string, { offset: number } | undefined]>([
    ['', { offset: 0 }],
    ['0:0:1', { offset: 0 }],
    ['12:345:0', { offset: 345 }],
    ['x0:1:0', undefined],
    ['0:1:0x', undefined],
    ['0:1:2', undefined],
    [':1:0', undefined],
    ['0::0', undefined],
    ['0:-1:0', undefined],
  ])('given %j, then %j', (cursor, parsed) => {
    expect(parseCursor(cursor)).toEqual(parsed);
  });

  it('given a page not a whole page from the start, then the previous link goes to the start, with results', () => {
    expect(linkHeader(new URL('http://h/x?cursor=0:50:0'), 50, 100, false)).toBe(
      '<http://h/x?cursor=0%3A0%3A1>; rel="previous"; results="true"; cursor="0:0:1", <http://h/x?cursor=0%3A150%3A0>; rel="next"; results="false"; cursor="0:150:0"',
    );
  });

  it('given the first page, then no previous results', () => {
    expect(linkHeader(new URL('http://h/x'), 0, 25, true)).toBe(
      '<http://h/x?cursor=0%3A0%3A1>; rel="previous"; results="false"; cursor="0:0:1", <http://h/x?cursor=0%3A25%3A0>; rel="next"; results="true"; cursor="0:25:0"',
    );
  });
});
