// Sentry's issue search as a value: `is:unresolved level:error release:"web@1.2" timeout` →
// filters the read model applies. Unknown `key:value` tokens are matched as tags, as Sentry does.

export type IssueStatusFilter = 'unresolved' | 'resolved' | 'ignored';

export interface IssueSearch {
  statuses: IssueStatusFilter[];
  levels: string[];
  tags: [string, string][];
  text: string[];
}

const STATUS_ALIASES: Record<string, IssueStatusFilter> = { unresolved: 'unresolved', resolved: 'resolved', ignored: 'ignored', muted: 'ignored', archived: 'ignored' };

/** Splits on spaces outside double quotes and removes the quotes. */
function tokenize(query: string): string[] {
  return [...query.matchAll(/(?:[^\s"]+|"[^"]*")+/g)].map((match) => match[0].replaceAll('"', ''));
}

export type SearchResult = { ok: true; search: IssueSearch } | { ok: false; detail: string };

export function parseIssueSearch(query: string | undefined): SearchResult {
  const search: IssueSearch = { statuses: [], levels: [], tags: [], text: [] };
  for (const token of tokenize(query ?? '')) {
    const colon = token.indexOf(':');
    if (colon <= 0 || colon === token.length - 1) {
      search.text.push(token);
      continue;
    }
    const key = token.slice(0, colon);
    const value = token.slice(colon + 1);
    if (key === 'is') {
      // Own keys only: `is:constructor` is no status (Object.prototype's members are not aliases).
      const status = Object.hasOwn(STATUS_ALIASES, value) ? STATUS_ALIASES[value] : undefined;
      if (!status) return { ok: false, detail: `Invalid value for "is" search: ${value}` };
      // A status or level named twice is asked once (each is a range of the issue list's walk).
      if (!search.statuses.includes(status)) search.statuses.push(status);
    } else if (key === 'level') {
      if (!search.levels.includes(value)) search.levels.push(value);
    } else {
      search.tags.push([key, value]);
    }
  }
  return { ok: true, search };
}

export const ISSUE_SORTS = { date: 'last_seen', new: 'first_seen', freq: 'times_seen', user: 'user_count' } as const;
export type IssueSort = keyof typeof ISSUE_SORTS;

export function parseSort(sort: string | undefined): IssueSort | undefined {
  const value = sort ?? 'date';
  return Object.hasOwn(ISSUE_SORTS, value) ? (value as IssueSort) : undefined;
}

/** JavaScript's dates span ±8.64e15 ms around 1970: a longer period reaches before any date. */
const LONGEST_PERIOD_MS = 8.64e15;

/** `statsPeriod` such as 24h, 14d, 30m, 2w → milliseconds; '' (or a period longer than dates go back) means no bound. */
export function parseStatsPeriod(period: string | undefined): number | null | undefined {
  if (period === undefined || period === '') return null;
  const match = /^(\d+)([smhdw])$/.exec(period);
  if (!match) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  const ms = Number(match[1]) * unit;
  return ms > LONGEST_PERIOD_MS ? null : ms;
}

// Sentry's cursors are `value:offset:is_prev`; Trapline pages by offset in a stable order.
export interface Cursor {
  offset: number;
}

export function parseCursor(cursor: string | undefined): Cursor | undefined {
  if (cursor === undefined || cursor === '') return { offset: 0 };
  const match = /^\d+:(\d+):[01]$/.exec(cursor);
  return match ? { offset: Number(match[1]) } : undefined;
}

/** Sentry's Link header, which sentry-cli and the SDK tooling follow. */
export function linkHeader(url: URL, offset: number, limit: number, hasNext: boolean): string {
  const make = (cursorOffset: number, isPrev: 0 | 1, rel: 'previous' | 'next', results: boolean) => {
    const target = new URL(url);
    const cursor = `0:${cursorOffset}:${isPrev}`;
    target.searchParams.set('cursor', cursor);
    return `<${target.toString()}>; rel="${rel}"; results="${results}"; cursor="${cursor}"`;
  };
  return [make(Math.max(0, offset - limit), 1, 'previous', offset > 0), make(offset + limit, 0, 'next', hasNext)].join(', ');
}
