import type { AuditRow, DeletionRow, EventRow, GroupRow, KeyRow, Pool, ProjectRow, TagValueRow, TeamRow, TokenRow } from '@trapline/runtime';
import type { Level } from '@trapline/schemas';
import { AccountsReadModel } from './accounts.ts';
import type { KeysetCursor } from '../domain/keyset.ts';
import { ISSUE_SORTS, type IssueSearch, type IssueSort } from '../domain/search.ts';
import type { TagKeySummary } from '../domain/serialize.ts';
import { affordable, cutConditions, decides, fewPostings, splitQueryOf, UNSPLIT, wordConditions, worthReading, type WordStatistics } from '../domain/text-words.ts';

export interface IssueListQuery {
  projectIds: number[];
  search: IssueSearch;
  sort: IssueSort;
  /** Only issues seen within this many milliseconds before `now`; null for no bound. */
  periodMs: number | null;
  now: number;
  /** Where the page starts; undefined for the first page. */
  cursor: KeysetCursor | undefined;
  limit: number;
}

/** How many issues a selective search term may match for a list to start from them rather than walk a sort's index. */
const CANDIDATES = 2000;

/**
 * How many postings of the word index the text terms' candidates may read (about a microsecond
 * each: a partial match gathers them all before the first row comes back); rarer conditions first.
 */
const WORD_POSTINGS = 40_000;

/**
 * How many postings of a further word condition are worth reading to spare fetching one issue
 * from the table and checking it (a posting costs about 0.2 µs to read, an issue 1.5 µs).
 */
const POSTINGS_PER_ISSUE = 4;

/**
 * How many times CANDIDATES the text terms may match to lead: their read has checked each match
 * already (status, level, the ILIKE), and a term as rare as one issue in a few hundred walks
 * hundreds of issues per row of the page.
 */
const TEXT_CANDIDATES = 3;

/**
 * Up to how many ranges (project × status × level) a walk reads merged in the sort's order, each
 * as far as the page needs (a Merge Append: about a page in all); past that, each range is read to
 * a page on its own (planning a merge of many ranges costs more than the rows it spares).
 */
const MERGED_RANGES = 6;

/**
 * A text read by last_seen first reads its terms' matches among the issues seen last only (a cut):
 * about this many issues of the table per row of the page, taken from the top of last_seen's
 * histogram. When the page is full there, it is the page (any match left out was seen before every
 * row of it); when not, the read reads every match as before. A term matching one issue in a few
 * hundred of the ranges so reads a few hundred issues' postings ANDed with a slice of the sort
 * index, and fetches only the matches in the slice instead of all of them.
 */
const CUT_ISSUES_PER_ROW = 600;

/** No cut when it would hold more than this share of the table (a small table, or a page far down): the full read costs about as much. */
const CUT_MOST_SHARE = 0.25;

/**
 * No cut when a condition read is an exact entry of at most this many postings (estimated; one
 * outside the most common entries counts as the least common): its matches cost less to read all.
 */
const CUT_FEWEST_POSTINGS = 2 * CANDIDATES;

/** How long the word index's statistics are used before they are read again. */
const STATISTICS_MS = 60_000;

/** Every status a list may show: everything but pending deletion. */
const VISIBLE_STATUSES = ['unresolved', 'resolved', 'ignored'];

/** Every level an event is normalized to (services/ingest's normalize). */
const LEVELS = Object.keys({ fatal: 1, error: 1, warning: 1, info: 1, debug: 1 } satisfies Record<Level, 1>);

/** Each sort column's value as the integer a cursor carries, and the bound a cursor's value stands for. */
const TIME_VALUE = {
  of: (column: string) => (alias: string) => `(extract(epoch FROM ${alias}.${column}) * 1000000)::bigint`,
  bound: (param: string) => `(timestamptz 'epoch' + ${param}::bigint * interval '1 microsecond')`,
};
const SORT_VALUES: Record<(typeof ISSUE_SORTS)[IssueSort], { of: (alias: string) => string; bound: (param: string) => string }> = {
  last_seen: { of: TIME_VALUE.of('last_seen'), bound: TIME_VALUE.bound },
  first_seen: { of: TIME_VALUE.of('first_seen'), bound: TIME_VALUE.bound },
  times_seen: { of: (alias) => `${alias}.times_seen::bigint`, bound: (param) => `${param}::bigint` },
  user_count: { of: (alias) => `${alias}.user_count::bigint`, bound: (param) => `${param}::bigint` },
};

// Queries over the projected read models. Everything pending deletion is invisible here.

const PROJECT_COLUMNS = `id, organization_slug, slug, name, platform, created_at,
  (SELECT r.retention_days FROM project_retention r WHERE r.project_id = projects.id) AS retention_days,
  (SELECT o.origins FROM project_allowed_origins o WHERE o.project_id = projects.id) AS allowed_origins,
  (SELECT o.name FROM organizations o WHERE o.slug = projects.organization_slug) AS organization_name,
  (SELECT o.created_at FROM organizations o WHERE o.slug = projects.organization_slug) AS organization_created_at,
  (SELECT min(f.first_seen) FROM unnest(ARRAY['unresolved', 'resolved', 'ignored']) AS s(status) CROSS JOIN unnest(ARRAY['fatal', 'error', 'warning', 'info', 'debug']) AS l(level)
     CROSS JOIN LATERAL (SELECT g.first_seen FROM groups g WHERE g.project_id = projects.id AND g.status = s.status AND g.level = l.level ORDER BY g.first_seen LIMIT 1) f) AS first_event,
  COALESCE((SELECT json_agg(json_build_object('id', t.id::text, 'slug', t.slug, 'name', t.name) ORDER BY t.slug) FROM project_teams pt JOIN teams t ON t.id = pt.team_id WHERE pt.project_id = projects.id), '[]') AS teams`;

const GROUP_COLUMNS = `g.id, g.project_id, g.short_id, g.title, g.culprit, g.type, g.metadata, g.level, g.platform, g.logger, g.status,
  g.first_seen, g.last_seen, g.times_seen, g.first_release, g.last_release, g.resolved_in_release, g.resolved_in_next_release,
  g.user_count`;

const EVENT_COLUMNS = `e.project_id, e.event_id, e.group_id, e.received_at, e.occurred_at, e.title, e.message, e.payload,
  COALESCE((SELECT array_agg(ARRAY[u.key, u.value] ORDER BY u.key) FROM unnest(e.tag_keys, e.tag_values) AS u(key, value)), '{}') AS tags`;

const AUDIT_COLUMNS = 'id, organization_slug, project_id, event, actor, transaction_id, target_object, data, created_at';

/** Events visible to the API: neither they nor their issue are pending deletion. */
const VISIBLE_EVENTS = `events e JOIN groups g ON g.id = e.group_id WHERE NOT e.pending_deletion AND g.status <> 'pending_deletion'`;

/** Who looks at teams: their membership in the organization and the team role it has by default there. */
export interface TeamViewer {
  memberId: string;
  minimumTeamRole: string;
}

/** A team's columns, its accepted members counted, and the viewer's place on it ($2 the viewer's member id, $3 its default team role). */
const TEAM_COLUMNS = `t.id, t.organization_slug, t.slug, t.name, t.created_at,
  (SELECT count(*)::int FROM team_members tm JOIN members m ON m.id = tm.member_id JOIN users u ON u.id = m.user_id
    WHERE tm.team_id = t.id AND m.organization_slug = t.organization_slug AND m.invite_token_hash IS NULL) AS member_count,
  v.member_id IS NOT NULL AS is_member, CASE WHEN v.member_id IS NULL THEN NULL ELSE coalesce(v.team_role, $3) END AS team_role
  FROM teams t LEFT JOIN team_members v ON v.team_id = t.id AND v.member_id = $2`;

export class ReadModel {
  /** Users, members and user tokens. */
  readonly accounts: AccountsReadModel;

  private statistics: { read: number; value: Promise<WordStatistics | undefined> } | undefined;

  private lastSeenHistogram: { read: number; value: Promise<{ bounds: number[]; issues: number } | undefined> } | undefined;

  /**
   * `candidateLimit`: CANDIDATES, unless a test wants every filtered search walked (0);
   * `cutIssuesPerRow`: CUT_ISSUES_PER_ROW, unless a test wants a small table's text reads cut.
   */
  constructor(readonly pool: Pool, private readonly candidateLimit = CANDIDATES, private readonly cutIssuesPerRow = CUT_ISSUES_PER_ROW) {
    this.accounts = new AccountsReadModel(pool);
  }

  async token(tokenHash: string): Promise<TokenRow | undefined> {
    const result = await this.pool.query<TokenRow>('SELECT token_hash, organization_slug, scopes, active FROM api_tokens WHERE token_hash = $1', [tokenHash]);
    return result.rows[0];
  }

  async project(organizationSlug: string, projectSlug: string): Promise<ProjectRow | undefined> {
    const result = await this.pool.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE organization_slug = $1 AND slug = $2`, [organizationSlug, projectSlug]);
    return result.rows[0];
  }

  async projectById(id: number): Promise<ProjectRow | undefined> {
    const result = await this.pool.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1`, [id]);
    return result.rows[0];
  }

  /**
   * One page of issues in the sort's order (then id), read from the cursor on, in one of three ways:
   *
   * - Led by a selective tag value: when one matches at most CANDIDATES issues of the projects
   *   (counted by its own index and no further), those issues are the candidates: looked up by id,
   *   filtered, sorted.
   * - Read from the text terms' matches: when the text terms together match at most
   *   TEXT_CANDIDATES × CANDIDATES issues of the projects, statuses and levels asked for (and fewer
   *   than the tag value's), read from the word index (or the trigram ones) and checked by the
   *   ILIKE, the page is sorted out of those matches in the same statement (textPage()).
   * - Walked: otherwise, for each project, visible status and level, one range of that sort's index
   *   (ids and sort values, at most a page each) from the cursor on, every filter checked per issue
   *   as it comes, merged (up to MERGED_RANGES ranges by a Merge Append, which reads each only as
   *   far as the page needs); then the page's rows. Every filter then matches more than CANDIDATES
   *   issues, so a range finds its page within about (issues in the range / CANDIDATES) pages.
   *
   * The first two cost what the matches are, not the issues the projects hold. Left to itself, the
   * planner sizes the parameterized ranges by their average and hashes a whole range against a
   * tag's rows, or rebuilds a trigram bitmap once per range: both grow with the issues.
   */
  async issues(query: IssueListQuery): Promise<(GroupRow & { sort_value: string })[]> {
    const statuses = query.search.statuses.length > 0 ? query.search.statuses : VISIBLE_STATUSES;
    const levels = query.search.levels.length > 0 ? query.search.levels : LEVELS;
    const params: unknown[] = [query.projectIds, statuses, levels];
    const add = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const patterns = query.search.text.map((text) => `%${text.replace(/[\\%_]/g, '\\$&')}%`);
    const tagged = await this.tagCandidates(query.projectIds, query.search.tags);
    if (tagged !== undefined && tagged.length === 0) return [];
    // Walking, every term matches many issues: checked on each row as the range is read. As a
    // subquery the planner takes it for a filter that keeps half, so it reads the range in order
    // and stops at a page; as a plain ILIKE it guesses a handful of matches and sorts the whole
    // range (or builds a trigram bitmap for each range).
    const placeholders = patterns.map(add);
    const textFilters = placeholders.map((pattern) => `(SELECT g.title ILIKE ${pattern} OR g.culprit ILIKE ${pattern})`);
    const where: string[] = [];
    for (const [key, value] of query.search.tags) {
      // OFFSET 0 keeps the check a probe per issue of the (group, key, value) key: as a join, the
      // planner hashes the whole range against the value's rows.
      where.push(`EXISTS (SELECT 1 FROM group_tag_values t WHERE t.group_id = g.id AND t.key = ${add(key)} AND t.value = ${add(value)} OFFSET 0)`);
    }
    if (query.periodMs !== null) where.push(`g.last_seen >= ${add(new Date(query.now - query.periodMs))}`);
    const column = ISSUE_SORTS[query.sort];
    const sortValue = SORT_VALUES[column];
    const [order, compare] = query.cursor?.before ? ['ASC', '>'] : ['DESC', '<'];
    if (query.cursor) where.push(`(g.${column}, g.id) ${compare} (${sortValue.bound(add(query.cursor.value))}, ${add(query.cursor.key)}::bigint)`);
    const limit = add(query.limit + 1);
    const rows = (page: string) => `SELECT ${GROUP_COLUMNS}, ${sortValue.of('g')}::text AS sort_value FROM (${page}) page JOIN groups g ON g.id = page.id`;
    const sorted = (alias: string) => `ORDER BY ${alias}.${column} ${order}, ${alias}.id ${order}`;
    const finish = (result: { rows: (GroupRow & { sort_value: string })[] }) => (query.cursor?.before ? result.rows.reverse() : result.rows);

    if (patterns.length > 0) {
      // Fewer matches than the tag value's issues, or it leads.
      const most = Math.min(this.candidateLimit * TEXT_CANDIDATES, tagged === undefined ? Infinity : tagged.length - 1);
      const shared = params.length;
      // What the other filters read of a match: its id, last_seen (the period) and the sort column (the cursor).
      const kept = [...new Set(['id', 'last_seen', column])].join(', ');
      const filters = where.map((condition) => ` AND ${condition}`).join('');
      const since = column === 'last_seen' && tagged === undefined && !query.cursor?.before ? await this.cutBound(query.limit, query.cursor) : undefined;
      if (since !== undefined) {
        const cut = await this.textMatches(query.projectIds, query.search.text, placeholders, kept, add, { from: sortValue.bound(add(since.bound)), share: since.share });
        if (cut !== undefined) {
          const page = await this.pool.query<GroupRow & { sort_value: string }>(`${rows(`SELECT g.id, g.${column} FROM (${cut}) g WHERE true${filters} ${sorted('g')} LIMIT ${limit}`)} ${sorted('g')}`, params);
          if (page.rows.length === query.limit + 1) return finish(page);
        }
        params.length = shared;
      }
      const matches = await this.textMatches(query.projectIds, query.search.text, placeholders, kept, add);
      if (matches !== undefined) {
        const fewer = add(most + 1);
        const page = await this.textPage(
          `WITH m AS MATERIALIZED (${matches} LIMIT ${fewer})
           SELECT n.matches, r.* FROM (SELECT count(*)::int AS matches FROM m) n
           LEFT JOIN LATERAL (${rows(`SELECT g.id, g.${column} FROM m g WHERE n.matches < ${fewer}${filters} ${sorted('g')} LIMIT ${limit}`)}) r ON true
           ${sorted('r')}`,
          params,
          most,
        );
        if (page !== undefined) return finish(page);
      }
      // The other reads bind none of the text read's own parameters.
      params.length = shared;
    }
    const filters = [...textFilters, ...where].map((condition) => ` AND ${condition}`).join('');
    // Each range by the (1-based) places of its project, status and level in $1, $2 and $3.
    const places = (values: unknown[]) => values.map((_, i) => i + 1);
    const ranges = places(query.projectIds).flatMap((project) => places(statuses).flatMap((status) => places(levels).map((level) => [project, status, level] as const)));
    const page = tagged !== undefined
      ? `SELECT g.id, g.${column} FROM groups g
         WHERE g.id = ANY(${add(tagged)}::bigint[]) AND g.project_id = ANY($1) AND g.status = ANY($2) AND g.level = ANY($3)${filters}
         ${sorted('g')} LIMIT ${limit}`
      : ranges.length > 0 && ranges.length <= MERGED_RANGES
        ? `SELECT r.id, r.${column} FROM (${ranges.map(([project, status, level]) => `(SELECT g.id, g.${column} FROM groups g
             WHERE g.project_id = ($1::bigint[])[${project}] AND g.status = ($2::text[])[${status}] AND g.level = ($3::text[])[${level}]${filters}
             ${sorted('g')} LIMIT ${limit})`).join(' UNION ALL ')}) r
           ${sorted('r')} LIMIT ${limit}`
        : `SELECT r.id, r.${column} FROM unnest($1::bigint[]) AS p(id) CROSS JOIN unnest($2::text[]) AS s(status) CROSS JOIN unnest($3::text[]) AS l(level)
           CROSS JOIN LATERAL (
             SELECT g.id, g.${column} FROM groups g
             WHERE g.project_id = p.id AND g.status = s.status AND g.level = l.level${filters}
             ${sorted('g')} LIMIT ${limit}) r
           ${sorted('r')} LIMIT ${limit}`;
    return finish(await this.pool.query<GroupRow & { sort_value: string }>(`${rows(page)} ${sorted('g')}`, params));
  }

  /**
   * The page of a text-led read (`text`): one statement that gathers the matches of the text terms
   * (at most `most` + 1: each read once) and, when there are no more than `most`, sorts out of them
   * the page the other filters keep; only the page's rows are looked up again. Undefined when the
   * terms match more: the list is then led by its tag value or walked.
   */
  private async textPage(text: string, params: unknown[], most: number): Promise<{ rows: (GroupRow & { sort_value: string })[] } | undefined> {
    const result = await this.pool.query<GroupRow & { sort_value: string; matches: number }>(text, params);
    const first = result.rows[0];
    if (first === undefined || first.matches > most) return undefined;
    // No row of the page: the one row the count gives, its page columns null.
    return { rows: first.id === null ? [] : result.rows.map(({ matches: _, ...row }) => row) };
  }

  /**
   * The issues of the projects, statuses and levels asked for ($1–$3) that match every text term
   * (`patterns`: their ILIKE patterns' parameters), with the `columns` textPage() reads: from the
   * word index (domain/text-words.ts) when a term has letters or digits, otherwise (`#`, `::`, or
   * outside ASCII) by the trigram indexes intersecting the terms' ILIKEs. Undefined when every word
   * condition is too common to read: the walk finds such terms soon enough.
   *
   * The word index is read in the entries of `projects` only (its entries are by project), so a
   * search costs what its projects hold, not the whole installation. Its posting lists hold about
   * the issues that match, and the ILIKE checks each
   * issue they name (kept from the trigram indexes by OFFSET 0), but for the terms the index
   * decides alone (a single word piece whose condition was read): those need no check, except
   * in the issues whose text was too long to split, read apart.
   */
  private async textMatches(projects: number[], terms: string[], patterns: string[], columns: string, add: (value: unknown) => string, cut?: { from: string; share: number }): Promise<string | undefined> {
    const visible = 'project_id = ANY($1) AND status = ANY($2) AND level = ANY($3)';
    const checked = (placeholders: string[]) => placeholders.map((pattern) => ` AND (title ILIKE ${pattern} OR culprit ILIKE ${pattern})`).join('');
    const conditions = wordConditions(terms);
    // A cut reads the word index only (the trigram indexes' bitmaps cost what all their issues do).
    if (conditions.length === 0) return cut === undefined ? `SELECT ${columns} FROM groups WHERE ${visible}${checked(patterns)}` : undefined;
    const statistics = await this.wordStatistics();
    if (cut !== undefined && (statistics === undefined || fewPostings(affordable(conditions, statistics, WORD_POSTINGS, projects), statistics, projects, CUT_FEWEST_POSTINGS))) return undefined;
    const chosen = cut === undefined || statistics === undefined
      ? worthReading(conditions, statistics, WORD_POSTINGS, POSTINGS_PER_ISSUE, projects)
      : cutConditions(conditions, statistics, WORD_POSTINGS, POSTINGS_PER_ISSUE, projects, cut.share);
    // Only the entries of the projects asked for (none: no project, nothing to read).
    const words = splitQueryOf(chosen, projects);
    if (words === undefined) return undefined;
    // Behind OFFSET 0 the planner reads the word index alone: it would AND a sort index's range of
    // the projects, statuses and levels (hundreds of thousands of issues) into the bitmap, or use
    // the trigram indexes for the ILIKE. A cut (`since`) wants that AND, with the slice of the
    // sort index at or after `since` only: the query as a subquery's value hides it from the
    // planner, which then takes the word read for one of a few thousand issues rather than
    // the handful its statistics give, and ANDs the slice (tens of thousands) into it. A cut reads
    // fewer conditions (cutConditions()): it fetches only its share of their issues.
    const read = (query: string, placeholders: string[]) =>
      `SELECT ${columns} FROM (SELECT ${columns}, title, culprit, project_id, status, level FROM groups WHERE issue_words(project_id, title, culprit) @@ ${query}::tsquery OFFSET 0) c
       WHERE ${visible}${checked(placeholders)}`;
    if (cut !== undefined) {
      return `SELECT ${columns} FROM (SELECT ${columns}, title, culprit FROM groups
           WHERE issue_words(project_id, title, culprit) @@ (SELECT ${add(words)}::tsquery) AND ${visible} AND last_seen >= ${cut.from} OFFSET 0) c
         WHERE true${checked(patterns.filter((_, i) => !decides(terms[i]!, chosen)))}
         UNION ALL ${read(UNSPLIT, patterns)} AND last_seen >= ${cut.from}`;
    }
    return `${read(add(words), patterns.filter((_, i) => !decides(terms[i]!, chosen)))} UNION ALL ${read(UNSPLIT, patterns)}`;
  }

  /**
   * Where a cut of a text read by last_seen starts (domain: the cursor's microseconds): the
   * histogram bound below which lie about CUT_ISSUES_PER_ROW issues per row of the page (and the
   * cursor's value, if any), and the share of the table it holds. Undefined without a histogram, or when the cut would hold more than
   * CUT_MOST_SHARE of the table. Issues seen since ANALYZE only add to the cut: it holds at least
   * what the histogram says, never fewer.
   */
  private async cutBound(limit: number, cursor: KeysetCursor | undefined): Promise<{ bound: string; share: number } | undefined> {
    const histogram = await this.lastSeenHistograms();
    if (histogram === undefined || histogram.bounds.length < 2) return undefined;
    const { bounds, issues } = histogram;
    const buckets = bounds.length - 1;
    const wanted = Math.ceil(((limit + 1) * this.cutIssuesPerRow) / (issues / buckets));
    if (wanted > buckets * CUT_MOST_SHARE) return undefined;
    // The first bound at or above the cursor (or past the last one).
    const top = cursor === undefined ? buckets + 1 : bounds.findIndex((bound) => bound >= Number(cursor.value));
    const start = (top === -1 ? buckets + 1 : top) - wanted;
    return start < 0 ? undefined : { bound: String(bounds[start]), share: wanted / buckets };
  }

  /**
   * The issues of the most selective tag value of a search, when one matches at most CANDIDATES
   * issues of the projects (whatever their status, level or cursor); undefined when none does (or
   * the search has none). Each is read from its own index and no further than CANDIDATES + 1 matches.
   */
  private async tagCandidates(projectIds: number[], tags: [string, string][]): Promise<number[] | undefined> {
    let fewest: number[] | undefined;
    for (const [key, value] of tags) {
      const result = await this.pool.query<{ id: string }>(
        'SELECT group_id AS id FROM group_tag_values WHERE project_id = ANY($1) AND key = $2 AND value = $3 LIMIT $4',
        [projectIds, key, value, this.candidateLimit + 1],
      );
      const ids = result.rows.map((row) => Number(row.id));
      if (ids.length <= this.candidateLimit && (fewest === undefined || ids.length < fewest.length)) fewest = ids;
      if (fewest !== undefined && fewest.length === 0) break;
    }
    return fewest;
  }

  /** The word index's statistics as ANALYZE left them (undefined before it ran), read at most once a minute. */
  private wordStatistics(): Promise<WordStatistics | undefined> {
    if (this.statistics === undefined || Date.now() - this.statistics.read > STATISTICS_MS) {
      const value = this.pool.query<{ entries: string[]; frequencies: number[]; issues: number }>(
        `SELECT s.most_common_elems::text::text[] AS entries, s.most_common_elem_freqs AS frequencies, greatest(c.reltuples, 0)::float8 AS issues
         FROM pg_stats s JOIN pg_class c ON c.oid = 'groups'::regclass
         WHERE s.schemaname = current_schema() AND s.tablename = 'groups_project_words' AND s.most_common_elems IS NOT NULL`,
      ).then((result) => result.rows[0]);
      this.statistics = { read: Date.now(), value };
      // A failed read is not kept.
      value.catch(() => { this.statistics = undefined; });
    }
    return this.statistics.value;
  }

  /** last_seen's histogram bounds (ascending, in microseconds) and the number of issues, as ANALYZE left them, read at most once a minute. */
  private lastSeenHistograms(): Promise<{ bounds: number[]; issues: number } | undefined> {
    if (this.lastSeenHistogram === undefined || Date.now() - this.lastSeenHistogram.read > STATISTICS_MS) {
      const value = this.pool.query<{ bounds: string[]; issues: number }>(
        `SELECT ARRAY(SELECT (extract(epoch FROM b::timestamptz) * 1000000)::bigint::text FROM unnest(s.histogram_bounds::text::text[]) AS b) AS bounds, greatest(c.reltuples, 0)::float8 AS issues
         FROM pg_stats s JOIN pg_class c ON c.oid = 'groups'::regclass
         WHERE s.schemaname = current_schema() AND s.tablename = 'groups' AND s.attname = 'last_seen' AND s.histogram_bounds IS NOT NULL`,
      ).then((result) => {
        const row = result.rows[0];
        return row === undefined ? undefined : { bounds: row.bounds.map(Number).sort((a, b) => a - b), issues: row.issues };
      });
      this.lastSeenHistogram = { read: Date.now(), value };
      value.catch(() => { this.lastSeenHistogram = undefined; });
    }
    return this.lastSeenHistogram.value;
  }

  /** Visible events per issue and bucket (start in unix seconds) received since `since` (unix seconds). */
  async issueStats(groupIds: number[], since: number, rollupSeconds: number): Promise<{ group_id: number; bucket: number; count: number }[]> {
    const result = await this.pool.query<{ group_id: number; bucket: number; count: number }>(
      `SELECT e.group_id, (floor(extract(epoch FROM e.received_at) / $3) * $3)::bigint AS bucket, count(*)::int AS count
       FROM events e WHERE e.group_id = ANY($1) AND NOT e.pending_deletion AND e.received_at >= to_timestamp($2)
       GROUP BY 1, 2`,
      [groupIds, since, rollupSeconds],
    );
    return result.rows;
  }

  async projects(organizationSlug: string): Promise<ProjectRow[]> {
    const result = await this.pool.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE organization_slug = $1 ORDER BY slug`, [organizationSlug]);
    return result.rows;
  }

  async issue(groupId: number): Promise<GroupRow | undefined> {
    const result = await this.pool.query<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.id = $1 AND g.status <> 'pending_deletion'`, [groupId]);
    return result.rows[0];
  }

  async groupHashes(groupId: number): Promise<string[]> {
    const result = await this.pool.query<{ hash: string }>('SELECT hash FROM group_hashes WHERE group_id = $1 ORDER BY hash', [groupId]);
    return result.rows.map((row) => row.hash);
  }

  /** An event by its id: `event_ids` gives its received time, which with the id is the events' key. */
  async event(projectId: number, eventId: string): Promise<EventRow | undefined> {
    const result = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM event_ids d, ${VISIBLE_EVENTS}
         AND d.project_id = $1 AND d.event_id = $2 AND e.project_id = d.project_id AND e.received_at = d.received_at AND e.event_id = d.event_id`,
      [projectId, eventId],
    );
    return result.rows[0];
  }

  /**
   * A page of events, newest first (or oldest first), of one issue or one project, read from the
   * cursor on along the (issue or project, received_at, event_id) index.
   */
  async events(scope: { groupId: number } | { projectId: number }, page: { cursor?: KeysetCursor | undefined; limit: number; oldestFirst?: boolean }): Promise<(EventRow & { sort_value: string })[]> {
    const [column, id] = 'groupId' in scope ? ['e.group_id', scope.groupId] : ['e.project_id', scope.projectId];
    const backwards = page.cursor?.before === true;
    const ascending = (page.oldestFirst === true) !== backwards;
    const [direction, compare] = ascending ? ['ASC', '>'] : ['DESC', '<'];
    const params: unknown[] = [id, page.limit + 1];
    const after = page.cursor
      ? ` AND (e.received_at, e.event_id) ${compare} (${TIME_VALUE.bound('$3')}, $4)`
      : '';
    if (page.cursor) params.push(page.cursor.value, page.cursor.key);
    const result = await this.pool.query<EventRow & { sort_value: string }>(
      `SELECT ${EVENT_COLUMNS}, ${TIME_VALUE.of('received_at')('e')}::text AS sort_value FROM ${VISIBLE_EVENTS} AND ${column} = $1${after}
       ORDER BY e.received_at ${direction}, e.event_id ${direction} LIMIT $2`,
      params,
    );
    return backwards ? result.rows.reverse() : result.rows;
  }

  /** The issue's visible events just before and after this one, in the order of its event list (Sentry's previousEventID / nextEventID). */
  async adjacentEvents(row: Pick<EventRow, 'group_id' | 'received_at' | 'event_id'>): Promise<{ previous: string | null; next: string | null }> {
    const neighbour = (comparison: '<' | '>', direction: 'ASC' | 'DESC') =>
      `(SELECT e.event_id FROM ${VISIBLE_EVENTS} AND e.group_id = $1 AND (e.received_at, e.event_id) ${comparison} ($2, $3) ORDER BY e.received_at ${direction}, e.event_id ${direction} LIMIT 1)`;
    const result = await this.pool.query<{ previous: string | null; next: string | null }>(`SELECT ${neighbour('<', 'DESC')} AS previous, ${neighbour('>', 'ASC')} AS next`, [row.group_id, row.received_at, row.event_id]);
    return result.rows[0]!;
  }

  /**
   * Each tag key of an issue: the sum and number of its values and the nine most frequent, computed
   * in Postgres over the key's rows (an issue with many users has many `user` values).
   */
  async tagSummaries(groupId: number): Promise<TagKeySummary[]> {
    const result = await this.pool.query<TagKeySummary>(
      `SELECT k.key, k.total_values, k.unique_values, top.values AS top_values
       FROM (SELECT key, sum(times_seen)::bigint AS total_values, count(*)::int AS unique_values FROM group_tag_values WHERE group_id = $1 GROUP BY key) k
       CROSS JOIN LATERAL (
         SELECT COALESCE(json_agg(json_build_object('key', v.key, 'value', v.value, 'count', v.times_seen, 'first_seen', v.first_seen, 'last_seen', v.last_seen) ORDER BY v.times_seen DESC, v.value), '[]') AS values
         FROM (SELECT key, value, times_seen, first_seen, last_seen FROM group_tag_values WHERE group_id = $1 AND key = k.key ORDER BY times_seen DESC, value LIMIT 9) v) top
       ORDER BY k.key`,
      [groupId],
    );
    return result.rows.map((row) => ({ ...row, top_values: row.top_values.map((value) => ({ ...value, first_seen: new Date(value.first_seen), last_seen: new Date(value.last_seen) })) }));
  }

  /** A page of one tag key's values of an issue, most frequent first (then by value), from the cursor on. */
  async tagValues(groupId: number, key: string, page: { cursor?: KeysetCursor | undefined; limit: number }): Promise<(TagValueRow & { sort_value: string })[]> {
    const backwards = page.cursor?.before === true;
    const direction = backwards ? 'ASC' : 'DESC';
    const params: unknown[] = [groupId, key, page.limit + 1];
    // Frequent first, then by value ascending: the tie-break runs opposite to the count, so the
    // comparison is spelled out rather than a row comparison.
    let after = '';
    if (page.cursor) {
      params.push(page.cursor.value, Buffer.from(page.cursor.key, 'base64url').toString('utf8'));
      after = backwards
        ? ` AND (times_seen > $4 OR (times_seen = $4 AND value < $5))`
        : ` AND (times_seen < $4 OR (times_seen = $4 AND value > $5))`;
    }
    const valueOrder = backwards ? 'DESC' : 'ASC';
    const result = await this.pool.query<TagValueRow & { sort_value: string }>(
      `SELECT key, value, times_seen::int AS count, first_seen, last_seen, times_seen::text AS sort_value FROM group_tag_values
       WHERE group_id = $1 AND key = $2${after} ORDER BY times_seen ${direction}, value ${valueOrder} LIMIT $3`,
      params,
    );
    return backwards ? result.rows.reverse() : result.rows;
  }

  async keys(projectId: number): Promise<KeyRow[]> {
    const result = await this.pool.query<KeyRow>('SELECT public_key, secret_key, project_id, label, active, created_at, rate_limit_count, rate_limit_window FROM project_keys WHERE project_id = $1 ORDER BY created_at, public_key', [projectId]);
    return result.rows;
  }

  /** A page of an organization's audit log, newest first; `event` and `actor` match exactly. */
  async auditLog(organizationSlug: string, filter: { event?: string | undefined; actor?: string | undefined }, page: { offset: number; limit: number }): Promise<{ rows: AuditRow[]; hasNext: boolean }> {
    const result = await this.pool.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE organization_slug = $1 AND ($2::text IS NULL OR event = $2) AND ($3::text IS NULL OR actor = $3)
       ORDER BY created_at DESC, id DESC OFFSET $4 LIMIT $5`,
      [organizationSlug, filter.event ?? null, filter.actor ?? null, page.offset, page.limit + 1],
    );
    return { rows: result.rows.slice(0, page.limit), hasNext: result.rows.length > page.limit };
  }

  /** The audit entries of one transaction, oldest first. */
  async auditTrail(organizationSlug: string, transactionId: string): Promise<AuditRow[]> {
    const result = await this.pool.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE organization_slug = $1 AND transaction_id = $2 ORDER BY created_at, id`,
      [organizationSlug, transactionId],
    );
    return result.rows;
  }

  /** A deletion with its project's slug and organization; undefined when unknown or its project is. */
  async deletion(transactionId: string): Promise<DeletionRow | undefined> {
    const result = await this.pool.query<DeletionRow>(
      `SELECT d.transaction_id, d.kind, d.project_id, p.slug AS project_slug, p.organization_slug, d.group_id::text AS group_id, d.event_id, d.actor,
         d.requested_at, d.state, d.attempts, d.last_error, d.chunks, d.events_removed, d.rows_removed, d.completed_at
       FROM deletions d JOIN projects p ON p.id = d.project_id WHERE d.transaction_id = $1`,
      [transactionId],
    );
    return result.rows[0];
  }

  async organization(slug: string): Promise<{ slug: string; name: string; created_at: Date } | undefined> {
    return (await this.pool.query<{ slug: string; name: string; created_at: Date }>('SELECT slug, name, created_at FROM organizations WHERE slug = $1', [slug])).rows[0];
  }

  async teams(organizationSlug: string, viewer: TeamViewer | null = null): Promise<TeamRow[]> {
    return (await this.pool.query<TeamRow>(`SELECT ${TEAM_COLUMNS} WHERE t.organization_slug = $1 ORDER BY t.slug`, [organizationSlug, viewer?.memberId ?? null, viewer?.minimumTeamRole ?? null])).rows;
  }

  /** A team of the organization by its slug or, as Sentry allows, its id. */
  async team(organizationSlug: string, idOrSlug: string, viewer: TeamViewer | null = null): Promise<TeamRow | undefined> {
    return (await this.pool.query<TeamRow>(`SELECT ${TEAM_COLUMNS} WHERE t.organization_slug = $1 AND (t.slug = $4 OR t.id::text = $4)`, [organizationSlug, viewer?.memberId ?? null, viewer?.minimumTeamRole ?? null, idOrSlug])).rows[0];
  }

  async teamProjects(teamId: number): Promise<ProjectRow[]> {
    const result = await this.pool.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE id IN (SELECT project_id FROM project_teams WHERE team_id = $1) ORDER BY slug`, [teamId]);
    return result.rows;
  }

  /** The id a new project gets: the next after the highest. */
  async nextProjectId(): Promise<number> {
    return (await this.pool.query<{ next: number }>('SELECT (coalesce(max(id), 0) + 1)::int AS next FROM projects')).rows[0]!.next;
  }
}
