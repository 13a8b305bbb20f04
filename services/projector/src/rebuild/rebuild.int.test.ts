import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Appender, type ConsumeLoop, createKafka, createLogger, type Kafka } from '@trapline/runtime';
import { Codec, type NormalizedEvent } from '@trapline/schemas';
import { startProjectorConsumer } from '../app.ts';
import { eventually, isolated, type Isolated, EVENT_TAG_ROWS } from '../../../../test/harness.ts';
import { handoverLockName } from '../steps/apply-batch.ts';
import { rebuild } from './rebuild.ts';

// `trapline rebuild` against the real Kafka and Postgres while a live projector projects a steady
// stream of events: the hand-over holds the live projector still and projects what the live tables
// hold before it swaps, so nothing is lost and nothing counted twice, even when it starts far
// behind the live tables or has to give up and start again.

const codec = new Codec();
const logger = createLogger('test', 'error');
let env: Isolated;
let kafka: Kafka;
let appender: Appender;
let live: ConsumeLoop;
let sent = 0;

function received(n: number) {
  const projectId = 1 + (n % 3);
  const eventId = n.toString(16).padStart(32, '0');
  const receivedAt = Date.now();
  const payload: NormalizedEvent = { event_id: eventId, timestamp: receivedAt / 1000, received: receivedAt / 1000, level: 'error', platform: 'node', tags: [['shard', String(n % 4)]], message: `failure kind ${'abcde'[n % 5]}` };
  return { key: `${projectId}/${eventId}`, name: 'EventReceived' as const, value: { projectId, eventId, receivedAt, keyId: 'k', payload: JSON.stringify(payload) } };
}

async function send(count: number) {
  const records = Array.from({ length: count }, () => received(++sent));
  await appender.append(env.topics.events, records);
}

/** A few thousand events at once: far more than the rebuild projects before its first look at the lag. */
async function backlog() {
  for (let n = 0; n < 6; n += 1) await send(500);
}

const totals = async () =>
  (await env.pool.query<{ events: number; seen: number; tags: number; tagRows: number }>(
    `SELECT (SELECT count(*)::int FROM events) AS events, (SELECT coalesce(sum(times_seen), 0)::int FROM groups) AS seen,
       (SELECT coalesce(sum(times_seen), 0)::int FROM group_tag_values) AS tags, (SELECT count(*)::int FROM ${EVENT_TAG_ROWS}) AS "tagRows"`,
  )).rows[0]!;

/** Events keep coming while `work` runs. */
async function underTraffic<T>(work: () => Promise<T>): Promise<T> {
  let stop = false;
  const traffic = (async () => {
    while (!stop) {
      await send(5);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    return await work();
  } finally {
    stop = true;
    await traffic;
  }
}

async function expectExact() {
  await eventually(async () => ((await totals()).events === sent ? true : undefined), `all ${sent} events projected`, 60000);
  const { events, seen, tags, tagRows } = await totals();
  expect({ events, seen, tags }).toEqual({ events: sent, seen: sent, tags: tagRows });
  expect(tagRows).toBeGreaterThanOrEqual(sent);
}

beforeAll(async () => {
  env = await isolated();
  kafka = createKafka(env.config.kafkaBrokers, 'test', logger);
  appender = await Appender.connect(kafka, codec);
  live = await startProjectorConsumer({ kafka, pool: env.pool, codec, appender, groupId: env.config.projectorGroup, topics: [env.topics.admin, env.topics.events], dlqTopic: env.topics.eventsDlq, logger });
  await backlog();
  await eventually(async () => ((await totals()).events === sent ? true : undefined), 'the backlog projected live', 60000);
});

afterAll(async () => {
  await live?.stop();
  await appender?.close();
  await env?.dispose();
});

describe('trapline rebuild while the projector runs', () => {
  it('hands over exactly when it starts at once, far behind the live tables', async () => {
    await env.pool.query("INSERT INTO organizations (slug, name, created_at) VALUES ('not-in-the-log', 'x', now())");
    const lines: string[] = [];
    await underTraffic(() => rebuild({ config: env.config, kafka, logger, handoverLag: Number.MAX_SAFE_INTEGER, progress: (line) => lines.push(line) }));
    expect(lines.join('\n')).toMatch(/the projector keeps running/);
    expect((await env.pool.query("SELECT slug FROM organizations WHERE slug = 'not-in-the-log'")).rows).toEqual([]); // swapped
    await expectExact();
  });

  it('gives the live projector back when catching up takes too long, and hands over later', async () => {
    await env.pool.query("INSERT INTO organizations (slug, name, created_at) VALUES ('not-in-the-log', 'x', now())");
    await backlog();
    // The live projector has taken its backlog (a run of thousands of events holds the hand-over
    // lock as long as it takes: that is the next test's case), so the hand-over gets the lock at
    // once and finds the rebuild thousands of events behind, more than 150 ms of catching up.
    await eventually(async () => ((await totals()).events === sent ? true : undefined), 'the backlog projected live', 60000);
    const lines: string[] = [];
    await underTraffic(() => rebuild({ config: env.config, kafka, logger, handoverLag: Number.MAX_SAFE_INTEGER, handoverTimeoutMs: 150, progress: (line) => lines.push(line) }));
    expect(lines.join('\n')).toMatch(/moved on during the hand-over/);
    expect((await env.pool.query("SELECT slug FROM organizations WHERE slug = 'not-in-the-log'")).rows).toEqual([]);
    await expectExact();
  });

  it('gives the live projector back when a live batch holds the hand-over lock too long, and hands over later', async () => {
    await env.pool.query("INSERT INTO organizations (slug, name, created_at) VALUES ('not-in-the-log', 'x', now())");
    // A long live batch, held open here: the live projector's batches share the lock, the
    // hand-over wants it alone.
    const batch = await env.pool.connect();
    await batch.query('BEGIN');
    await batch.query('SELECT pg_advisory_xact_lock_shared(hashtext(current_schema() || $1))', [handoverLockName('')]);
    const lines: string[] = [];
    const released = eventually(async () => (lines.some((line) => line.includes('held the hand-over lock too long')) ? true : undefined), 'the hand-over giving up on the lock', 60000)
      .finally(async () => {
        await batch.query('COMMIT');
        batch.release();
      });
    await underTraffic(() => rebuild({ config: env.config, kafka, logger, handoverLag: Number.MAX_SAFE_INTEGER, handoverTimeoutMs: 150, progress: (line) => lines.push(line) }));
    await released;
    expect(lines.at(-1)).toMatch(/^done: /);
    expect((await env.pool.query("SELECT slug FROM organizations WHERE slug = 'not-in-the-log'")).rows).toEqual([]);
    await expectExact();
  });
});
