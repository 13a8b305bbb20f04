import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Appender, createKafka, createLogger, ensureEventPartitions } from '@trapline/runtime';
import { Codec, SCHEMA_HEADER, VERSION_HEADER } from '@trapline/schemas';
import { isolated, type Isolated } from '../../../../test/harness.ts';
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

describe('two retention schedulers', () => {
  it('ask once, through the one holding the lock, and the other takes over when it stops', async () => {
    const start = () =>
      startRetentionScheduler({
        pool: env.pool, source: new DeletionSource(env.pool), appender, topics: env.topics, lockName: 'test.retention',
        defaultDays: 90, intervalMs: 200, logger: createLogger('test', 'silent'), now: Date.now,
      });
    const first = start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const second = start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Nothing projects the requests here, so the active one remembers them and does not ask again.
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
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await second.stop();
    expect(await requests()).toHaveLength(4);
  });
});
