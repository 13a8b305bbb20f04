import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { ensureEventPartitions, type Pool } from '@trapline/runtime';
import { serviceSet } from '@trapline/cli/services';
import { hashToken } from '@trapline/api';
import { isolated } from '../test/harness.ts';
import { percentile, type Scenario } from './report.ts';
import { ASKS, explain } from './explain-reads.ts';

// Reads at scale: the read model filled in bulk (SQL, not through ingest) to a number of issues and
// events, then p50/p99 of each list, search, sort, page and tag read through the api service, at a
// small and a large size in the same run, so the growth shows as a ratio. Sizes:
// BENCH_READS_ISSUES (default 1,000,000) and BENCH_READS_EVENTS (default 10,000,000); the small
// size is a tenth of each. BENCH_READS_KEEP=1 keeps both databases (their URLs are printed) to
// EXPLAIN against; BENCH_READS_REUSE=<small url>,<large url> measures them again without filling
// (after a change of queries or migrations); drop them afterwards. BENCH_READS_MATCH=<text> measures
// only the reads whose name contains it (`text search`, say). p99 is the sample at 99 % of the sorted
// requests (report.ts): over BENCH_READS_REPEAT ≤ 100 requests that is the slowest one. The culprit
// read cycles through 300 distinct requests, the tag reads through 1,000: BENCH_READS_REPEAT=300
// measures every culprit request once, and its p99 is then the third slowest.

const PROJECTS = 4;
const REPEAT = Number(process.env.BENCH_READS_REPEAT ?? 100);
/** BENCH_READS_LOG=<file>: every request's time appended to it (read, n, ms, path), to find the slowest. */
const LOG = process.env.BENCH_READS_LOG;
const CHUNK = 200_000;
const LOADERS = 2;
const DAY_MS = 86_400_000;

interface Size {
  issues: number;
  events: number;
}

/** The secondary indexes of `tables` (not those behind constraints), to drop before a bulk load and build once after it. */
async function secondaryIndexes(pool: Pool, tables: string[]): Promise<{ name: string; definition: string }[]> {
  const result = await pool.query<{ name: string; definition: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = current_schema() AND t.relname = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)`,
    [tables],
  );
  return result.rows;
}

/**
 * The read model filled in bulk, the way a rebuild's bulk path loads it: rows generated inside
 * Postgres (INSERT … SELECT, no client round trip) into tables without their secondary indexes, the
 * indexes built once at the end, then VACUUM ANALYZE (the state autovacuum keeps a live database in).
 * Issues: 70 % in project 1, the rest spread; statuses 80/15/5; levels 70/20/10; user_count as the
 * projector's triggers keep it. Events over the last 14 days with two tags each (browser, user); one
 * hot issue with a tenth of the events and 1,000 users.
 */
async function fill(pool: Pool, size: Size, now: number, progress: (line: string) => void): Promise<void> {
  await pool.query(`INSERT INTO organizations (slug, name, created_at) VALUES ('bench', 'Bench', now())`);
  for (let p = 1; p <= PROJECTS; p += 1) {
    await pool.query(`INSERT INTO projects (id, organization_slug, slug, name, platform, created_at) VALUES ($1, 'bench', $2, $2, 'node', now())`, [p, `p${p}`]);
  }
  const times = Array.from({ length: 16 }, (_, day) => now - day * DAY_MS);
  await ensureEventPartitions(pool, times, 86_400, []);
  const indexes = await secondaryIndexes(pool, ['groups', 'group_tag_values', 'events']);
  for (const index of indexes) await pool.query(`DROP INDEX "${index.name}"`);
  // A benchmark's data, regenerated each run: unlogged (no WAL to write while loading; reads are the
  // same), and no autovacuum racing the load (VACUUM ANALYZE runs once at the end).
  const tables = (await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
     WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace AND (c.relname IN ('groups', 'group_tag_values') OR p.relname = 'events')`,
  )).rows.map((row) => row.name);
  for (const table of tables) await pool.query(`ALTER TABLE "${table}" SET UNLOGGED, SET (autovacuum_enabled = false)`);
  // The user_count triggers' work is done by the load itself (user_count below is the count of the events' user tags).
  await pool.query('ALTER TABLE group_tag_values DISABLE TRIGGER USER');
  // An issue's columns as functions of its id, so the events need no join to find them.
  const project = (n = 'n') => `(CASE WHEN ${n} % 10 < 7 THEN 1 ELSE 2 + ${n} % 3 END)`;
  const title = (n = 'n') => `'TypeError: Cannot read properties of undefined (reading ''field' || (${n} % 5000) || ''')'`;
  const culprit = (n = 'n') => `'module' || (${n} % 300) || ' in handler' || (${n} % 50)`;
  const level = (n = 'n') => `(ARRAY['error','error','error','error','error','error','error','warning','warning','info'])[1 + abs(hashint8(${n})) % 10]`;
  for (let first = 1; first <= size.issues; first += CHUNK) {
    const last = Math.min(size.issues, first + CHUNK - 1);
    await pool.query(
      `INSERT INTO groups (id, project_id, short_id, title, culprit, type, metadata, level, platform, status, first_seen, last_seen, times_seen, grouping_version, user_count)
       SELECT n, ${project()}, n, ${title()}, ${culprit()}, 'error',
         jsonb_build_object('type', 'TypeError', 'value', ${title()}, 'filename', 'src/module' || (n % 300) || '.js'), ${level()}, 'node',
         (CASE WHEN abs(hashint8(-n)) % 20 < 16 THEN 'unresolved' WHEN abs(hashint8(-n)) % 20 < 19 THEN 'resolved' ELSE 'ignored' END),
         to_timestamp($3 / 1000.0) - (14 + abs(hashint8(n + 3)) % 76) * interval '1 day',
         to_timestamp($3 / 1000.0) - (abs(hashint8(n + 7)) % (86400 * 14)) * interval '1 second',
         1 + abs(hashint8(n + 11)) % 500, 'v1',
         CASE WHEN n = 1 THEN 1000 WHEN n % 3 <> 0 THEN 2 ELSE 0 END
       FROM generate_series($1::bigint, $2::bigint) AS n`,
      [first, last, now],
    );
    await pool.query(
      `INSERT INTO group_tag_values (group_id, project_id, key, value, times_seen, first_seen, last_seen)
       SELECT n, ${project()}, k.key, k.value, 1 + abs(hashint8(n + 13)) % 50, to_timestamp($3 / 1000.0) - interval '13 days', to_timestamp($3 / 1000.0) - interval '1 hour'
       FROM generate_series($1::bigint, $2::bigint) AS n,
         LATERAL (VALUES ('browser', (ARRAY['Chrome','Firefox','Safari'])[1 + n % 3]), ('user', 'u' || (n % 1000)), ('user', 'u' || ((n + 1) % 1000))) AS k(key, value)
       WHERE n > 1 AND (k.key = 'browser' OR n % 3 <> 0)`,
      [first, last, now],
    );
    progress(`issues ${last.toLocaleString('en')} / ${size.issues.toLocaleString('en')}`);
  }
  await pool.query(
    `INSERT INTO group_tag_values (group_id, project_id, key, value, times_seen, first_seen, last_seen)
     SELECT 1, 1, k.key, k.value, k.times, to_timestamp($1 / 1000.0) - interval '13 days', to_timestamp($1 / 1000.0) - interval '1 minute'
     FROM (SELECT 'browser', b, 1000 FROM unnest(ARRAY['Chrome','Firefox','Safari']) AS b
           UNION ALL SELECT 'user', 'u' || u, 1 + abs(hashint8(u)) % 2000 FROM generate_series(0, 999) AS u) AS k(key, value, times)`,
    [now],
  );
  const hot = Math.floor(size.events / 10);
  const chunks = Array.from({ length: Math.ceil(size.events / CHUNK) }, (_, i) => i * CHUNK);
  let done = 0;
  const loadEvents = async (first: number) => {
    const last = Math.min(size.events, first + CHUNK) - 1;
    await pool.query(
      `INSERT INTO events (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, message, release, environment, user_ident, tag_keys, tag_values, payload)
       SELECT ${project('gid')}, lpad(to_hex(n), 32, '0'), gid, at, at, ${level('gid')}, 'node', ${title('gid')}, '', 'bench@1', 'prod', 'u' || (n % 1000),
         ARRAY['browser', 'user'], ARRAY[(ARRAY['Chrome','Firefox','Safari'])[1 + n % 3], 'u' || (n % 1000)],
         jsonb_build_object('event_id', lpad(to_hex(n), 32, '0'), 'level', ${level('gid')}, 'platform', 'node', 'timestamp', extract(epoch FROM at),
           'release', 'bench@1', 'environment', 'prod', 'user', jsonb_build_object('id', 'u' || (n % 1000)),
           'tags', jsonb_build_array(jsonb_build_array('browser', (ARRAY['Chrome','Firefox','Safari'])[1 + n % 3])),
           'exception', jsonb_build_object('values', jsonb_build_array(jsonb_build_object('type', 'TypeError', 'value', ${title('gid')},
             'stacktrace', jsonb_build_object('frames', jsonb_build_array(
               jsonb_build_object('filename', ${culprit('gid')}, 'function', 'handler', 'lineno', 1 + n % 200, 'colno', 1 + n % 80, 'in_app', true)))))))
       FROM generate_series($1::bigint, $2::bigint) AS n
           CROSS JOIN LATERAL (SELECT to_timestamp($5 / 1000.0) - ((n * 7919) % (86400 * 14)) * interval '1 second' AS at,
           CASE WHEN n < $3 THEN 1 ELSE 1 + (n * 48271) % $4 END AS gid) t`,
      [first, last, hot, size.issues, now],
    );
    done += last + 1 - first;
    progress(`events ${done.toLocaleString('en')} / ${size.events.toLocaleString('en')}`);
  };
  // Two loaders at once: the generation is CPU-bound in each backend.
  const loaders = Array.from({ length: LOADERS }, async () => {
    for (let first = chunks.shift(); first !== undefined; first = chunks.shift()) await loadEvents(first);
  });
  await Promise.all(loaders);
  await pool.query('ALTER TABLE group_tag_values ENABLE TRIGGER USER');
  const client = await pool.connect();
  try {
    await client.query(`SET maintenance_work_mem = '256MB'`);
    for (const index of indexes) {
      // A partitioned table's index is defined ON ONLY the parent: built here on every partition.
      await client.query(index.definition.replace(/ ON ONLY /, ' ON '));
      progress(`index ${index.name}`);
    }
  } finally {
    client.release();
  }
  await pool.query('VACUUM ANALYZE');
  for (const table of tables) await pool.query(`ALTER TABLE "${table}" RESET (autovacuum_enabled)`);
}

interface Read {
  name: string;
  /** The n-th request's path (under /api/0). */
  path: (n: number) => string;
}

const issues = (query: string) => `/projects/bench/p1/issues/${query}`;

const READS: Read[] = [
  { name: 'default list (unresolved, by date)', path: () => issues('') },
  { name: 'sort new', path: () => issues('?sort=new') },
  { name: 'sort freq', path: () => issues('?sort=freq') },
  { name: 'sort user', path: () => issues('?sort=user') },
  { name: 'all statuses', path: () => issues('?query=') },
  { name: 'status resolved', path: () => issues('?query=is:resolved') },
  { name: 'level filter', path: () => issues('?query=is:unresolved%20level:info') },
  { name: 'sort freq, level filter', path: () => issues('?sort=freq&query=is:unresolved%20level:warning') },
  { name: 'text search, rare word', path: (n) => issues(`?query=is:unresolved%20field${n % 5000}%27`) },
  { name: 'text search, rare word, sort user', path: (n) => issues(`?sort=user&query=is:unresolved%20field${n % 5000}%27`) },
  { name: 'text search, common words', path: () => issues('?query=is:unresolved%20Cannot%20read') },
  { name: 'text search, culprit', path: (n) => issues(`?query=is:unresolved%20module${n % 300}%20handler${n % 50}`) },
  { name: 'tag search', path: (n) => issues(`?query=is:unresolved%20user:u${n % 1000}`) },
  { name: 'tag search, sort new', path: (n) => issues(`?sort=new&query=is:unresolved%20user:u${n % 1000}`) },
  { name: 'tag search, common value', path: () => issues('?query=is:unresolved%20browser:Chrome') },
  { name: 'statsPeriod 24h', path: () => issues('?statsPeriod=24h') },
  { name: 'statsPeriod 24h, sort freq', path: () => issues('?statsPeriod=24h&sort=freq') },
  { name: 'stats series 24h (groupStatsPeriod)', path: () => issues('?groupStatsPeriod=24h') },
  { name: 'stats series 14d (groupStatsPeriod)', path: () => issues('?groupStatsPeriod=14d') },
  { name: 'organization list (4 projects)', path: () => '/organizations/bench/issues/' },
  { name: 'organization list, sort freq', path: () => '/organizations/bench/issues/?sort=freq' },
  { name: 'hot issue events', path: () => '/issues/1/events/' },
  { name: 'issue events', path: (n) => `/issues/${2 + ((n * 7919) % 9000)}/events/` },
  { name: 'project events', path: () => '/projects/bench/p1/events/' },
  { name: 'hot issue tags', path: () => '/issues/1/tags/' },
  { name: 'issue tags', path: (n) => `/issues/${2 + ((n * 104729) % 9000)}/tags/` },
  { name: 'hot issue tag values (user)', path: () => '/issues/1/tags/user/values/' },
];

/** Walks of 50 pages of 100 by the Link header's next cursor. */
const WALKS: Read[] = [
  { name: 'walk issues by date', path: () => issues('?per_page=100') },
  { name: 'walk issues by freq', path: () => issues('?per_page=100&sort=freq') },
  { name: 'walk issues by user', path: () => issues('?per_page=100&sort=user') },
  { name: 'walk hot issue events', path: () => '/issues/1/events/?per_page=100' },
  { name: 'walk project events', path: () => '/projects/bench/p1/events/?per_page=100' },
];

async function timed(url: string, token: string): Promise<{ ms: number; link: string | null }> {
  const start = process.hrtime.bigint();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, link: response.headers.get('link') };
}

const nextCursor = (link: string | null) => /<([^>]+)>; rel="next"; results="true"/.exec(link ?? '')?.[1];

type Figures = Record<string, { p50: number; p99: number }>;

/** p50/p99 in ms of each read over REPEAT requests, and of the pages of each walk (p99: the slowest page of 50). */
async function measure(base: string, token: string): Promise<Figures> {
  const figures: Figures = {};
  const wanted = (read: Read) => read.name.includes(process.env.BENCH_READS_MATCH ?? '');
  for (const read of READS.filter(wanted)) {
    await timed(`${base}${read.path(0)}`, token);
    const samples: number[] = [];
    for (let n = 1; n <= REPEAT; n += 1) {
      const { ms } = await timed(`${base}${read.path(n)}`, token);
      samples.push(ms);
      if (LOG !== undefined) appendFileSync(LOG, `${read.name}\t${n}\t${ms.toFixed(2)}\t${read.path(n)}\n`);
    }
    samples.sort((a, b) => a - b);
    figures[read.name] = { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  }
  for (const read of WALKS.filter(wanted)) {
    const walk: number[] = [];
    let url: string | undefined = `${base}${read.path(0)}`;
    for (let page = 0; page < 50 && url; page += 1) {
      const { ms, link } = await timed(url, token);
      walk.push(ms);
      const next = nextCursor(link);
      // Links name the public origin (the gateway); this run asks the api directly.
      url = next === undefined ? undefined : `${base}${new URL(next).pathname.replace(/^\/api\/0/, '')}${new URL(next).search}`;
    }
    walk.sort((a, b) => a - b);
    figures[`${read.name} (${walk.length} pages of 100)`] = { p50: percentile(walk, 50), p99: percentile(walk, 99) };
  }
  return figures;
}

interface AtSize {
  fillSeconds: number;
  databaseMb: number;
  /** The 1-minute load average before and after the reads. */
  load: [number, number];
  reads: Figures;
  /** EXPLAIN (ANALYZE, BUFFERS) of the SQL of each read (bench/explain-reads.ts), warm. */
  plans: Record<string, string[]>;
}

/** Issue #24's goal for every read at 1 M issues. */
const GOAL_MS = 50;

/** At one size: a fresh database filled (kept afterwards if `keep`), or `reuse`, one filled before (migrated to this checkout, not filled again, not dropped). */
async function atSize(size: Size, keep: boolean, reuse: string | undefined): Promise<AtSize> {
  const env = await isolated({ LOG_LEVEL: 'warn', ...(reuse === undefined ? {} : { DATABASE_URL: reuse }) });
  const services = serviceSet(env.env, { logDir: join(env.config.TRAPLINE_STATE_DIR!, 'logs') });
  const token = `tpl_${randomBytes(16).toString('hex')}`;
  try {
    const started = Date.now();
    if (reuse === undefined) await fill(env.pool, size, Date.now(), (line) => process.stderr.write(`bench reads: ${line} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`));
    const fillSeconds = (Date.now() - started) / 1000;
    await env.pool.query(`INSERT INTO api_tokens (token_hash, organization_slug, scopes, label, active, created_at) VALUES ($1, 'bench', '{event:read,project:read,org:read}', 'bench', true, now())`, [hashToken(token)]);
    const databaseMb = Number(((await env.pool.query('SELECT pg_database_size(current_database()) AS bytes')).rows[0] as { bytes: string }).bytes) / 1048576;
    await services.start('api');
    const before = loadavg()[0]!;
    if (LOG !== undefined) appendFileSync(LOG, `# ${size.issues} issues\n`);
    const reads = await measure(`http://${env.config.HOST}:${env.config.API_PORT}/api/0`, token);
    const load: [number, number] = [before, loadavg()[0]!];
    const plans: Record<string, string[]> = {};
    // Every read's plan (the report shows those of the reads that missed the goal at the large size, at both sizes).
    for (const [name, ask] of Object.entries(ASKS).filter(([name]) => name.includes(process.env.BENCH_READS_MATCH ?? ''))) {
      await explain(env.pool, ask);
      plans[name] = await explain(env.pool, ask);
    }
    return { fillSeconds, databaseMb, load, reads, plans };
  } finally {
    await services.stopAll();
    // A reused database is not the one dispose drops (that is the fresh name isolated() chose).
    if (keep && reuse === undefined) process.stderr.write(`bench reads: kept ${env.config.DATABASE_URL}; drop it when done\n`);
    else await env.dispose();
  }
}

export async function readsScenario(): Promise<Scenario> {
  const large: Size = { issues: Number(process.env.BENCH_READS_ISSUES ?? 1_000_000), events: Number(process.env.BENCH_READS_EVENTS ?? 10_000_000) };
  const small: Size = { issues: Math.round(large.issues / 10), events: Math.round(large.events / 10) };
  const keep = process.env.BENCH_READS_KEEP === '1';
  const [reuseSmall, reuseLarge] = process.env.BENCH_READS_REUSE?.split(',') ?? [];
  // BENCH_READS_ONLY=small|large: one size only (to fill and keep it), its figures standing for both.
  const only = process.env.BENCH_READS_ONLY;
  const atSmall = only === 'large' ? undefined : await atSize(small, keep, reuseSmall);
  const atLarge = only === 'small' ? atSmall! : await atSize(large, keep, reuseLarge);
  if (atSmall === undefined) return { name: 'reads', figures: { large: { ...large, ...atLarge } }, rows: [] };
  const label = (size: Size) => `${size.issues.toLocaleString('en')} issues, ${size.events.toLocaleString('en')} events`;
  const rows = Object.keys(atLarge.reads).map((name) => {
    const [s, l] = [atSmall.reads[name]!, atLarge.reads[name]!];
    return [`reads: ${name}`, `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`, `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms at a tenth`, (l.p99 / s.p99).toFixed(2), label(large)];
  });
  const load = (at: AtSize) => `load ${at.load[0].toFixed(1)}→${at.load[1].toFixed(1)}`;
  rows.push(['reads: fill (bulk SQL, indexes after)', `${atLarge.fillSeconds.toFixed(0)} s, ${atLarge.databaseMb.toFixed(0)} MB, ${load(atLarge)}`, `${atSmall.fillSeconds.toFixed(0)} s, ${atSmall.databaseMb.toFixed(0)} MB, ${load(atSmall)}`, '', label(large)]);
  const notes = [
    `## Reads at scale: conditions\n\nThe machine is shared and loaded (1-minute load average on ${cpus().length} cores: ${load(atSmall)} during the reads at ${label(small)}, ${load(atLarge)} at ${label(large)}): every figure includes the HTTP round trip through the api service and waits for CPU, so p99 here is an upper bound, and the ratio of the two sizes (same run) is what shows growth.`,
    ...Object.entries(atLarge.plans).filter(([name]) => (atLarge.reads[name]?.p99 ?? 0) > GOAL_MS).map(([name, plans]) => {
      const atTenth = atSmall.plans[name];
      const block = (text: string[]) => `\`\`\`\n${text.join('\n\n')}\n\`\`\``;
      return `### ${name}: over ${GOAL_MS} ms at ${label(large)}\n\n${block(plans)}${atTenth ? `\n\nAt ${label(small)}:\n\n${block(atTenth)}` : ''}`;
    }),
  ].join('\n\n');
  return { name: 'reads', figures: { small: { ...small, ...atSmall }, large: { ...large, ...atLarge } }, rows, notes };
}
