import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Appender, createKafka, createLogger, type Kafka, type OutgoingRecord } from '@trapline/runtime';
import { Codec, type NormalizedEvent } from '@trapline/schemas';
import { groupHashes } from '../domain/grouping.ts';
import { issueId } from '../domain/issue.ts';
import { isolated, type Isolated, EVENT_TAG_ROWS } from '../../../../test/harness.ts';
import { rebuild } from './rebuild.ts';

// The rebuild's bulk path against the per-batch path on the same log (real Kafka and Postgres):
// the read models row for row, with what depends on order in the log: duplicates, regressions by
// release after resolutions of each kind, ignored issues, release first/last, descriptions from
// the last event, tag values (escapes included) and user counts. A deletion in the log ends the
// bulk load of its partition there and the per-batch path goes on from it: same rows again.

const codec = new Codec();
const logger = createLogger('test', 'error');
let env: Isolated;
let kafka: Kafka;
let appender: Appender;
const base = Date.now() - 3600_000;

function event(n: number, projectId: number) {
  const eventId = n.toString(16).padStart(32, '0');
  const receivedAt = base + n * 10;
  const release = n < 200 ? 'r1' : n < 400 ? 'r2' : n % 7 === 0 ? undefined : 'r3';
  const payload: NormalizedEvent = {
    event_id: eventId, timestamp: receivedAt / 1000, received: receivedAt / 1000, level: n % 3 === 0 ? 'warning' : 'error', platform: 'node',
    tags: [['shard', String(n % 4)], ['odd', `tab\there\\back${n % 2}\nline`]], message: `failure kind ${'abcde'[n % 5]} #${n}`,
    ...(release ? { release } : {}), user: { id: `u${n % 9}` }, ...(n % 11 === 0 ? { logger: 'jobs' } : {}),
  } as NormalizedEvent;
  return { key: `${projectId}/${eventId}`, name: 'EventReceived' as const, value: { projectId, eventId, receivedAt, keyId: 'k', payload: JSON.stringify(payload) } };
}

const groupOfKind = (projectId: number, kind: string) => issueId(projectId, groupHashes({ message: `failure kind ${kind} #1`, tags: [], level: 'error', platform: 'node' } as unknown as NormalizedEvent).hashes[0]!, 0);

const status = (projectId: number, kind: string, value: 'resolved' | 'ignored' | 'unresolved', at: number, extra: { inRelease?: string; inNextRelease?: string } = {}) => ({
  key: `${projectId}/status`, name: 'GroupStatusChanged' as const,
  value: { projectId, groupId: groupOfKind(projectId, kind), status: value, actor: 'test', changedAt: base + at * 10, inRelease: extra.inRelease ?? null, inNextRelease: extra.inNextRelease ?? null },
});

async function log(from: number, to: number) {
  for (let n = from; n < to; n += 1) {
    const records: OutgoingRecord[] = [event(n, 1 + (n % 3))];
    if (n % 97 === 0) records.push(event(n, 1 + (n % 3))); // the same event twice
    if (n === 120) records.push(status(1, 'a', 'resolved', n), status(2, 'b', 'resolved', n, { inNextRelease: 'r1' }), status(3, 'c', 'resolved', n, { inRelease: 'r2' }));
    if (n === 250) records.push(status(1, 'd', 'ignored', n), status(2, 'e', 'resolved', n, { inRelease: 'r1' }), status(3, 'a', 'resolved', n, { inNextRelease: 'r2' }));
    if (n === 450) records.push(status(1, 'b', 'resolved', n, { inNextRelease: 'r3' }), status(3, 'e', 'ignored', n), status(3, 'e', 'unresolved', n));
    await appender.append(env.topics.events, records);
  }
}

async function snapshot(pool = env.pool) {
  const table = async (sql: string) => (await pool.query(sql)).rows;
  return {
    groups: await table('SELECT * FROM groups ORDER BY id'),
    hashes: await table('SELECT * FROM group_hashes ORDER BY project_id, hash'),
    tombstones: await table('SELECT * FROM group_hash_tombstones ORDER BY project_id, hash, group_id'),
    events: await table('SELECT * FROM events ORDER BY project_id, event_id'),
    tags: await table(`SELECT * FROM ${EVENT_TAG_ROWS} ORDER BY project_id, event_id, key`),
    tagValues: await table('SELECT * FROM group_tag_values ORDER BY group_id, key, value'),
    directory: await table('SELECT * FROM event_ids ORDER BY project_id, event_id'),
    deletions: await table('SELECT * FROM deletions ORDER BY transaction_id'),
    indexes: await table(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('events', 'event_ids', 'groups', 'group_hashes', 'group_tag_values') ORDER BY indexname`),
  };
}

beforeAll(async () => {
  env = await isolated({ LOG_LEVEL: 'error' });
  kafka = createKafka(env.config.kafkaBrokers, 'rebuild-bulk-test', logger);
  appender = await Appender.connect(kafka, codec);
}, 60000);

afterAll(async () => {
  await appender?.close();
  await env?.dispose();
});

describe('the bulk path of trapline rebuild', () => {
  it('gives the per-batch path\'s rows, regressions and statuses included, and leaves a partition at its first deletion', async () => {
    await log(0, 600);
    const perBatch = await rebuild({ config: env.config, kafka, logger, handoverLag: 0, bulk: false });
    expect(perBatch.bulk).toBeUndefined();
    const expected = await snapshot();
    const statuses = (expected.groups as { status: string }[]).map((group) => group.status);
    expect(statuses).toContain('resolved');
    expect(statuses).toContain('ignored');
    expect((expected.groups as { user_count: number }[]).every((group) => group.user_count > 0)).toBe(true);
    const phases: string[] = [];
    const bulk = await rebuild({ config: env.config, kafka, logger, handoverLag: 0, bulkMinRecords: 0, progress: (line) => phases.push(line.split(':')[0]!) });
    expect(bulk.bulk).toMatchObject({ events: 600, stopped: [], tagValues: 'summed in memory' });
    expect(phases).toEqual(expect.arrayContaining(['indexing', 'swapping']));
    expect(await snapshot()).toEqual(expected);
    // Past its bound the sums are given up for the aggregate over the events rows: the same rows.
    const bounded = await rebuild({ config: env.config, kafka, logger, handoverLag: 0, bulkMinRecords: 0, bulkMaxTagValues: 20 });
    expect(bounded.bulk).toMatchObject({ events: 600, stopped: [], tagValues: expect.stringMatching(/^summed over the events rows: more than 20 /) });
    expect(await snapshot()).toEqual(expected);

    // A deletion in project 2's partition, then more events: that partition goes on by the per-batch path from it.
    const doomed = groupOfKind(2, 'c');
    const hash = groupHashes({ message: 'failure kind c #1', tags: [], level: 'error', platform: 'node' } as unknown as NormalizedEvent).hashes[0]!;
    await appender.append(env.topics.events, [{ key: '2/deletion', name: 'GroupDeletionRequested' as const, value: { projectId: 2, groupId: doomed, hashes: [hash], transactionId: 'deletion-1', actor: 'test', requestedAt: base + 600 * 10 } }]);
    await log(600, 700);
    await rebuild({ config: env.config, kafka, logger, handoverLag: 0, bulk: false });
    const afterDeletion = await snapshot();
    expect((afterDeletion.groups as { id: number; status: string }[]).find((group) => group.id === doomed)?.status).toBe('pending_deletion');
    const again = await rebuild({ config: env.config, kafka, logger, handoverLag: 0, bulkMinRecords: 0 });
    expect(again.bulk!.stopped).toEqual([expect.objectContaining({ reason: 'GroupDeletionRequested is left to the per-batch path' })]);
    expect(again.bulk!.events).toBeLessThan(700);
    expect(await snapshot()).toEqual(afterDeletion);
  }, 240000);

  it('keeps the bulk load for occurred times past 9999 and leaves out, as the per-batch path does, one past what a date holds', async () => {
    // A log of its own: a refused record sends the rest of its partition to the per-batch path,
    // which would keep the other tests' records from the bulk load.
    const own = await isolated({ LOG_LEVEL: 'error' });
    try {
      // Ingest reads an SDK's `timestamp` above 1e11 as milliseconds: 5e15 is about the year 160,000, 1e20 past a Date's range.
      const times = [5e12, 1e17, 1];
      const records = times.map((timestamp, i) => {
        const record = event(20_000 + i, 1 + i);
        const payload = JSON.parse(record.value.payload) as NormalizedEvent;
        payload.timestamp = timestamp;
        return { ...record, value: { ...record.value, payload: JSON.stringify(payload) } };
      });
      await appender.append(own.topics.events, records);
      await rebuild({ config: own.config, kafka, logger, handoverLag: 0, bulk: false });
      const expected = await snapshot(own.pool);
      expect((expected.events as { event_id: string }[]).map((row) => row.event_id).sort()).toEqual([records[0]!.value.eventId, records[2]!.value.eventId].sort());
      const lines: string[] = [];
      const result = await rebuild({ config: own.config, kafka, logger, handoverLag: 0, bulkMinRecords: 0, progress: (line) => lines.push(line) });
      expect(result.bulk, 'the bulk load kept').toBeDefined();
      expect(lines.join('\n')).not.toMatch(/bulk load stopped/);
      expect(await snapshot(own.pool)).toEqual(expected);
    } finally {
      await own.dispose();
    }
  }, 240000);

  it('gives up the bulk load when Postgres refuses a row, and rebuilds record by record, the refused event left out as the per-batch path leaves it', async () => {
    const poison = event(10_000, 1);
    const payload = JSON.parse(poison.value.payload) as NormalizedEvent;
    payload.tags = [['bad', 'nul \u0000 inside']];
    await appender.append(env.topics.events, [{ ...poison, value: { ...poison.value, payload: JSON.stringify(payload) } }]);
    await rebuild({ config: env.config, kafka, logger, handoverLag: 0, bulk: false });
    const expected = await snapshot();
    expect((expected.events as { event_id: string }[]).map((row) => row.event_id)).not.toContain(poison.value.eventId);
    const lines: string[] = [];
    const result = await rebuild({ config: env.config, kafka, logger, handoverLag: 0, bulkMinRecords: 0, progress: (line) => lines.push(line) });
    expect(result.bulk).toBeUndefined();
    expect(lines.join('\n')).toMatch(/the bulk load stopped \(.*\); rebuilding record by record instead/);
    expect(await snapshot()).toEqual(expected);
  }, 240000);

});
