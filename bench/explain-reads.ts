import { createPool, type Pool } from '@trapline/runtime';
import { ReadModel } from '../services/api/src/adapters/read-model.ts';
import { parseIssueSearch, type IssueSort } from '../services/api/src/domain/search.ts';
import { statsWindow, type GroupStatsPeriod } from '../services/api/src/domain/stats.ts';

// EXPLAIN (ANALYZE, BUFFERS) of the SQL behind the reads of bench/reads.ts, run by the api's own read
// model against a filled bench database: `node --import tsx bench/explain-reads.ts <database url>
// [read name …]`. Prints markdown (one plan per read, the last of two runs: warm) for the results file.

type Ask = (model: ReadModel) => Promise<unknown>;

const list = (query: string, sort: IssueSort = 'date', projectIds = [1], periodMs: number | null = null): Ask => async (model) => {
  const parsed = parseIssueSearch(query);
  if (!parsed.ok) throw new Error(parsed.detail);
  return model.issues({ projectIds, search: parsed.search, sort, periodMs, now: Date.now(), cursor: undefined, limit: 100 });
};

const stats = (period: GroupStatsPeriod): Ask => async (model) => {
  const page = await model.issues({ projectIds: [1], search: parseIssueSearch('is:unresolved').ok ? { statuses: ['unresolved'], levels: [], tags: [], text: [] } : never(), sort: 'date', periodMs: null, now: Date.now(), cursor: undefined, limit: 100 });
  const { since, rollupSeconds } = statsWindow(period, Date.now());
  return model.issueStats(page.map((group) => group.id), since, rollupSeconds);
};

function never(): never {
  throw new Error('unreachable');
}

export const ASKS: Record<string, Ask> = {
  'default list (unresolved, by date)': list('is:unresolved'),
  'sort new': list('is:unresolved', 'new'),
  'sort freq': list('is:unresolved', 'freq'),
  'sort user': list('is:unresolved', 'user'),
  'all statuses': list(''),
  'level filter': list('is:unresolved level:info'),
  'text search, rare word': list("is:unresolved field123'"),
  'text search, rare word, sort user': list("is:unresolved field123'", 'user'),
  'text search, common words': list('is:unresolved Cannot read'),
  'text search, culprit': list('is:unresolved module12 handler12'),
  'tag search': list('is:unresolved user:u123'),
  'tag search, sort new': list('is:unresolved user:u123', 'new'),
  'tag search, common value': list('is:unresolved browser:Chrome'),
  'statsPeriod 24h': list('is:unresolved', 'date', [1], 86_400_000),
  'statsPeriod 24h, sort freq': list('is:unresolved', 'freq', [1], 86_400_000),
  'stats series 24h (groupStatsPeriod)': stats('24h'),
  'stats series 14d (groupStatsPeriod)': stats('14d'),
  'organization list (4 projects)': list('is:unresolved', 'date', [1, 2, 3, 4]),
  'hot issue events': (model) => model.events({ groupId: 1 }, { limit: 100 }),
  'project events': (model) => model.events({ projectId: 1 }, { limit: 100 }),
  'hot issue tags': (model) => model.tagSummaries(1),
  'hot issue tag values (user)': (model) => model.tagValues(1, 'user', { limit: 100 }),
};

/** The plans of every statement `ask` runs, as text. */
export async function explain(pool: Pool, ask: Ask): Promise<string[]> {
  const plans: string[] = [];
  const explaining = {
    query: async (text: string, params?: unknown[]) => {
      const result = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
      plans.push(result.rows.map((row) => row['QUERY PLAN']).join('\n'));
      return pool.query(text, params);
    },
  } as unknown as Pool;
  await ask(new ReadModel(explaining));
  return plans;
}

if (import.meta.filename === process.argv[1]) {
  const [url, ...names] = process.argv.slice(2);
  if (!url) throw new Error('usage: explain-reads.ts <database url> [read name …]');
  const pool = createPool(url, 1);
  for (const [name, ask] of Object.entries(ASKS)) {
    if (names.length > 0 && !names.some((wanted) => name.includes(wanted))) continue;
    await explain(pool, ask);
    const plans = await explain(pool, ask);
    process.stdout.write(`### ${name}\n\n\`\`\`\n${plans.join('\n\n')}\n\`\`\`\n\n`);
  }
  await pool.end();
}
