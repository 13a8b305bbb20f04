// The issue list's search box speaks the API's query language (`is:unresolved level:error
// release:"web@1" free text`); the status filter and sort are edits of that query and the list URL.

export const STATUSES = ['unresolved', 'resolved', 'ignored'] as const;
export type IssueStatus = (typeof STATUSES)[number];

export const SORTS = { date: 'Last seen', new: 'First seen', freq: 'Events', user: 'Users' } as const;
export type IssueSort = keyof typeof SORTS;

export const DEFAULT_QUERY = 'is:unresolved';

const STATUS_TOKEN = /(^|\s)is:(\S+)/g;
const ALIASES: Record<string, IssueStatus> = { unresolved: 'unresolved', resolved: 'resolved', ignored: 'ignored', muted: 'ignored', archived: 'ignored' };

/** The status the query filters on, or undefined for every status (none or several `is:`). */
export function statusOf(query: string): IssueStatus | undefined {
  const values = [...query.matchAll(STATUS_TOKEN)].map((match) => ALIASES[match[2]!]);
  return values.length === 1 ? values[0] : undefined;
}

/** The query with its `is:` tokens replaced by one for `status` (none for every status). */
export function withStatus(query: string, status: IssueStatus | undefined): string {
  const rest = query.replace(STATUS_TOKEN, ' ').replace(/\s+/g, ' ').trim();
  return [status ? `is:${status}` : '', rest].filter(Boolean).join(' ');
}

export interface IssueListParams {
  query: string;
  sort: IssueSort;
  cursor?: string | undefined;
}

/** The Web API path of one page of a project's issues, with a 24-hour event series per issue. */
export function issueListPath(org: string, project: string, params: IssueListParams, perPage = 25): string {
  const search = new URLSearchParams({ query: params.query, sort: params.sort, per_page: String(perPage), groupStatsPeriod: '24h' });
  if (params.cursor) search.set('cursor', params.cursor);
  return `/projects/${encodeURIComponent(org)}/${encodeURIComponent(project)}/issues/?${search}`;
}

/** The list's state from the page URL's search params (the default query when there is none). */
export function listParamsFrom(search: URLSearchParams): IssueListParams {
  const sort = search.get('sort');
  return { query: search.get('query') ?? DEFAULT_QUERY, sort: sort !== null && sort in SORTS ? (sort as IssueSort) : 'date', cursor: search.get('cursor') ?? undefined };
}
