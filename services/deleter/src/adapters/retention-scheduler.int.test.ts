import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Appender, createKafka, createLogger, ensureEventPartitions } from '@trapline/runtime';
import { Codec, SCHEMA_HEADER, VERSION_HEADER } from '@trapline/schemas';
import { eventually, isolated, type Isolated } from '../../../../test/harness.ts';
import { readTopic } from '../../../../test/log.ts';
import { startRetentionScheduler } from './retention-scheduler.ts';
import { DeletionSource } from './source.ts';

// Two retention schedulers on one deployment (as with two deleter instances): only the one holding
// the advisory lock asks, it asks once per expired project, and the other takes over when it goes.

const DAY = 86_400_000;
let env: Isolated;
let appender: Appender;

beforeAll(async () => {
  env = await isolated();
  appender = await Appender.connect(createKafka(env.config.kafkaBrokers, 'test', createLogger('test', 'error')), new Codec());
  // Project 1 keeps the default (90 days, the longest): its event of 100 days ago leaves with its
  // partition, in an expiry for every project. Project 2 keeps 30 days: its own run.
  await env.pool.query("INSERT INTO projects (id, organization_slug, slug, name, created_at) VALUES (1, 'acme', 'web', 'Web', now()), (2, 'acme', 'api', 'API', now())");
  await env.pool.query('INSERT INTO project_retention (project_id, retention_days) VALUES (2, 30)');
  await ensureEventPartitions(env.pool, [Date.now() - 100 * DAY, Date.now() - 40 * DAY], 86400, []);
  await env.pool.query(
    `INSERT INTO events (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, payload)
     VALUES (1, 'e1', 1, now() - interval '100 days', now(), 'error', 'node', 't', '{}'), (2, 'e2', 2, now() - interval '40 days', now(), 'error', 'node', 't', '{}')`,
  );
});

afterAll(async () => {
  await appender?.close();
  await env?.dispose();
});

const codec = new Codec();
const requests = async () =>
  (await readTopic(env.config, env.topics.events, 1500))
    .filter((record) => record.schema === 'RetentionRequested')
    .map((record) => codec.decode({ [SCHEMA_HEADER]: record.schema!, [VERSION_HEADER]: '2' }, record.value));

/** Whether a session holds the advisory lock the schedulers compete for (pg_locks). */
const lockHeld = async () =>
  (await env.pool.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = hashtext('test.retention')::oid")).rowCount! > 0;

describe('two retention schedulers', () => {
  it('ask once, through the one holding the lock, and the other takes over when it stops', async () => {
    // Each scheduler counts its checks (it reads the clock once per check, only while it leads), so
    // the test waits for checks that happened, not for time that passed.
    const checks = [0, 0];
    const start = (n: number) =>
      startRetentionScheduler({
        pool: env.pool, source: new DeletionSource(env.pool), appender, topics: env.topics, lockName: 'test.retention',
        defaultDays: 90, intervalMs: 200, logger: createLogger('test', 'silent'), now: () => ((checks[n] = checks[n]! + 1), Date.now()),
      });
    const checked = (n: number, more: number) => {
      const target = checks[n]! + more;
      return eventually(async () => (checks[n]! >= target ? true : undefined), `${more} more checks of scheduler ${n + 1}`);
    };
    const first = start(0);
    await eventually(async () => ((await lockHeld()) ? true : undefined), 'the first scheduler holding the lock');
    const second = start(1);
    await eventually(async () => ((await requests()).length >= 2 ? true : undefined), 'the first requests');
    // Several checks of the leader later (the other ticks alongside it, at the same interval):
    // nothing projects the requests here, so the active one remembers them and does not ask again.
    await checked(0, 5);
    expect(checks[1], 'the scheduler without the lock never checks').toBe(0);
    const asked = (await requests()).map((decoded) => (decoded.ok && decoded.record.name === 'RetentionRequested' ? decoded.record.value : { projectId: -1, allProjects: false, cutoff: 0 }));
    expect(asked.map(({ projectId, allProjects }) => ({ projectId, allProjects })).sort((a, b) => a.projectId - b.projectId)).toEqual([
      { projectId: 0, allProjects: true },
      { projectId: 2, allProjects: false },
    ]);
    const expiry = asked.find((request) => request.allProjects)!;
    // The end of the partition holding the 100-day-old event: a day boundary between 99 and 100 days ago.
    expect(expiry.cutoff % DAY).toBe(0);
    expect((Date.now() - expiry.cutoff) / DAY).toBeGreaterThan(99);
    expect((Date.now() - expiry.cutoff) / DAY).toBeLessThan(100);
    await first.stop();
    // The second takes the lock over and asks again (it never saw the first's requests projected), once.
    await eventually(async () => ((await requests()).length >= 4 ? true : undefined), 'the second scheduler asking');
    await checked(1, 5);
    await second.stop();
    expect(await requests()).toHaveLength(4);
  });
});
