import { describe, expect, it } from 'vitest';
import { EVENT_KEY, ISSUE_KEY, keysetLinkHeader, keysetPage, parseKeysetCursor } from './keyset.ts';

describe('keyset cursors', () => {
  it.each([
    [undefined, ISSUE_KEY, { ok: true, cursor: undefined }],
    ['', ISSUE_KEY, { ok: true, cursor: undefined }],
    ['0:0:0', EVENT_KEY, { ok: true, cursor: undefined }],
    ['0:0:1', ISSUE_KEY, { ok: true, cursor: undefined }],
    ['1700000000000000:42:0', ISSUE_KEY, { ok: true, cursor: { value: '1700000000000000', key: '42', before: false } }],
    ['7:42:1', ISSUE_KEY, { ok: true, cursor: { value: '7', key: '42', before: true } }],
    ['5:0123456789abcdef0123456789abcdef:0', EVENT_KEY, { ok: true, cursor: { value: '5', key: '0123456789abcdef0123456789abcdef', before: false } }],
  ])('%j reads as a place in the list', (cursor, pattern, expected) => {
    expect(parseKeysetCursor(cursor, pattern)).toEqual(expected);
  });

  it.each([
    ['abc', ISSUE_KEY],
    ['1:2', ISSUE_KEY],
    ['1:2:3', ISSUE_KEY],
    ['1:abc:0', ISSUE_KEY],
    ['1:42:0', EVENT_KEY],
    ['99999999999999999999:1:0', ISSUE_KEY],
  ])('%j is refused with a reason', (cursor, pattern) => {
    expect(parseKeysetCursor(cursor, pattern)).toEqual({ ok: false, detail: expect.stringContaining('Invalid cursor') });
  });
});

describe('a keyset page', () => {
  const key = (n: number) => ({ value: String(n * 10), key: String(n) });
  const rows = (...ids: number[]) => ids;

  it('the first page offers next only when a row beyond it was read', () => {
    expect(keysetPage(rows(1, 2, 3), 2, undefined, key)).toEqual({ rows: [1, 2], previous: undefined, next: key(2) });
    expect(keysetPage(rows(1, 2), 2, undefined, key)).toEqual({ rows: [1, 2], previous: undefined, next: undefined });
  });

  it('a page after a cursor always offers the way back', () => {
    const after = { value: '0', key: '0', before: false };
    expect(keysetPage(rows(3, 4, 5), 2, after, key)).toEqual({ rows: [3, 4], previous: key(3), next: key(4) });
    expect(keysetPage(rows(3), 2, after, key)).toEqual({ rows: [3], previous: key(3), next: undefined });
  });

  it('a page before a cursor (read backwards, shown in order) drops the extra row at its start', () => {
    const before = { value: '50', key: '5', before: true };
    expect(keysetPage(rows(1, 2, 3), 2, before, key)).toEqual({ rows: [2, 3], previous: key(2), next: key(3) });
    expect(keysetPage(rows(2, 3), 2, before, key)).toEqual({ rows: [2, 3], previous: undefined, next: key(3) });
  });

  it('an empty page offers nothing', () => {
    expect(keysetPage([], 2, { value: '1', key: '1', before: false }, key)).toEqual({ rows: [], previous: undefined, next: undefined });
  });
});

describe("Sentry's Link header from keyset places", () => {
  it('links carry the cursor and say whether they lead to rows', () => {
    const header = keysetLinkHeader(new URL('http://h/api/0/projects/o/p/issues/?query=is:unresolved&cursor=1:1:0'), { value: '20', key: '2' }, undefined);
    expect(header).toBe(
      '<http://h/api/0/projects/o/p/issues/?query=is%3Aunresolved&cursor=20%3A2%3A1>; rel="previous"; results="true"; cursor="20:2:1", ' +
        '<http://h/api/0/projects/o/p/issues/?query=is%3Aunresolved>; rel="next"; results="false"; cursor="0:0:0"',
    );
  });
});
