import { readFileSync } from 'node:fs';
import { createPool, type Pool } from '@trapline/runtime';
import { ReadModel } from '../services/api/src/adapters/read-model.ts';
import { parseIssueSearch } from '../services/api/src/domain/search.ts';

// Each request of bench/reads.ts's `text search, culprit` read on its own, in process (no HTTP),
// against a kept bench database: `node --import tsx bench/culprit-requests.ts <database url>
// [first n] [last n] [runs] [explain n …]`. For every n, the fastest of `runs` warm calls of
// ReadModel.issues() (the bench's query, page of 100) and the statements it sent with their own
// times, and the CPU its Postgres backend spent on it (the median of the runs, from
// /proc/<pid>/schedstat: Postgres on this machine, not in a container); slowest first, then the
// totals. `explain` n: EXPLAIN (ANALYZE, BUFFERS) of those requests' statements.

const query = (n: number) => `is:unresolved module${n % 300} handler${n % 50}`;

interface Sent {
  text: string;
  params: unknown[] | undefined;
  ms: number;
  rows: number;
}

/** The statements of the request under way. */
let sent: Sent[] = [];

function recording(pool: Pool): Pool {
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
const backend = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const cpuMs = () => Number(readFileSync(`/proc/${backend}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
// One ReadModel for all (its statistics read once, as in the api), warmed by a first request.
const model = new ReadModel(recording(pool));
await ask(model, 0);
const results: { n: number; ms: number; cpu: number; sent: Sent[]; rows: number }[] = [];
for (let n = Number(first); n <= Number(last); n += 1) {
  let best: { ms: number; sent: Sent[]; rows: number } | undefined;
  const cpus: number[] = [];
  for (let run = 0; run < Number(runs); run += 1) {
    sent = [];
    const start = process.hrtime.bigint();
    const cpuBefore = cpuMs();
    const rows = await ask(model, n);
    cpus.push(cpuMs() - cpuBefore);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (best === undefined || ms < best.ms) best = { ms, sent, rows: rows.length };
  }
  cpus.sort((a, b) => a - b);
  results.push({ n, ...best!, cpu: cpus[Math.floor(cpus.length / 2)]! });
}
for (const { n, ms, cpu, sent, rows } of [...results].sort((a, b) => b.ms - a.ms)) {
  process.stdout.write(`n ${String(n).padStart(3)} ${query(n).padEnd(36)} ${ms.toFixed(1).padStart(6)} ms, cpu ${cpu.toFixed(1).padStart(5)} ms, ${rows} rows; statements ${sent.map((s) => `${s.ms.toFixed(1)} (${s.rows})`).join(', ')}\n`);
}
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const at = (values: number[], p: number) => sorted(values)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const walls = results.map((r) => r.ms);
const cpus = results.map((r) => r.cpu);
if (results.length > 0) process.stdout.write(`total ${results.length} requests: wall (fastest of ${runs}) p50 ${at(walls, 50).toFixed(1)}, max ${at(walls, 100).toFixed(1)}, mean ${(walls.reduce((a, b) => a + b, 0) / walls.length).toFixed(1)} ms; backend cpu (median of ${runs}) p50 ${at(cpus, 50).toFixed(1)}, max ${at(cpus, 100).toFixed(1)}, mean ${(cpus.reduce((a, b) => a + b, 0) / cpus.length).toFixed(1)} ms\n`);
for (const n of explained.map(Number)) {
  sent = [];
  await ask(model, n);
  process.stdout.write(`\n### n ${n}: ${query(n)}\n`);
  for (const { text, params } of sent) {
    if (/pg_stats/.test(text)) continue;
    await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
    const plan = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
    process.stdout.write(`\n${text}\n-- ${JSON.stringify(params)}\n${plan.rows.map((row) => row['QUERY PLAN']).join('\n')}\n`);
  }
}
await pool.end();
