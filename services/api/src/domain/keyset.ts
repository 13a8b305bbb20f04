// Keyset cursors for the long lists (issues, events): a cursor names the row a page starts after
// (its sort value and its tie-break), so a page reads only its own rows however deep it is.
// Sentry's cursors have the shape `value:offset:is_prev`; ours keep it, with the sort value in
// `value` and the row's tie-break (issue id, event id) in the middle. Clients treat cursors as
// opaque and follow the Link header, as sentry-cli does.

export interface KeysetCursor {
  /** The sort value of the row next to the page, as an integer (microseconds for times, counts). */
  value: string;
  /** The tie-break of that row: an issue id or an event id. */
  key: string;
  /** true: the page before that row (a "previous" link); false: the page after it. */
  before: boolean;
}

export type CursorResult = { ok: true; cursor: KeysetCursor | undefined } | { ok: false; detail: string };

/** undefined or '' is the first page. */
export function parseKeysetCursor(cursor: string | undefined, keyPattern: RegExp): CursorResult {
  // '' and Sentry's `0:0:0` (what scripts start a walk with) are the first page.
  if (cursor === undefined || cursor === '' || /^0:0:[01]$/.test(cursor)) return { ok: true, cursor: undefined };
  const match = /^(-?\d{1,19}):([^:]{0,1100}):([01])$/.exec(cursor);
  if (!match || !keyPattern.test(match[2]!)) return { ok: false, detail: `Invalid cursor: ${cursor.slice(0, 100)}` };
  return { ok: true, cursor: { value: match[1]!, key: match[2]!, before: match[3] === '1' } };
}

export const ISSUE_KEY = /^\d{1,19}$/;
export const EVENT_KEY = /^[0-9a-f]{32}$/;
/** A tag value, base64url-encoded (values may hold any character, colons too). */
export const TAG_VALUE_KEY = /^[A-Za-z0-9_-]{0,1100}$/;
export const tagValueKey = (value: string) => Buffer.from(value, 'utf8').toString('base64url');

/** A row's place in its list. */
export interface RowKey {
  value: string;
  key: string;
}

/**
 * What a page shows and which links it offers, from the rows read (in display order, one more than
 * the limit when there are more in the direction read). `before` pages were read backwards.
 */
export function keysetPage<T>(rows: T[], limit: number, cursor: KeysetCursor | undefined, keyOf: (row: T) => RowKey) {
  const more = rows.length > limit;
  const shown = cursor?.before ? rows.slice(Math.max(0, rows.length - limit)) : rows.slice(0, limit);
  const first = shown[0];
  const last = shown[shown.length - 1];
  return {
    rows: shown,
    previous: first && (cursor?.before ? more : cursor !== undefined) ? keyOf(first) : undefined,
    next: last && (cursor?.before ? true : more) ? keyOf(last) : undefined,
  };
}

/** Sentry's Link header: previous and next, each with `results` saying whether following it finds rows. */
export function keysetLinkHeader(url: URL, previous: RowKey | undefined, next: RowKey | undefined): string {
  const make = (at: RowKey | undefined, isPrev: 0 | 1, rel: 'previous' | 'next') => {
    const target = new URL(url);
    const cursor = at ? `${at.value}:${at.key}:${isPrev}` : `0:0:${isPrev}`;
    if (at) target.searchParams.set('cursor', cursor);
    else target.searchParams.delete('cursor');
    return `<${target.toString()}>; rel="${rel}"; results="${at !== undefined}"; cursor="${cursor}"`;
  };
  return [make(previous, 1, 'previous'), make(next, 0, 'next')].join(', ');
}
