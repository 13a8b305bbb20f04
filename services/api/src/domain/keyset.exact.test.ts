import { describe, expect, it } from 'vitest';
import { EVENT_KEY, ISSUE_KEY, keysetLinkHeader, keysetPage, parseKeysetCursor, TAG_VALUE_KEY, tagValueKey } from './keyset.ts';

// Keyset cursors at their edges, with plain strings: given a cursor, then exactly the place it names
// or exactly the refusal; given the rows read, then exactly the page and its links.

const refused = (cursor: string) => ({ ok: false, detail: `Invalid cursor: ${cursor}` });
const at = (value: string, key: string, before = false) => ({ ok: true, cursor: { value, key, before } });

describe('a cursor, exactly', () => {
  it.each<[string, RegExp, unknown]>([
    // Sentry's first-page cursors, and only those.
    ['0:0:0', ISSUE_KEY, { ok: true, cursor: undefined }],
    ['0:0:1', EVENT_KEY, { ok: true, cursor: undefined }],
    ['10:0:0', ISSUE_KEY, at('10', '0')],
    ['0:10:1', ISSUE_KEY, at('0', '10', true)],
    ['0:0:01', ISSUE_KEY, refused('0:0:01')],
    ['0:0:2', ISSUE_KEY, refused('0:0:2')],
    ['x0:0:0', ISSUE_KEY, refused('x0:0:0')],
    // The value: an integer of up to 19 digits, negative too.
    ['-5:42:0', ISSUE_KEY, at('-5', '42')],
    ['9223372036854775807:42:1', ISSUE_KEY, at('9223372036854775807', '42', true)],
    ['12345678901234567890:42:0', ISSUE_KEY, refused('12345678901234567890:42:0')],
    ['1.5:42:0', ISSUE_KEY, refused('1.5:42:0')],
    ['x1:42:0', ISSUE_KEY, refused('x1:42:0')],
    ['--1:42:0', ISSUE_KEY, refused('--1:42:0')],
    // The direction: one digit, 0 or 1, at the end.
    ['1:42:01', ISSUE_KEY, refused('1:42:01')],
    ['1:42:0x', ISSUE_KEY, refused('1:42:0x')],
    ['1:42:', ISSUE_KEY, refused('1:42:')],
    // The key: no colon, and what the list's pattern takes.
    ['1:4:2:0', ISSUE_KEY, refused('1:4:2:0')],
    ['1::0', TAG_VALUE_KEY, at('1', '')],
    ['1:YTpi:0', TAG_VALUE_KEY, at('1', 'YTpi')],
    ['1:Pj4-Pw:0', TAG_VALUE_KEY, at('1', 'Pj4-Pw')],
    ['1:w7w_:1', TAG_VALUE_KEY, at('1', 'w7w_', true)],
    ['1:Pj4+Pw==:0', TAG_VALUE_KEY, refused('1:Pj4+Pw==:0')],
    ['1:0123456789ABCDEF0123456789ABCDEF:0', EVENT_KEY, refused('1:0123456789ABCDEF0123456789ABCDEF:0')],
  ])('%j', (cursor, pattern, expected) => {
    expect(parseKeysetCursor(cursor, pattern)).toStrictEqual(expected);
  });

  it('takes a key of 1,100 characters and refuses a longer one, naming the cursor’s first 100', () => {
    const key = 'a'.repeat(1100);
    expect(parseKeysetCursor(`1:${key}:0`, TAG_VALUE_KEY)).toStrictEqual(at('1', key));
    expect(parseKeysetCursor(`1:${key}a:0`, TAG_VALUE_KEY)).toStrictEqual({ ok: false, detail: `Invalid cursor: 1:${'a'.repeat(98)}` });
  });
});

describe('the key patterns', () => {
  it.each<[RegExp, string, boolean]>([
    [ISSUE_KEY, '1', true],
    [ISSUE_KEY, '9'.repeat(19), true],
    [ISSUE_KEY, '9'.repeat(20), false],
    [ISSUE_KEY, '', false],
    [ISSUE_KEY, '42x', false],
    [ISSUE_KEY, 'x42', false],
    [EVENT_KEY, '0123456789abcdef0123456789abcdef', true],
    [EVENT_KEY, '0123456789abcdef0123456789abcde', false],
    [EVENT_KEY, '0123456789abcdef0123456789abcdef0', false],
    [EVENT_KEY, 'x0123456789abcdef0123456789abcdef', false],
    [EVENT_KEY, '0123456789abcdeg0123456789abcdef', false],
    [TAG_VALUE_KEY, '', true],
    [TAG_VALUE_KEY, 'azAZ09-_', true],
    [TAG_VALUE_KEY, 'a'.repeat(1100), true],
    [TAG_VALUE_KEY, 'a'.repeat(1101), false],
    [TAG_VALUE_KEY, 'a=', false],
    [TAG_VALUE_KEY, '=a', false],
  ])('%s on %j: %s', (pattern, key, expected) => {
    expect(pattern.test(key)).toBe(expected);
  });

  it.each([
    ['a:b', 'YTpi'],
    ['>>>?', 'Pj4-Pw'],
    ['ü?', 'w7w_'],
    ['', ''],
  ])('the tag value %j is the key %j', (value, key) => {
    expect(tagValueKey(value)).toBe(key);
  });
});

describe('a page, exactly', () => {
  const key = (n: number) => ({ value: String(n * 10), key: String(n) });

  it.each<[string, number[], number, { value: string; key: string; before: boolean } | undefined, unknown]>([
    ['first page, more', [1, 2, 3], 2, undefined, { rows: [1, 2], previous: undefined, next: key(2) }],
    ['first page, exactly full', [1, 2], 2, undefined, { rows: [1, 2], previous: undefined, next: undefined }],
    ['first page, short', [1], 2, undefined, { rows: [1], previous: undefined, next: undefined }],
    ['after a cursor, more', [3, 4, 5], 2, { value: '20', key: '2', before: false }, { rows: [3, 4], previous: key(3), next: key(4) }],
    ['after a cursor, exactly full', [3, 4], 2, { value: '20', key: '2', before: false }, { rows: [3, 4], previous: key(3), next: undefined }],
    ['before a cursor, more', [1, 2, 3], 2, { value: '40', key: '4', before: true }, { rows: [2, 3], previous: key(2), next: key(3) }],
    ['before a cursor, exactly full', [2, 3], 2, { value: '40', key: '4', before: true }, { rows: [2, 3], previous: undefined, next: key(3) }],
    ['before a cursor, short', [3], 2, { value: '40', key: '4', before: true }, { rows: [3], previous: undefined, next: key(3) }],
    ['before a cursor, nothing', [], 2, { value: '40', key: '4', before: true }, { rows: [], previous: undefined, next: undefined }],
    ['after a cursor, nothing', [], 2, { value: '40', key: '4', before: false }, { rows: [], previous: undefined, next: undefined }],
  ])('%s', (_case, rows, limit, cursor, expected) => {
    expect(keysetPage(rows, limit, cursor, key)).toStrictEqual(expected);
  });
});

describe("Sentry's Link header, exactly", () => {
  it('with both links, the cursor replaced in place', () => {
    expect(keysetLinkHeader(new URL('http://h/api/0/x/?cursor=1:1:0&limit=5'), { value: '10', key: '1' }, { value: '30', key: '3' })).toBe(
      '<http://h/api/0/x/?cursor=10%3A1%3A1&limit=5>; rel="previous"; results="true"; cursor="10:1:1", ' +
        '<http://h/api/0/x/?cursor=30%3A3%3A0&limit=5>; rel="next"; results="true"; cursor="30:3:0"',
    );
  });

  it('with neither, the cursor taken off and Sentry’s empty cursors named', () => {
    expect(keysetLinkHeader(new URL('http://h/api/0/x/?cursor=1:1:0&limit=5'), undefined, undefined)).toBe(
      '<http://h/api/0/x/?limit=5>; rel="previous"; results="false"; cursor="0:0:1", <http://h/api/0/x/?limit=5>; rel="next"; results="false"; cursor="0:0:0"',
    );
  });

  it('leaves the given URL as it was', () => {
    const url = new URL('http://h/api/0/x/?cursor=1:1:0');
    keysetLinkHeader(url, { value: '10', key: '1' }, undefined);
    expect(url.toString()).toBe('http://h/api/0/x/?cursor=1:1:0');
  });
});
