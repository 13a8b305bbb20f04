import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Appender, createKafka, createLogger } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { isolated, type Isolated } from '../../../../test/harness.ts';
import { readTopic } from '../../../../test/log.ts';
import { startRetentionScheduler } from './retention-scheduler.ts';
import { DeletionSource } from './source.ts';

// Two retention schedulers on one deployment (as with two deleter instances): only the one holding
// the advisory lock asks, it asks once per expired project, and the other takes over when it goes.

let env: Isolated;
let appender: Appender;

beforeAll(async () => {
  env = await isolated();
  appender = await Appender.connect(createKafka(env.config.kafkaBrokers, 'test', createLogger('test', 'error')), new Codec());
  await env.pool.query("INSERT INTO projects (id, organization_slug, slug, name, created_at) VALUES (1, 'acme', 'web', 'Web', now())");
  await env.pool.query(
    "INSERT INTO events (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, payload) VALUES (1, 'e1', 1, now() - interval '100 days', now(), 'error', 'node', 't', '{}')",
  );
});

afterAll(async () => {
  await appender?.close();
  await env?.dispose();
});

const requests = async () => (await readTopic(env.config, env.topics.events, 1500)).filter((record) => record.schema === 'RetentionRequested');

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
    // Nothing projects the request here, so the active one remembers it and does not ask again.
    expect(await requests()).toHaveLength(1);
    await first.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await second.stop();
    expect(await requests()).toHaveLength(2);
  });
});
