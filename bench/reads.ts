import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureEventPartitions, type Pool } from '@trapline/runtime';
import { serviceSet } from '@trapline/cli/services';
import { hashToken } from '@trapline/api';
import { isolated } from '../test/harness.ts';
import { percentile, type Scenario } from './report.ts';

// Reads at scale: the read model filled in bulk (SQL, not through ingest) to a number of issues and
// events, then p50/p99 of each list, search, sort, page and tag read through the api service, at a
// small and a large size in the same run, so the growth shows as a ratio. Sizes:
// BENCH_READS_ISSUES (default 1,000,000) and BENCH_READS_EVENTS (default 10,000,000); the small
// size is a tenth of each.

const PROJECTS = 4;
const REPEAT = 40;
const CHUNK = 200_000;
const DAY_MS = 86_400_000;

interface Size {
  issues: number;
  events: number;
}

/** Issues: 70 % in project 1, the rest spread; statuses 80/15/5; levels 70/20/10; one hot issue with a tenth of the events. */
async function fill(pool: Pool, size: Size, now: number, progress: (line: string) => void): Promise<void> {
  await pool.query(`INSERT INTO organizations (slug, name, created_at) VALUES ('bench', 'Bench', now())`);
  for (let p = 1; p <= PROJECTS; p += 1) {
    await pool.query(`INSERT INTO projects (id, organization_slug, slug, name, platform, created_at) VALUES ($1, 'bench', $2, $2, 'node', now())`, [p, `p${p}`]);
  }
  const project = `(CASE WHEN n % 10 < 7 THEN 1 ELSE 2 + n % 3 END)`;
  for (let first = 1; first <= size.issues; first += CHUNK) {
    const last = Math.min(size.issues, first + CHUNK - 1);
    await pool.query(
      `INSERT INTO groups (id, project_id, short_id, title, culprit, type, metadata, level, platform, status, first_seen, last_seen, times_seen, grouping_version)
       SELECT n, ${project}, n,
         'TypeError: Cannot read properties of undefined (reading ''field' || (n % 5000) || ''')', 'module' || (n % 300) || ' in handler' || (n % 50), 'error', '{}',
         (ARRAY['error','error','error','error','error','error','error','warning','warning','info'])[1 + abs(hashint8(n)) % 10], 'node',
         (CASE WHEN abs(hashint8(-n)) % 20 < 16 THEN 'unresolved' WHEN abs(hashint8(-n)) % 20 < 19 THEN 'resolved' ELSE 'ignored' END),
         to_timestamp($3 / 1000.0) - (14 + abs(hashint8(n + 3)) % 76) * interval '1 day',
         to_timestamp($3 / 1000.0) - (abs(hashint8(n + 7)) % (86400 * 14)) * interval '1 second',
         1 + abs(hashint8(n + 11)) % 500, 'v1'
       FROM generate_series($1::bigint, $2::bigint) AS n`,
      [first, last, now],
    );
    await pool.query(
      `INSERT INTO group_tag_values (group_id, project_id, key, value, times_seen, first_seen, last_seen)
       SELECT n, ${project}, k.key, k.value, 1, now() - interval '1 day', now()
       FROM generate_series($1::bigint, $2::bigint) AS n,
         LATERAL (VALUES ('browser', (ARRAY['Chrome','Firefox','Safari'])[1 + n % 3]), ('user', 'u' || (n % 1000)), ('user', 'u' || ((n + 1) % 1000))) AS k(key, value)
       WHERE k.key = 'browser' OR n % 3 <> 0`,
      [first, last],
    );
    progress(`issues ${last.toLocaleString('en')} / ${size.issues.toLocaleString('en')}`);
  }
  // Events over the last 14 days, in the daily partitions the projector would make.
  const times = Array.from({ length: 16 }, (_, day) => now - day * DAY_MS);
  await ensureEventPartitions(pool, times, 86_400, []);
  const hot = Math.floor(size.events / 10);
  for (let first = 0; first < size.events; first += CHUNK) {
    const last = Math.min(size.events, first + CHUNK) - 1;
    await pool.query(
      `INSERT INTO events (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, message, release, environment, user_ident, payload)
       SELECT g.project_id, lpad(to_hex(n), 32, '0'), g.id, at, at, g.level, 'node', g.title, '', 'bench@1', 'prod', 'u' || (n % 1000),
         jsonb_build_object('event_id', lpad(to_hex(n), 32, '0'), 'level', g.level, 'platform', 'node', 'timestamp', extract(epoch FROM at),
           'exception', jsonb_build_object('values', jsonb_build_array(jsonb_build_object('type', 'TypeError', 'value', g.title))))
       FROM generate_series($1::bigint, $2::bigint) AS n
         CROSS JOIN LATERAL (SELECT to_timestamp($5 / 1000.0) - ((n * 7919) % (86400 * 14)) * interval '1 second' AS at) t
         JOIN groups g ON g.id = CASE WHEN n < $3 THEN 1 ELSE 1 + (n * 48271) % $4 END`,
      [first, last, hot, size.issues, now],
    );
    progress(`events ${(last + 1).toLocaleString('en')} / ${size.events.toLocaleString('en')}`);
  }
  await pool.query('ANALYZE');
}

interface Read {
  name: string;
  /** The n-th request's path (under /api/0). */
  path: (n: number) => string;
}

const READS: Read[] = [
  { name: 'default list (unresolved, by date)', path: () => '/projects/bench/p1/issues/' },
  { name: 'sort new', path: () => '/projects/bench/p1/issues/?sort=new' },
  { name: 'sort freq', path: () => '/projects/bench/p1/issues/?sort=freq' },
  { name: 'sort user', path: () => '/projects/bench/p1/issues/?sort=user' },
  { name: 'all statuses', path: () => '/projects/bench/p1/issues/?query=' },
  { name: 'level filter', path: () => '/projects/bench/p1/issues/?query=is:unresolved%20level:info' },
  { name: 'text search, rare word', path: (n) => `/projects/bench/p1/issues/?query=is:unresolved%20field${n % 5000}%27` },
  { name: 'text search, common words', path: () => '/projects/bench/p1/issues/?query=is:unresolved%20Cannot%20read' },
  { name: 'tag search', path: (n) => `/projects/bench/p1/issues/?query=is:unresolved%20user:u${n % 1000}` },
  { name: 'statsPeriod 24h', path: () => '/projects/bench/p1/issues/?statsPeriod=24h' },
  { name: 'with groupStatsPeriod 24h', path: () => '/projects/bench/p1/issues/?groupStatsPeriod=24h' },
  { name: 'organization list (4 projects)', path: () => '/organizations/bench/issues/' },
  { name: 'hot issue events', path: () => '/issues/1/events/' },
  { name: 'project events', path: () => '/projects/bench/p1/events/' },
  { name: 'issue tags', path: () => '/issues/1/tags/' },
];

async function timed(url: string, token: string): Promise<{ ms: number; link: string | null }> {
  const start = process.hrtime.bigint();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, link: response.headers.get('link') };
}

const nextCursor = (link: string | null) => /<([^>]+)>; rel="next"; results="true"/.exec(link ?? '')?.[1];

/** p50/p99 in ms of each read, and of each page of a 50-page walk at 100 a page. */
async function measure(base: string, token: string): Promise<Record<string, { p50: number; p99: number }>> {
  const figures: Record<string, { p50: number; p99: number }> = {};
  for (const read of READS) {
    await timed(`${base}${read.path(0)}`, token);
    const samples: number[] = [];
    for (let n = 1; n <= REPEAT; n += 1) samples.push((await timed(`${base}${read.path(n)}`, token)).ms);
    samples.sort((a, b) => a - b);
    figures[read.name] = { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  }
  const walk: number[] = [];
  let url: string | undefined = `${base}/projects/bench/p1/issues/?per_page=100`;
  for (let page = 0; page < 50 && url; page += 1) {
    const { ms, link } = await timed(url, token);
    walk.push(ms);
    const next = nextCursor(link);
    // Links name the public origin (the gateway); this run asks the api directly.
    url = next === undefined ? undefined : `${base}${new URL(next).pathname.replace(/^\/api\/0/, '')}${new URL(next).search}`;
  }
  // p50 of the pages of the walk, and its last page (the 50th, or the last there is) as 'p99'.
  figures['walk of 50 pages of 100 (last page)'] = { p50: percentile([...walk].sort((a, b) => a - b), 50), p99: walk[walk.length - 1] ?? 0 };
  return figures;
}

async function atSize(size: Size): Promise<{ fillSeconds: number; databaseMb: number; reads: Record<string, { p50: number; p99: number }> }> {
  const env = await isolated({ LOG_LEVEL: 'warn' });
  const services = serviceSet(env.env, { logDir: join(env.config.TRAPLINE_STATE_DIR!, 'logs') });
  const token = `tpl_${randomBytes(16).toString('hex')}`;
  try {
    const started = Date.now();
    await fill(env.pool, size, Date.now(), (line) => process.stderr.write(`bench reads: ${line}\n`));
    const fillSeconds = (Date.now() - started) / 1000;
    await env.pool.query(`INSERT INTO api_tokens (token_hash, organization_slug, scopes, label, active, created_at) VALUES ($1, 'bench', '{event:read,project:read,org:read}', 'bench', true, now())`, [hashToken(token)]);
    const databaseMb = Number(((await env.pool.query('SELECT pg_database_size(current_database()) AS bytes')).rows[0] as { bytes: string }).bytes) / 1048576;
    await services.start('api');
    const reads = await measure(`http://${env.config.HOST}:${env.config.API_PORT}/api/0`, token);
    return { fillSeconds, databaseMb, reads };
  } finally {
    await services.stopAll();
    await env.dispose();
  }
}

export async function readsScenario(): Promise<Scenario> {
  const large: Size = { issues: Number(process.env.BENCH_READS_ISSUES ?? 1_000_000), events: Number(process.env.BENCH_READS_EVENTS ?? 10_000_000) };
  const small: Size = { issues: Math.round(large.issues / 10), events: Math.round(large.events / 10) };
  const atSmall = await atSize(small);
  const atLarge = await atSize(large);
  const label = (size: Size) => `${size.issues.toLocaleString('en')} issues, ${size.events.toLocaleString('en')} events`;
  const rows = Object.keys(atLarge.reads).map((name) => {
    const [s, l] = [atSmall.reads[name]!, atLarge.reads[name]!];
    return [`reads: ${name}`, `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`, `p99 ${s.p99.toFixed(1)} ms at a tenth`, (l.p99 / s.p99).toFixed(2), label(large)];
  });
  rows.push(['reads: fill (bulk SQL)', `${atLarge.fillSeconds.toFixed(0)} s, ${atLarge.databaseMb.toFixed(0)} MB`, `${atSmall.fillSeconds.toFixed(0)} s, ${atSmall.databaseMb.toFixed(0)} MB`, '', label(large)]);
  return { name: 'reads', figures: { small: { ...small, ...atSmall }, large: { ...large, ...atLarge } }, rows };
}
