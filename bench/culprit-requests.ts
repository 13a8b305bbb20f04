import { createPool, type Pool } from '@trapline/runtime';
import { ReadModel } from '../services/api/src/adapters/read-model.ts';
import { parseIssueSearch } from '../services/api/src/domain/search.ts';

// Each request of bench/reads.ts's `text search, culprit` read on its own, in process (no HTTP),
// against a kept bench database: `node --import tsx bench/culprit-requests.ts <database url>
// [first n] [last n] [runs] [explain n …]`. For every n, the fastest of `runs` warm calls of
// ReadModel.issues() (the bench's query, page of 100) and the statements it sent with their own
// times; slowest first. `explain` n: EXPLAIN (ANALYZE, BUFFERS) of those requests' statements.

const query = (n: number) => `is:unresolved module${n % 300} handler${n % 50}`;

interface Sent {
  text: string;
  params: unknown[] | undefined;
  ms: number;
  rows: number;
}

function recording(pool: Pool, sent: Sent[]): Pool {
  return {
    query: async (text: string, params?: unknown[]) => {
      const start = process.hrtime.bigint();
      const result = await pool.query(text, params);
      sent.push({ text, params: params ? [...params] : params, ms: Number(process.hrtime.bigint() - start) / 1e6, rows: result.rows.length });
      return result;
    },
  } as unknown as Pool;
}

async function ask(model: ReadModel, n: number) {
  const parsed = parseIssueSearch(query(n));
  if (!parsed.ok) throw new Error(parsed.detail);
  return model.issues({ projectIds: [1], search: parsed.search, sort: 'date', periodMs: null, now: Date.now(), cursor: undefined, limit: 100 });
}

const [url, first = '1', last = '60', runs = '5', ...explained] = process.argv.slice(2);
if (!url) throw new Error('usage: culprit-requests.ts <database url> [first n] [last n] [runs] [explain n …]');
const pool = createPool(url, 1);
const results: { n: number; ms: number; sent: Sent[]; rows: number }[] = [];
for (let n = Number(first); n <= Number(last); n += 1) {
  let best: { ms: number; sent: Sent[]; rows: number } | undefined;
  for (let run = 0; run < Number(runs); run += 1) {
    const sent: Sent[] = [];
    const start = process.hrtime.bigint();
    const rows = await ask(new ReadModel(recording(pool, sent)), n);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (best === undefined || ms < best.ms) best = { ms, sent, rows: rows.length };
  }
  results.push({ n, ...best! });
}
for (const { n, ms, sent, rows } of [...results].sort((a, b) => b.ms - a.ms)) {
  process.stdout.write(`n ${String(n).padStart(3)} ${query(n).padEnd(36)} ${ms.toFixed(1).padStart(6)} ms, ${rows} rows; statements ${sent.map((s) => `${s.ms.toFixed(1)} (${s.rows})`).join(', ')}\n`);
}
for (const n of explained.map(Number)) {
  const sent: Sent[] = [];
  await ask(new ReadModel(recording(pool, sent)), n);
  process.stdout.write(`\n### n ${n}: ${query(n)}\n`);
  for (const { text, params } of sent) {
    if (/pg_stats/.test(text)) continue;
    await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
    const plan = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
    process.stdout.write(`\n${text}\n-- ${JSON.stringify(params)}\n${plan.rows.map((row) => row['QUERY PLAN']).join('\n')}\n`);
  }
}
await pool.end();
