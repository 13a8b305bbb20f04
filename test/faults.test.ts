import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '@trapline/runtime';
import { PROJECTED_TOPICS } from '@trapline/schemas';
import type { ServiceName } from '@trapline/cli/services';
import { eventually, freePort, startTrapline, type RunningTrapline } from './harness.ts';
import { groupLag, readTopic } from './log.ts';
import { projection, steadyLoad, store } from './load.ts';

// Invariant 1 under faults: while real HTTP clients keep posting events through the gateway, each
// service is killed with SIGKILL and restarted, Postgres refuses connections for a while, and Redis
// goes away. After each fault every event that got a 200 is projected exactly once, the issue
// counts add up and no service died; at the end the API lists each acknowledged event once and
// nothing nobody sent, and the consumer groups have no lag. Refused requests (5xx, connection
// errors) are simply not acknowledged. Kafka and Postgres are the shared servers (Postgres refuses
// only this file's database); Redis is one of our own, so stopping it touches no other test.

const LOAD = { clients: 4, perClientPerSecond: 15, maxEvents: 15000, maxMs: 200000, messages: ['disk full', 'socket hang up', 'token expired', 'lock timeout', 'bad gateway', 'null deref'] };

let trapline: RunningTrapline;
let load: ReturnType<typeof steadyLoad>;
let redisPort: number;
let redis: ChildProcess | undefined;
/** Answers of an API client polling beside the load. */
const reads: { ok: boolean; at: number }[] = [];
let reader: Promise<void>;
let stopped = false;
/** Events the test sent itself and got acknowledged, beside the load's. */
const own: string[] = [];
/** Those of them sent again while Redis was down. */
const resent: string[] = [];

const timeline: string[] = [];
let lastNote = Date.now();
/** Seconds since the previous note, for the summary printed at the end. */
const note = (what: string) => {
  timeline.push(`${((Date.now() - lastNote) / 1000).toFixed(1)}s ${what}`);
  lastNote = Date.now();
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function redisAnswers(): Promise<boolean> {
  const client = createRedis(`redis://127.0.0.1:${redisPort}`);
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
  await eventually(async () => ((await redisAnswers()) ? true : undefined), 'redis-server answering', 10000);
}

async function killRedis(): Promise<void> {
  const child = redis;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const api = (path: string) => fetch(`${trapline.publicUrl}/api/0${path}`, { headers: { authorization: `Bearer ${trapline.defaults.token}` }, signal: AbortSignal.timeout(10000) });
const projectPath = () => `/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}`;

/** Every item of a paged API list, following the cursors of Sentry's Link header. */
async function everyPage<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  for (let cursor = '0:0:0', pages = 0; pages < 1000; pages += 1) {
    const response = await api(`${path}${path.includes('?') ? '&' : '?'}per_page=100&cursor=${cursor}`);
    expect(response.status).toBe(200);
    items.push(...((await response.json()) as T[]));
    const next = /rel="next"; results="true"; cursor="([^"]+)"/.exec(response.headers.get('link') ?? '');
    if (!next) return items;
    cursor = next[1]!;
  }
  throw new Error(`more than 1000 pages of ${path}`);
}

const acknowledged = () => [...load.acknowledged, ...own];
/** How many requests of the load were acknowledged and refused so far. */
const tally = () => ({ acknowledged: load.acknowledged.length, refused: load.unacknowledged.length });
const since = (before: ReturnType<typeof tally>) => ({ acknowledged: load.acknowledged.length - before.acknowledged, refused: load.unacknowledged.length - before.refused });

/** Every event acknowledged so far is projected, once, and the issues count exactly the events; no service died. */
async function everyAcknowledgedProjectedOnce(fault: string): Promise<void> {
  const noneDied = () => {
    const exited = [...trapline.services.services.values()].filter(({ process }) => process.exitCode !== null || process.signalCode !== null);
    expect(exited.map(({ name, process }) => `${name} exited (${process.exitCode ?? process.signalCode})`), `services that died in the ${fault}`).toEqual([]);
  };
  noneDied();
  const ids = acknowledged();
  const state = await eventually(async () => {
    const now = await projection(trapline, ids);
    return now.present === ids.length ? now : undefined;
  }, `the ${ids.length} events acknowledged up to the ${fault} projected`, 90000).catch((error: unknown) => {
    noneDied();
    throw error;
  });
  expect(state.distinct_ids).toBe(state.events);
  expect(state.counted, 'sum of issue counts equals the events').toBe(state.events);
  expect(state.miscounted, 'issues whose count differs from their events').toBe(0);
  expect(state.tags_miscounted, 'tag values that differ from the tags of their events').toBe(0);
  note(`${fault}: all ${ids.length} acknowledged events projected once`);
}

/** SIGKILL, `downMs` without the services, restart; what the load got while they were down. */
async function killAndRestart(names: ServiceName[], downMs: number) {
  await Promise.all(names.map((name) => trapline.services.stop(name, 'SIGKILL')));
  const killedAt = Date.now();
  // Answers already on their way when the kill came are counted before the outage.
  await sleep(200);
  const before = tally();
  await sleep(downMs - 200);
  const whileDown = since(before);
  const restartedAt = Date.now();
  note(`${names.join(' and ')} killed (meanwhile ${whileDown.acknowledged} acknowledged, ${whileDown.refused} refused)`);
  await Promise.all(names.map((name) => trapline.services.start(name)));
  note(`${names.join(' and ')} restarted and healthy`);
  return { killedAt, restartedAt, whileDown };
}

beforeAll(async () => {
  redisPort = await freePort();
  await startRedis();
  trapline = await startTrapline({
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    APPEND_TIMEOUT_MS: '3000',
    // Limits far above the load, so every request goes through the rate limiter's Redis counters.
    RATE_LIMIT_PROJECT_EVENTS: '1000000',
    RATE_LIMIT_KEY_EVENTS: '1000000',
  });
  note('started');
  load = steadyLoad(trapline, LOAD);
  const deadline = Date.now() + LOAD.maxMs;
  reader = (async () => {
    while (!stopped && Date.now() < deadline) {
      reads.push({ ok: await api(`${projectPath()}/events/?per_page=10`).then((response) => response.ok, () => false), at: Date.now() });
      await sleep(250);
    }
  })();
  await eventually(async () => (load.acknowledged.length >= 100 ? true : undefined), 'the load running', 60000);
}, 180000);

afterAll(async () => {
  stopped = true;
  await Promise.all([load?.stop(), reader]);
  await trapline?.dispose();
  await killRedis();
  console.info(`faults timeline:\n  ${timeline.join('\n  ')}`);
});

describe('faults under steady load', () => {
  it('ingest killed (SIGKILL) and restarted: refused meanwhile, accepting again, nothing acknowledged lost or doubled', async () => {
    const { whileDown } = await killAndRestart(['ingest'], 1000);
    expect(whileDown.refused).toBeGreaterThan(0);
    expect(whileDown.acknowledged).toBe(0);
    const after = tally();
    await eventually(async () => (since(after).acknowledged > 0 ? true : undefined), '200s again after the ingest restart', 60000);
    await everyAcknowledgedProjectedOnce('ingest kill');
  }, 120000);

  it('projector killed (SIGKILL) under load, then again as it applies its backlog: ingest keeps acknowledging, the projector catches up, no event projected twice', async () => {
    const before = tally();
    await trapline.services.stop('projector', 'SIGKILL');
    const projected = (await projection(trapline, [])).events;
    note('projector killed');
    // Restarted while the load goes on, it has the backlog of its rejoin wait (the dead member's
    // session timeout) to project: killed again the moment its first batches of it land. Its start
    // waits for health; that wait ends once the next start is healthy.
    const starting = trapline.services.start('projector').catch(() => undefined);
    let applying = projected;
    for (const deadline = Date.now() + 90000; applying === projected && Date.now() < deadline; await sleep(20)) applying = (await projection(trapline, [])).events;
    expect(applying, 'the restarted projector applying its backlog').toBeGreaterThan(projected);
    await trapline.services.stop('projector', 'SIGKILL');
    // Lag near the backlog's size means the kill fell between the Postgres commit and the offset
    // commit, so the restarted projector gets records it already applied: when, is up to timing.
    const lag = await groupLag(trapline.config, trapline.config.projectorGroup, PROJECTED_TOPICS.map((id) => trapline.topics[id]));
    note(`projector rejoined, killed again after applying ${applying - projected} events of its backlog, group lag ${lag}`);
    // Ingest does not depend on the projector: its 200s went on while the projector was down or rejoining.
    expect(since(before).acknowledged).toBeGreaterThan(0);

    await sleep(1000);
    await trapline.services.start('projector');
    await starting;
    note('projector restarted and healthy');
    await everyAcknowledgedProjectedOnce('projector kills');
  }, 200000);

  it('api and deleter killed (SIGKILL) and restarted: the API answers again, ingest never stopped', async () => {
    const { killedAt, restartedAt, whileDown } = await killAndRestart(['api', 'deleter'], 1000);
    expect(reads.filter((read) => read.at > killedAt + 200 && read.at < restartedAt).some((read) => read.ok)).toBe(false);
    expect(whileDown.acknowledged).toBeGreaterThan(0);
    await eventually(async () => (reads.some((read) => read.ok && read.at > restartedAt) ? true : undefined), 'the API answering again', 30000);
    await everyAcknowledgedProjectedOnce('api and deleter kill');
  }, 150000);

  it('Postgres refusing connections: ingest keeps acknowledging from its key cache, the projector resumes when Postgres is back', async () => {
    const database = decodeURIComponent(new URL(trapline.config.DATABASE_URL).pathname.slice(1));
    const server = new pg.Client({ connectionString: trapline.config.DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
    await server.connect();
    let before = tally();
    try {
      // First a connection caught inside a transaction (the projector's, between two statements),
      // the moment a server going down would hit hardest; then no connection at all.
      let caught = 0;
      for (const deadline = Date.now() + 10000; caught === 0 && Date.now() < deadline; await sleep(10)) {
        caught = (await server.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'`, [database])).rowCount ?? 0;
      }
      expect(caught, 'a connection terminated mid-transaction').toBeGreaterThan(0);
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
      await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
      before = tally();
      note('Postgres refusing connections (a transaction cut first)');
      await sleep(5000);
      expect((await api(`${projectPath()}/events/?per_page=1`).catch(() => undefined))?.ok).not.toBe(true);
    } finally {
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
      await server.end();
    }
    const whileDown = since(before);
    note(`Postgres accepting connections again (meanwhile ${whileDown.acknowledged} acknowledged, ${whileDown.refused} refused)`);
    expect(whileDown.acknowledged, 'events acknowledged while Postgres refused').toBeGreaterThan(0);
    await everyAcknowledgedProjectedOnce('Postgres outage');
  }, 150000);

  it('Redis down: ingest fails open (every request acknowledged, resent ids appended again), and uses Redis again once it is back', async () => {
    // Events of our own, acknowledged now and sent again while Redis is down, as an SDK retrying.
    const message = LOAD.messages[0]!;
    const ids = await Promise.all(Array.from({ length: 20 }, () => store(trapline, message)));
    expect(ids).not.toContain(undefined);
    resent.push(...(ids as string[]));
    own.push(...resent);

    await killRedis();
    expect(await redisAnswers()).toBe(false);
    const before = tally();
    note('Redis killed');
    // Without Redis, dedupe cannot tell: each is appended again.
    expect(await Promise.all(resent.map((eventId) => store(trapline, message, eventId)))).toEqual(resent);
    await sleep(4000);
    const whileDown = since(before);
    await startRedis();
    note(`Redis restarted (meanwhile ${whileDown.acknowledged} acknowledged, ${whileDown.refused} refused)`);
    expect(whileDown.acknowledged).toBeGreaterThan(50);
    expect(whileDown.refused, 'requests refused while Redis was down').toBe(0);

    // Back: ingest reconnects by itself and marks appended ids for dedupe again.
    const client = createRedis(`redis://127.0.0.1:${redisPort}`);
    await client.connect();
    try {
      const eventId = randomUUID().replaceAll('-', '');
      await eventually(async () => ((await store(trapline, message, eventId)) === eventId && (await client.exists(`${trapline.config.KAFKA_TOPIC_PREFIX}:seen:${trapline.defaults.projectId}:${eventId}`)) === 1 ? true : undefined), 'ingest marking appended ids in Redis again', 30000);
      own.push(eventId);
      note('ingest using Redis again');
    } finally {
      client.disconnect();
    }
    await everyAcknowledgedProjectedOnce('Redis outage');
  }, 150000);

  it('afterwards: the API lists every acknowledged event exactly once, issue counts equal the events, no consumer lag', async () => {
    stopped = true;
    await Promise.all([load.stop(), reader]);
    const ids = acknowledged();
    const sent = new Set([...ids, ...load.unacknowledged]);
    expect(ids.length).toBeGreaterThan(1000);

    for (const [group, topics] of [
      [trapline.config.projectorGroup, PROJECTED_TOPICS.map((id) => trapline.topics[id])],
      [trapline.config.deleterGroup, [trapline.topics.events]],
    ] as const) {
      await eventually(async () => ((await groupLag(trapline.config, group, [...topics])) === 0 ? true : undefined), `${group} without lag`, 90000);
    }
    note('load stopped, both groups without lag');

    const listed = (await everyPage<{ eventID: string }>(`${projectPath()}/events/`)).map((event) => event.eventID);
    const listedSet = new Set(listed);
    expect(listed.length - listedSet.size, 'events listed more than once').toBe(0);
    expect(ids.filter((id) => !listedSet.has(id)), 'acknowledged events missing from the API').toEqual([]);
    expect(listed.filter((id) => !sent.has(id)), 'listed events nobody sent').toEqual([]);

    const issues = await everyPage<{ count: string }>(`${projectPath()}/issues/?query=`);
    expect(issues).toHaveLength(LOAD.messages.length);
    expect(issues.reduce((sum, issue) => sum + Number(issue.count), 0)).toBe(listed.length);
    expect(await projection(trapline, ids)).toMatchObject({ events: listed.length, distinct_ids: listed.length, counted: listed.length, present: ids.length, miscounted: 0, tags_miscounted: 0 });

    // The resends made while Redis was down really reached the log twice: the projector absorbed them.
    const keys = new Set(resent.map((eventId) => `${trapline.defaults.projectId}/${eventId}`));
    const copies = (await readTopic(trapline.config, trapline.topics.events, 2000)).filter((record) => record.key !== null && keys.has(record.key) && record.value !== null);
    expect(copies).toHaveLength(2 * keys.size);

    note(`${ids.length} acknowledged, ${load.unacknowledged.length} refused, ${listed.length} events in the API, each once`);
  }, 150000);
});
