import { describe, expect, it } from 'vitest';
import { issueListPath, listParamsFrom, statusOf, withStatus } from './issue-query.ts';

describe('the issue list query', () => {
  it.each([
    ['is:unresolved', 'unresolved'],
    ['level:error is:muted timeout', 'ignored'],
    ['timeout', undefined],
    ['is:resolved is:ignored', undefined],
    ['', undefined],
  ])('%j filters on status %j', (query, status) => {
    expect(statusOf(query)).toBe(status);
  });

  it.each([
    ['is:unresolved level:error', 'resolved', 'is:resolved level:error'],
    ['level:error  is:ignored  "disk full"', 'unresolved', 'is:unresolved level:error "disk full"'],
    ['is:resolved timeout', undefined, 'timeout'],
    ['', 'ignored', 'is:ignored'],
    // A tag whose value contains "is:" is not a status token.
    ['message:this:is:it', 'resolved', 'is:resolved message:this:is:it'],
  ])('%j with status %j is %j', (query, status, expected) => {
    expect(withStatus(query, status as 'resolved' | undefined)).toBe(expected);
  });

  it('asks the API for one page with a 24-hour series per issue', () => {
    expect(issueListPath('acme', 'web', { query: 'is:unresolved level:error', sort: 'freq', cursor: '0:25:0' })).toBe(
      '/projects/acme/web/issues/?query=is%3Aunresolved+level%3Aerror&sort=freq&per_page=25&groupStatsPeriod=24h&cursor=0%3A25%3A0',
    );
  });

  it('reads the page URL, defaulting to unresolved issues by last seen', () => {
    expect(listParamsFrom(new URLSearchParams())).toEqual({ query: 'is:unresolved', sort: 'date', cursor: undefined });
    expect(listParamsFrom(new URLSearchParams('query=&sort=user&cursor=0:50:0'))).toEqual({ query: '', sort: 'user', cursor: '0:50:0' });
    expect(listParamsFrom(new URLSearchParams('sort=bogus')).sort).toBe('date');
  });
});
