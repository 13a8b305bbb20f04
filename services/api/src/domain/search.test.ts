import { describe, expect, it } from 'vitest';
import { linkHeader, parseCursor, parseIssueSearch, parseSort, parseStatsPeriod } from './search.ts';

describe('issue search', () => {
  it.each([
    ['', { statuses: [], levels: [], tags: [], text: [] }],
    ['is:unresolved', { statuses: ['unresolved'], levels: [], tags: [], text: [] }],
    ['is:muted level:error', { statuses: ['ignored'], levels: ['error'], tags: [], text: [] }],
    ['release:"web@1.2 beta" environment:prod timeout db', { statuses: [], levels: [], tags: [['release', 'web@1.2 beta'], ['environment', 'prod']], text: ['timeout', 'db'] }],
    ['url:https://x.io/a', { statuses: [], levels: [], tags: [['url', 'https://x.io/a']], text: [] }],
    ['trailing:', { statuses: [], levels: [], tags: [], text: ['trailing:'] }],
    // Named twice (or by two aliases), asked once: each would be one more range of the list's walk.
    ['is:unresolved is:unresolved level:error is:muted is:ignored level:error', { statuses: ['unresolved', 'ignored'], levels: ['error'], tags: [], text: [] }],
  ])('parses %j', (query, expected) => {
    expect(parseIssueSearch(query)).toEqual({ ok: true, search: expected });
  });

  it('refuses an unknown status with a detail', () => {
    expect(parseIssueSearch('is:exploded')).toEqual({ ok: false, detail: 'Invalid value for "is" search: exploded' });
  });

  it.each([
    [undefined, 'date'],
    ['freq', 'freq'],
    ['new', 'new'],
    ['user', 'user'],
    ['priority', undefined],
  ])('sort %s → %s', (sort, expected) => {
    expect(parseSort(sort)).toBe(expected);
  });

  it.each([
    ['24h', 86_400_000],
    ['14d', 14 * 86_400_000],
    ['', null],
    [undefined, null],
    ['forever', undefined],
  ])('statsPeriod %j → %j', (period, expected) => {
    expect(parseStatsPeriod(period)).toBe(expected);
  });
});

describe('cursor pagination', () => {
  it.each([
    [undefined, { offset: 0 }],
    ['0:100:0', { offset: 100 }],
    ['1700000000000:25:1', { offset: 25 }],
    ['garbage', undefined],
  ])('cursor %j', (cursor, expected) => {
    expect(parseCursor(cursor)).toEqual(expected);
  });

  it('writes Sentry-style previous and next links', () => {
    const header = linkHeader(new URL('http://h/api/0/projects/o/p/issues/?query=is:unresolved'), 100, 100, true);
    expect(header).toBe(
      '<http://h/api/0/projects/o/p/issues/?query=is%3Aunresolved&cursor=0%3A0%3A1>; rel="previous"; results="true"; cursor="0:0:1", ' +
        '<http://h/api/0/projects/o/p/issues/?query=is%3Aunresolved&cursor=0%3A200%3A0>; rel="next"; results="true"; cursor="0:200:0"',
    );
    expect(linkHeader(new URL('http://h/x'), 0, 100, false)).toMatch(/rel="previous"; results="false".*rel="next"; results="false"/);
  });
});
