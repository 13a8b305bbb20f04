import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolated, type Isolated } from '../../../../test/harness.ts';
import type { IssueSearch, IssueSort } from '../domain/search.ts';
import type { KeysetCursor } from '../domain/keyset.ts';
import { ReadModel, type IssueListQuery } from './read-model.ts';
import { decides, splitQueryOf, wordConditions, wordQuery } from '../domain/text-words.ts';

// The issue list reads a page in one of two ways (read-model.ts): led by a selective tag value or
// text terms (their matching issues looked up by id), or by walking the sort's index with every
// filter checked per issue. Which one a search takes depends on how many issues its filters match,
// so a small deployment only ever takes the first. Here the same searches run both ways (a read
// model whose candidate limit is 0 walks every filtered search) over rows written straight into
// the read model's tables, and every page, walked by cursor to the end, is held to the order worked
// out here from the rows themselves. Text terms lead through the word index (domain/text-words.ts),
// or through the trigram indexes when a term gives it nothing; the answers are the substring
// matches either way.

const PROJECTS = [11, 12];
const STATUSES = ['unresolved', 'resolved', 'ignored', 'pending_deletion'] as const;
const LEVELS = ['error', 'warning', 'info', 'fatal'] as const;
const BROWSERS = ['firefox', 'firefox', 'chrome', 'rare'] as const;
const NOW = Date.UTC(2026, 11, 1, 12);

interface Issue {
  id: number;
  projectId: number;
  title: string;
  culprit: string;
  status: (typeof STATUSES)[number];
  level: (typeof LEVELS)[number];
  firstSeen: number;
  lastSeen: number;
  timesSeen: number;
  tags: [string, string][];
}

/** Deterministic rows with ties in every sort column (so the id tie-break matters). */
function issues(count: number): Issue[] {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n; // the high bits: the low ones of this generator cycle quickly
  };
  return Array.from({ length: count }, (_, index) => {
    const words = ['alpha', 'beta', 'gamma'].filter(() => next(3) > 0);
    const users = next(4);
    const lastSeen = NOW - next(40) * 3600_000;
    return {
      id: 1000 + index,
      projectId: PROJECTS[next(2)]!,
      title: `Error ${words.join(' ')} #${index}`,
      culprit: `mod${next(5)} in handler${next(3)}`,
      status: STATUSES[next(4)]!,
      level: LEVELS[next(4)]!,
      firstSeen: lastSeen - next(10) * 3600_000,
      lastSeen,
      timesSeen: 1 + next(6),
      tags: [['browser', BROWSERS[next(4)]!], ...Array.from({ length: users }, (_, user) => ['user', `id:${user}`] as [string, string])],
    };
  });
}

/** Titles the word index does not split (past 4,000 characters; a word over 64), one outside ASCII, one of punctuated words. */
const SPECIAL_TITLES = [`Error alpha ${'x'.repeat(4100)}`, `Error gamma ${'y'.repeat(70)}handler2tail`, 'Ünïcode alpha ÄBC beta', 'Error:alpha.beta/gamma_delta #12'];
const ROWS = issues(240 + SPECIAL_TITLES.length).map((issue, index) => (index < 240 ? issue : { ...issue, title: SPECIAL_TITLES[index - 240]! }));
const SORTED_BY: Record<IssueSort, (issue: Issue) => number> = {
  date: (issue) => issue.lastSeen,
  new: (issue) => issue.firstSeen,
  freq: (issue) => issue.timesSeen,
  user: (issue) => issue.tags.filter(([key]) => key === 'user').length,
};

function expected(search: IssueSearch, sort: IssueSort, periodMs: number | null, projects: number[] = PROJECTS): number[] {
  const statuses: string[] = search.statuses.length > 0 ? search.statuses : ['unresolved', 'resolved', 'ignored'];
  const levels: string[] = search.levels.length > 0 ? search.levels : [...LEVELS, 'debug'];
  const value = SORTED_BY[sort];
  return ROWS.filter((issue) =>
    projects.includes(issue.projectId) &&
    statuses.includes(issue.status) &&
    levels.includes(issue.level) &&
    search.tags.every(([key, tag]) => issue.tags.some(([k, v]) => k === key && v === tag)) &&
    search.text.every((term) => `${issue.title}\n${issue.culprit}`.toLowerCase().split('\n').some((field) => field.includes(term.toLowerCase()))) &&
    (periodMs === null || issue.lastSeen >= NOW - periodMs))
    .sort((a, b) => value(b) - value(a) || b.id - a.id)
    .map((issue) => issue.id);
}

const SEARCHES: { name: string; search: IssueSearch; periodMs?: number }[] = [
  { name: 'a common word', search: { statuses: [], levels: [], tags: [], text: ['alpha'] } },
  { name: 'two words, in title and culprit', search: { statuses: [], levels: [], tags: [], text: ['BETA', 'mod1'] } },
  { name: 'a common tag value', search: { statuses: [], levels: [], tags: [['browser', 'firefox']], text: [] } },
  { name: 'a rare tag value and a word', search: { statuses: [], levels: [], tags: [['browser', 'rare']], text: ['gamma'] } },
  { name: 'status, level, tag and a period', search: { statuses: ['resolved', 'ignored'], levels: ['error', 'fatal'], tags: [['browser', 'chrome']], text: [] }, periodMs: 20 * 3600_000 },
  { name: 'two tags', search: { statuses: [], levels: [], tags: [['browser', 'firefox'], ['user', 'id:1']], text: ['handler2'] } },
  { name: 'no match', search: { statuses: [], levels: [], tags: [['browser', 'none']], text: [] } },
  { name: 'inside a word', search: { statuses: [], levels: [], tags: [], text: ['LPH'] } },
  { name: 'a word ended by punctuation', search: { statuses: [], levels: [], tags: [], text: ['alpha.'] } },
  { name: 'a phrase across words', search: { statuses: [], levels: [], tags: [], text: ['ror gam'] } },
  { name: 'a term only the trigram indexes see', search: { statuses: [], levels: [], tags: [], text: ['#12'] } },
  { name: 'a term outside ASCII and a word', search: { statuses: ['unresolved', 'resolved'], levels: [], tags: [], text: ['Ünïcode', 'beta'] } },
  { name: 'in a title too long to split', search: { statuses: [], levels: [], tags: [], text: ['xxxxxxxx', 'alpha'] } },
  { name: 'in a word over 64 characters', search: { statuses: [], levels: [], tags: [], text: ['yhandler2'] } },
  { name: 'a word and a term ended by digits', search: { statuses: [], levels: [], tags: [], text: ['#12', 'mod1 in'] } },
];

let env: Isolated;

beforeAll(async () => {
  env = await isolated();
  await env.pool.query(
    `INSERT INTO groups (id, project_id, short_id, title, culprit, type, level, platform, status, first_seen, last_seen, times_seen, grouping_version)
     SELECT id, project_id, id, title, culprit, 'error', level, 'javascript', status, to_timestamp(first_seen / 1000.0), to_timestamp(last_seen / 1000.0), times_seen, 'test'
     FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, project_id bigint, title text, culprit text, level text, status text, first_seen bigint, last_seen bigint, times_seen bigint)`,
    [JSON.stringify(ROWS.map((issue) => ({ id: issue.id, project_id: issue.projectId, title: issue.title, culprit: issue.culprit, level: issue.level, status: issue.status, first_seen: issue.firstSeen, last_seen: issue.lastSeen, times_seen: issue.timesSeen })))],
  );
  await env.pool.query(
    `INSERT INTO group_tag_values (group_id, project_id, key, value, times_seen, first_seen, last_seen)
     SELECT group_id, project_id, key, value, 1, now(), now() FROM jsonb_to_recordset($1::jsonb) AS r(group_id bigint, project_id bigint, key text, value text)`,
    [JSON.stringify(ROWS.flatMap((issue) => issue.tags.map(([key, value]) => ({ group_id: issue.id, project_id: issue.projectId, key, value }))))],
  );
}, 180000);

afterAll(async () => {
  await env?.dispose();
});

/** Every page of `limit` from the first on, following the cursor the last row of each page gives. */
async function walk(readModel: ReadModel, base: Omit<IssueListQuery, 'cursor' | 'limit'>, limit: number): Promise<{ ids: number[]; pages: number[][] }> {
  const pages: number[][] = [];
  let cursor: KeysetCursor | undefined;
  for (;;) {
    const rows = await readModel.issues({ ...base, cursor, limit });
    const page = rows.slice(0, limit);
    pages.push(page.map((row) => Number(row.id)));
    if (rows.length <= limit) break;
    const last = page[page.length - 1]!;
    cursor = { value: last.sort_value, key: String(last.id), before: false };
    if (pages.length > 100) throw new Error('the walk does not end');
  }
  return { ids: pages.flat(), pages };
}

describe('the word index', () => {
  // Texts of letters, digits, punctuation and characters outside ASCII, and terms cut from them
  // (so each matches at least its own text), in any case: every issue a term's ILIKE matches
  // satisfies the term's word query, or leading by the word index would lose it.
  const ALPHABET = ['a', 'b', 'c', 'x', 'Y', 'Z', '1', '2', '0', 'a', 'b', 'c', 'A', 'B', '1', '2', ' ', ' ', '.', "'", '_', '%', '\\', '-', ':', '(', 'é', 'Ä', '\u212a'];
  let seed = 11;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor(seed / 65536) % n;
  };
  const text = (length: number) => Array.from({ length }, () => ALPHABET[next(ALPHABET.length)]!).join('');
  const texts = Array.from({ length: 400 }, () => ({ title: text(5 + next(40)), culprit: text(next(20)) }));
  const terms = texts.flatMap(({ title, culprit }) => [title, culprit, title].map((from) => {
    const start = next(Math.max(1, from.length - 2));
    const cut = from.slice(start, start + 1 + next(12));
    return next(2) === 0 ? cut.toUpperCase() : cut;
  })).filter((term) => term.trim() !== '' && wordQuery([term], [99]) !== undefined);

  beforeAll(async () => {
    await env.pool.query(
      `INSERT INTO groups (id, project_id, short_id, title, culprit, type, level, platform, status, first_seen, last_seen, times_seen, grouping_version)
       SELECT 100000 + t.n, 99, 100000 + t.n, t.title, t.culprit, 'error', 'error', 'javascript', 'unresolved', now(), now(), 1, 'test'
       FROM jsonb_to_recordset($1::jsonb) AS t(title text, culprit text, n bigint)`,
      [JSON.stringify(texts.map((row, n) => ({ ...row, n })))],
    );
  });

  it("holds every issue a term's ILIKE matches", async () => {
    expect(terms.length).toBeGreaterThan(200);
    const result = await env.pool.query<{ term: string; matched: number; missed: string[] }>(
      `SELECT t.term, count(*)::int AS matched, array_agg(g.title || ' / ' || g.culprit) FILTER (WHERE NOT issue_words(g.project_id, g.title, g.culprit) @@ t.query::tsquery) AS missed
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(term, pattern, query)
       JOIN groups g ON g.project_id = 99 AND (g.title ILIKE t.pattern OR g.culprit ILIKE t.pattern)
       GROUP BY t.term`,
      [terms, terms.map((term) => `%${term.replace(/[\\%_]/g, '\\$&')}%`), terms.map((term) => wordQuery([term], [99]))],
    );
    expect(result.rows.length, 'every term matches its own text').toBe(new Set(terms).size);
    expect(result.rows.filter((row) => row.missed !== null)).toEqual([]);
  });

  it("finds no issue of a project its query does not name", async () => {
    const result = await env.pool.query<{ found: number }>(
      `SELECT count(*)::int AS found FROM unnest($1::text[]) AS t(query)
       JOIN (SELECT issue_words(project_id, title, culprit) AS words FROM groups WHERE project_id = 99 OFFSET 0) g ON g.words @@ t.query::tsquery`,
      [[...new Set(terms)].map((term) => splitQueryOf(wordConditions([term]), [9, 98, 990]))],
    );
    expect(result.rows[0]!.found).toBe(0);
  });

  it("finds only issues a term's ILIKE matches when it decides the term alone", async () => {
    const decided = [...new Set([...terms, ...texts.flatMap(({ title }) => title.match(/[A-Za-z0-9]{3,}/g) ?? [])])].filter((term) => decides(term, wordConditions([term])));
    expect(decided.length).toBeGreaterThan(50);
    const result = await env.pool.query<{ term: string; found: number; unmatched: string[] }>(
      `SELECT t.term, count(*)::int AS found, array_agg(g.title || ' / ' || g.culprit) FILTER (WHERE NOT (g.title ILIKE t.pattern OR g.culprit ILIKE t.pattern)) AS unmatched
       FROM unnest($1::text[], $2::text[], $3::text[]) AS t(term, pattern, query)
       JOIN (SELECT title, culprit, issue_words(project_id, title, culprit) AS words FROM groups WHERE project_id = 99 OFFSET 0) g ON g.words @@ t.query::tsquery
       GROUP BY t.term`,
      [decided, decided.map((term) => `%${term}%`), decided.map((term) => splitQueryOf(wordConditions([term]), [99]))],
    );
    expect(result.rows.length, 'every term finds its own text').toBe(decided.length);
    expect(result.rows.filter((row) => row.unmatched !== null)).toEqual([]);
  });
});

describe('issue lists led by their candidates and walked by the sort index', () => {
  const led = () => new ReadModel(env.pool);
  const walked = () => new ReadModel(env.pool, 0);

  for (const sort of ['date', 'new', 'freq', 'user'] as const) {
    it.each(SEARCHES)(`sorted by ${sort}: $name`, async ({ search, periodMs }) => {
      const base = { projectIds: PROJECTS, search, sort, periodMs: periodMs ?? null, now: NOW };
      const want = expected(search, sort, periodMs ?? null);
      const ledWalk = await walk(led(), base, 7);
      const walkedWalk = await walk(walked(), base, 7);
      expect(ledWalk.ids, 'led by candidates').toEqual(want);
      expect(walkedWalk.ids, 'walked by the sort index').toEqual(want);
      expect(walkedWalk.pages).toEqual(ledWalk.pages);
    });
  }

  it('reads the page before a row the same way on both paths', async () => {
    const search: IssueSearch = { statuses: [], levels: [], tags: [['browser', 'firefox']], text: ['alpha'] };
    const want = expected(search, 'date', null);
    expect(want.length).toBeGreaterThan(10);
    const anchor = ROWS.find((issue) => issue.id === want[8])!;
    const cursor: KeysetCursor = { value: String(anchor.lastSeen * 1000), key: String(anchor.id), before: true };
    for (const readModel of [led(), walked()]) {
      const rows = await readModel.issues({ projectIds: PROJECTS, search, sort: 'date', periodMs: null, now: NOW, cursor, limit: 5 });
      expect(rows.slice(-5).map((row) => Number(row.id))).toEqual(want.slice(3, 8));
    }
  });

  // Last: once ANALYZE has run, the read model leaves out the conditions its statistics find too
  // common (a term such as `alpha`, held by most titles here, then leaves the list to the walk).
  it.each(SEARCHES)('with the word index analyzed: $name', async ({ search, periodMs }) => {
    await env.pool.query('ANALYZE groups');
    const base = { projectIds: PROJECTS, search, sort: 'date' as const, periodMs: periodMs ?? null, now: NOW };
    expect((await walk(led(), base, 7)).ids).toEqual(expected(search, 'date', periodMs ?? null));
  });
});

describe('issue lists of some of the projects', () => {
  // The word index reads the entries of the projects asked for only (its entries are by project):
  // every text search here matches issues of both projects, and a list of one (or of one and a
  // project with no issue) must hold that project's matches, led and walked alike.
  const textSearches = SEARCHES.filter(({ search }) => search.text.length > 0);
  for (const projects of [[11], [12, 13], [13]]) {
    it.each(textSearches)(`projects ${projects.join(', ')}: $name`, async ({ search, periodMs }) => {
      const base = { projectIds: projects, search, sort: 'date' as const, periodMs: periodMs ?? null, now: NOW };
      const want = expected(search, 'date', periodMs ?? null, projects);
      expect((await walk(new ReadModel(env.pool), base, 7)).ids, 'led').toEqual(want);
      expect((await walk(new ReadModel(env.pool, 0), base, 7)).ids, 'walked').toEqual(want);
    });
  }

  it('have matches of either project for the searches of both', () => {
    const some = textSearches.filter(({ search, periodMs }) => [11, 12].every((project) => expected(search, 'date', periodMs ?? null, [project]).length > 0));
    expect(some.length).toBeGreaterThan(5);
  });
});

describe('issue lists walked over a few ranges, merged in the sort order', () => {
  // Two projects, one status, three levels: six ranges, which a walk reads merged (read-model.ts MERGED_RANGES).
  const few: Pick<IssueSearch, 'statuses' | 'levels'> = { statuses: ['unresolved'], levels: ['error', 'warning', 'info'] };
  const searches: { name: string; search: IssueSearch }[] = [
    { name: 'no filter', search: { ...few, tags: [], text: [] } },
    { name: 'a common word', search: { ...few, tags: [], text: ['alpha'] } },
    { name: 'a common tag value and a word', search: { ...few, tags: [['browser', 'firefox']], text: ['beta'] } },
  ];
  for (const sort of ['date', 'new', 'freq', 'user'] as const) {
    it.each(searches)(`sorted by ${sort}: $name`, async ({ search }) => {
      const base = { projectIds: PROJECTS, search, sort, periodMs: null, now: NOW };
      const want = expected(search, sort, null);
      expect(want.length).toBeGreaterThan(7);
      expect((await walk(new ReadModel(env.pool, 0), base, 7)).ids).toEqual(want);
      expect((await walk(new ReadModel(env.pool), base, 7)).ids).toEqual(want);
    });
  }
});

describe('issue lists of no project', () => {
  // An organization's list filtered to projects it does not have asks for none: no range to walk.
  it.each([
    { name: 'no filter', search: { statuses: [], levels: [], tags: [], text: [] } },
    { name: 'a word', search: { statuses: [], levels: [], tags: [], text: ['alpha'] } },
    { name: 'a tag value', search: { statuses: [], levels: [], tags: [['browser', 'firefox']], text: [] } },
  ] satisfies { name: string; search: IssueSearch }[])('are empty: $name', async ({ search }) => {
    expect(await new ReadModel(env.pool).issues({ projectIds: [], search, sort: 'date', periodMs: null, now: NOW, cursor: undefined, limit: 25 })).toEqual([]);
  });
});

describe('text reads by date cut at the top of the histogram', () => {
  // A read by last_seen first reads the matches seen after a bound of last_seen's histogram (a
  // cut: read-model.ts cutBound()), and takes its page from them when it is full there. Here with
  // cuts of a few buckets (30 issues of the table per row of a page of 7, about 10 % of it), so that some pages come from a cut
  // and the others from the full read; every page, walked by cursor, must be the one worked out
  // from the rows. The cut needs last_seen's histogram: the rows here have 40 values of it (ties),
  // so issues of another project, seen at distinct times over the same hours, give it one.
  const textSearches = SEARCHES.filter(({ search }) => search.text.length > 0);
  beforeAll(async () => {
    await env.pool.query(
      `INSERT INTO groups (id, project_id, short_id, title, culprit, type, level, platform, status, first_seen, last_seen, times_seen, grouping_version)
       SELECT 200000 + n, 98, 200000 + n, 'Other ' || n, 'elsewhere', 'error', 'error', 'javascript', 'unresolved', to_timestamp($1 / 1000.0) - interval '2 days',
         to_timestamp($1 / 1000.0) - (n * 48271 % 144000) * interval '1 second', 1, 'test'
       FROM generate_series(1, 3000) AS n`,
      [NOW],
    );
    await env.pool.query('ANALYZE groups');
  });
  it.each(textSearches)('$name', async ({ search, periodMs }) => {
    const answers: number[] = [];
    const recording = {
      query: async (text: string, params?: unknown[]) => {
        const result = await env.pool.query(text, params);
        if (text.includes('::tsquery) AND')) answers.push(result.rows.length);
        return result;
      },
    } as unknown as typeof env.pool;
    const base = { projectIds: PROJECTS, search, sort: 'date' as const, periodMs: periodMs ?? null, now: NOW };
    const want = expected(search, 'date', periodMs ?? null);
    expect((await walk(new ReadModel(recording, undefined, 30), base, 7)).ids).toEqual(want);
    cuts.push(...answers);
  });

  const cuts: number[] = [];
  it('took some pages from a cut and read all matches for others', () => {
    expect(cuts.filter((rows) => rows === 8).length, 'pages from a cut').toBeGreaterThan(5);
    expect(cuts.filter((rows) => rows < 8).length, 'cuts short of a page').toBeGreaterThan(0);
  });
});
