import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Appender, type ConsumeLoop, createKafka, createLogger, DLQ_HEADERS, inTransaction, type Kafka, listEventPartitions } from '@trapline/runtime';
import { Codec, SCHEMA_HEADER, VERSION_HEADER, type NormalizedEvent } from '@trapline/schemas';
import { eventually, isolated, type Isolated } from '../../../test/harness.ts';
import { groupHashes } from './domain/grouping.ts';
import { issueId, shortIdNumber } from './domain/issue.ts';
import { startProjectorConsumer } from './app.ts';
import { readTopic } from '../../../test/log.ts';
import { applyContext, applyRecord } from './read-models/index.ts';

// The projector against the real Kafka and Postgres: idempotent under redelivery and replay,
// offsets in the consumer group only after the write, poison records dead-lettered.

const PROJECT = 1;
const codec = new Codec();
const logger = createLogger('test', 'error');
let env: Isolated;
let kafka: Kafka;
let appender: Appender;
let consumer: ConsumeLoop | undefined;
let groupId: string;

const eventId = (n: number) => n.toString(16).padStart(32, '0');

function received(n: number, message: string, receivedAt: number) {
  const payload: NormalizedEvent = { event_id: eventId(n), timestamp: receivedAt / 1000, received: receivedAt / 1000, level: 'error', platform: 'node', tags: [], message };
  return { key: `${PROJECT}/${eventId(n)}`, name: 'EventReceived' as const, value: { projectId: PROJECT, eventId: eventId(n), receivedAt, keyId: 'k', payload: JSON.stringify(payload) } };
}

/** The issue event `n` joined, once projected. */
const issueOf = (n: number) => eventually(async () => (await env.pool.query<{ group_id: number }>('SELECT group_id FROM events WHERE event_id = $1', [eventId(n)])).rows[0]?.group_id, 'the issue');

const resolve = (group: number, changedAt: number) =>
  ({ key: `${PROJECT}/status/${group}`, name: 'GroupStatusChanged' as const, value: { projectId: PROJECT, groupId: group, status: 'resolved' as const, actor: 'test', changedAt } });

async function startConsumer() {
  consumer = await startProjectorConsumer({ kafka, pool: env.pool, codec, appender, groupId, topics: [env.topics.admin, env.topics.events], dlqTopic: env.topics.eventsDlq, logger });
}

async function stopConsumer() {
  await consumer?.stop();
  consumer = undefined;
}

const count = async (sql: string, params: unknown[] = []) => (await env.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

async function committedOffsets() {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [env.topics.events] });
    const ends = await admin.fetchTopicOffsets(env.topics.events);
    return { committed: committed!.partitions, ends };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Nothing dead-lettered so far. A redelivered or replayed event the projection failed to recognize
 * as a duplicate still counts once (the event directory's key refuses the second row), but the
 * refused row's record lands on the DLQ: a clean log means the duplicate check itself held.
 */
async function expectNoDeadLetters() {
  const dead = await readTopic(env.config, env.topics.eventsDlq, 1500);
  expect(dead.map((record) => `${record.key}: ${record.headers[DLQ_HEADERS.reason]}`), 'records dead-lettered although nothing was wrong').toEqual([]);
}

/** Moves the group back to the earliest offsets and waits until the replay is applied, which a new event `marker` appended after it tells. */
async function replayFromTheStart(marker: number) {
  await stopConsumer();
  const admin = kafka.admin();
  await admin.connect();
  await admin.resetOffsets({ groupId, topic: env.topics.events, earliest: true });
  await admin.disconnect();
  await appender.append(env.topics.events, [received(marker, 'replay marker', Date.now())]);
  await startConsumer();
  await eventually(async () => ((await count('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [eventId(marker)])) === 1 ? true : undefined), 'the replay and its marker');
}

beforeAll(async () => {
  env = await isolated();
  kafka = createKafka(env.config.kafkaBrokers, 'test', logger);
  appender = await Appender.connect(kafka, codec);
  groupId = env.config.projectorGroup;
});

afterAll(async () => {
  await stopConsumer();
  await appender?.close();
  if (!process.env.KEEP_TEST_DB) await env?.dispose();
});

describe('the projector consumer', () => {
  it('counts a duplicated event once and commits its offsets only after the write', async () => {
    const t = Date.now();
    await appender.append(env.topics.events, [received(1, 'disk full', t), received(1, 'disk full', t), received(2, 'disk full', t + 1)]);
    await startConsumer();
    const timesSeen = await eventually(async () => {
      const n = await count('SELECT coalesce(sum(times_seen), 0)::int AS n FROM groups');
      return n === 2 ? n : undefined;
    }, 'two events projected');
    expect(timesSeen).toBe(2);
    expect(await count('SELECT count(*)::int AS n FROM events')).toBe(2);
    const { committed, ends } = await eventually(async () => {
      const offsets = await committedOffsets();
      const caughtUp = offsets.ends.every((end) => offsets.committed.find((c) => c.partition === end.partition)?.offset === end.high || end.high === '0');
      return caughtUp ? offsets : undefined;
    }, 'offsets committed to the consumer group');
    expect(committed.length).toBe(ends.length);
    await expectNoDeadLetters();
  });

  it('changes nothing when the whole log is replayed from the earliest offset', async () => {
    const before = await env.pool.query('SELECT id, short_id, times_seen, first_seen, last_seen FROM groups ORDER BY id');
    await replayFromTheStart(3);
    const after = await env.pool.query('SELECT id, short_id, times_seen, first_seen, last_seen FROM groups WHERE id = ANY($1) ORDER BY id', [before.rows.map((row) => row.id)]);
    expect(after.rows).toEqual(before.rows);
    await expectNoDeadLetters();
  });

  it('keeps a regression when [resolve, new event] is applied again, and records its position with each batch', async () => {
    const t = Date.now();
    await appender.append(env.topics.events, [received(20, 'cache miss storm', t)]);
    const group = await issueOf(20);
    await appender.append(env.topics.events, [
      resolve(group, t + 1),
      received(21, 'cache miss storm', t + 2), // a regression: the issue is open again
    ]);
    const status = () => env.pool.query<{ status: string }>('SELECT status FROM groups WHERE id = $1', [group]).then((result) => result.rows[0]!.status);
    await eventually(async () => ((await count('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [eventId(21)])) === 1 ? true : undefined), 'the regression');
    expect(await status()).toBe('unresolved');

    // Everything again from the start: the resolve is applied again, the stored event is skipped.
    await replayFromTheStart(22);
    expect(await status()).toBe('unresolved');

    // Each partition's position is the next offset after the last record applied there.
    const { committed, ends } = await eventually(async () => {
      const offsets = await committedOffsets();
      return offsets.ends.every((end) => offsets.committed.find((c) => c.partition === end.partition)?.offset === end.high || end.high === '0') ? offsets : undefined;
    }, 'offsets committed');
    const positions = await env.pool.query<{ partition: number; next_offset: number }>('SELECT partition, next_offset FROM projector_positions WHERE topic = $1 ORDER BY partition', [env.topics.events]);
    const written = ends.filter((end) => end.high !== '0');
    expect(positions.rows).toEqual(written.map((end) => ({ partition: end.partition, next_offset: Number(end.high) })));
    expect(committed.length).toBe(ends.length);
  });

  it('keeps an issue made again (same id, after its only event was deleted) open when an older resolve is applied again', async () => {
    const t = Date.now();
    await appender.append(env.topics.events, [received(40, 'flaky webhook', t)]);
    const group = await issueOf(40);
    await appender.append(env.topics.events, [
      resolve(group, t + 1),
      // Its only event hidden: the issue goes, and its next event makes it again, with the same id.
      { key: `${PROJECT}/deletion/tx40`, name: 'EventDeletionRequested', value: { projectId: PROJECT, eventId: eventId(40), transactionId: 'tx40', actor: 'test', requestedAt: t + 2 } },
      received(41, 'flaky webhook', t + 3),
    ]);
    await eventually(async () => ((await count('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [eventId(41)])) === 1 ? true : undefined), 'the issue made again');
    const status = () => env.pool.query<{ status: string }>('SELECT status FROM groups WHERE id = $1', [group]).then((result) => result.rows[0]?.status);
    expect(await status()).toBe('unresolved');
    await replayFromTheStart(42);
    expect(await status()).toBe('unresolved');
    await expectNoDeadLetters();
  });

  it('dead-letters an undecodable record with its reason and keeps the partition moving', async () => {
    await appender.appendRaw(env.topics.events, [{ key: `${PROJECT}/poison`, value: Buffer.from('not avro'), headers: { [SCHEMA_HEADER]: 'EventReceived', [VERSION_HEADER]: '1' } }]);
    await appender.append(env.topics.events, [received(4, 'after the poison', Date.now())]);
    await eventually(async () => ((await count('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [eventId(4)])) === 1 ? true : undefined), 'the record after the poison');

    // This record's own dead letter, not whichever came first: readTopic returns once the topic is
    // idle, so a missing dead letter fails here rather than hanging until the test's timeout.
    const dead = (await readTopic(env.config, env.topics.eventsDlq, 1500)).filter((record) => record.key === `${PROJECT}/poison`);
    expect(dead, 'the undecodable record on the DLQ').toHaveLength(1);
    const reason = dead[0]!.headers[DLQ_HEADERS.reason];
    expect(reason).toMatch(/corrupt EventReceived/);
  });

  it('never lets an event received before its group was deleted resurrect the group; a later one starts a fresh group', async () => {
    const t = Date.now();
    await appender.append(env.topics.events, [received(10, 'payment failed', t)]);
    const groupId10 = await eventually(async () => (await env.pool.query<{ group_id: number }>('SELECT group_id FROM events WHERE event_id = $1', [eventId(10)])).rows[0]?.group_id, 'the group');
    const hashes = (await env.pool.query<{ hash: string }>('SELECT hash FROM group_hashes WHERE group_id = $1', [groupId10])).rows.map((row) => row.hash);
    await appender.append(env.topics.events, [
      { key: `${PROJECT}/deletion/tx1`, name: 'GroupDeletionRequested', value: { projectId: PROJECT, groupId: groupId10, hashes, transactionId: 'tx1', actor: 'test', requestedAt: t + 1000 } },
      received(11, 'payment failed', t + 500), // in flight before the request: belongs to the deleted group
      received(12, 'payment failed', t + 2000), // after the request: a fresh group
    ]);
    const fresh = await eventually(async () => (await env.pool.query<{ group_id: number }>('SELECT group_id FROM events WHERE event_id = $1', [eventId(12)])).rows[0]?.group_id, 'the fresh group');
    expect(fresh).not.toBe(groupId10);
    // It joins the deleted group hidden, uncounted, so the group's purge erases it too.
    expect((await env.pool.query('SELECT group_id, pending_deletion FROM events WHERE event_id = $1', [eventId(11)])).rows).toEqual([{ group_id: groupId10, pending_deletion: true }]);
    expect((await env.pool.query('SELECT status, times_seen FROM groups WHERE id = $1', [groupId10])).rows[0]).toEqual({ status: 'pending_deletion', times_seen: 1 });
    expect(await count('SELECT count(*)::int AS n FROM group_hash_tombstones WHERE group_id = $1', [groupId10])).toBe(hashes.length);
  });

  it('dead-letters an event Postgres refuses (a NUL in a tag value), projecting the rest of its run; a NUL only in the payload is kept', async () => {
    const t = Date.now();
    // Ingest strips NULs; a record written otherwise may hold one. Text columns cannot store it.
    const bad = received(31, 'nul tag', t);
    const event = JSON.parse(bad.value.payload) as { tags: [string, string][] };
    event.tags = [...event.tags, ['bad', 'nul \u0000 inside']];
    bad.value.payload = JSON.stringify(event);
    // The payload is json, not jsonb: a NUL escape elsewhere in it is stored as sent.
    const kept = received(33, 'nul payload', t);
    kept.value.payload = kept.value.payload.replace('"message":"nul payload"', '"message":"nul payload","extra":"a\\u0000b"');
    expect(JSON.parse(kept.value.payload).extra).toBe('a\u0000b');
    await appender.append(env.topics.events, [received(30, 'around the nul', t), bad, kept, received(32, 'around the nul', t + 1)]);
    await eventually(async () => ((await count('SELECT count(*)::int AS n FROM events WHERE event_id = ANY($1)', [[eventId(30), eventId(32), eventId(33)]])) === 3 ? true : undefined), 'the events around it');
    expect(await count('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [eventId(31)])).toBe(0);
    const stored = await env.pool.query<{ payload: { extra: string } }>('SELECT payload FROM events WHERE event_id = $1', [eventId(33)]);
    expect(stored.rows[0]!.payload.extra).toBe('a\u0000b');
    const dead = (await readTopic(env.config, env.topics.eventsDlq, 1500)).filter((record) => record.key === `${PROJECT}/${eventId(31)}`);
    expect(dead).toHaveLength(1);
  });

  it('dead-letters a batch of large poison records too big for one request, and moves on', async () => {
    // 200 undecodable records of 6 KB: a fetched batch of them is about the broker's 1 MB message
    // limit, so their dead letters must go in several requests.
    const poison = Array.from({ length: 200 }, (_, n) => ({ key: `${PROJECT}/big-poison-${n}`, value: Buffer.alloc(6 * 1024, n % 256), headers: { [SCHEMA_HEADER]: 'EventReceived', [VERSION_HEADER]: '1' } }));
    for (let first = 0; first < poison.length; first += 50) await appender.appendRaw(env.topics.events, poison.slice(first, first + 50));
    await appender.append(env.topics.events, [received(5, 'after the big poison', Date.now())]);
    await eventually(async () => ((await count('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [eventId(5)])) === 1 ? true : undefined), 'the record after the big poison', 60000);
    const dead = (await readTopic(env.config, env.topics.eventsDlq, 1500)).filter((record) => record.key?.startsWith(`${PROJECT}/big-poison-`));
    expect(new Set(dead.map((record) => record.key)).size).toBe(200);
  });

  it('projects a burst in one batch as it would one by one, issues past the integer range of short ids included', async () => {
    // Messages whose issue's short id needs more than 31 bits, then a burst of 300 events over 30 issues.
    // Letters only: message grouping strips numbers.
    const word = (n: number) => [...n.toString(26).padStart(3, '0')].map((digit) => String.fromCharCode(97 + parseInt(digit, 26))).join('');
    const high = Array.from({ length: 2000 }, (_, n) => `short id probe ${word(n)}`).filter((message) => {
      const hash = groupHashes({ event_id: eventId(1), timestamp: 0, received: 0, level: 'error', platform: 'node', tags: [], message }).hashes[0]!;
      return shortIdNumber(issueId(PROJECT, hash, 0)) > 2 ** 31 - 1;
    }).slice(0, 3);
    expect(high).toHaveLength(3);
    const t = Date.now();
    const burst = Array.from({ length: 300 }, (_, n) => received(1000 + n, n < 3 ? high[n]! : `burst issue ${word(n % 30)}`, t + n));
    await appender.append(env.topics.events, [...burst, burst[5]!]); // the last one redelivered in the same batch
    await eventually(async () => ((await count('SELECT count(*)::int AS n FROM events WHERE event_id = ANY($1)', [burst.map((record) => record.value.eventId)])) === 300 ? true : undefined), 'the burst projected');
    const groups = await env.pool.query<{ title: string; times_seen: number; first_seen: Date; last_seen: Date; short_id: number }>(
      "SELECT title, times_seen, first_seen, last_seen, short_id FROM groups WHERE title LIKE 'burst issue %' OR title LIKE 'short id probe %' ORDER BY title",
    );
    expect(groups.rows).toHaveLength(33);
    for (const group of groups.rows.filter((row) => row.title.startsWith('burst'))) {
      const members = burst.filter((_record, n) => n >= 3 && `burst issue ${word(n % 30)}` === group.title);
      expect(group.times_seen).toBe(members.length);
      expect(group.first_seen.getTime()).toBe(members[0]!.value.receivedAt);
      expect(group.last_seen.getTime()).toBe(members.at(-1)!.value.receivedAt);
    }
    expect(groups.rows.filter((row) => row.short_id > 2 ** 31 - 1)).toHaveLength(3);
    // The partitions made for them compress payloads with lz4, as the events table says.
    const compression = await env.pool.query<{ relname: string; attcompression: string }>(
      "SELECT c.relname, a.attcompression FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'payload' WHERE i.inhparent = 'events'::regclass",
    );
    expect(compression.rows.length).toBeGreaterThan(0);
    expect(compression.rows.filter((row) => row.attcompression !== 'l')).toEqual([]);
  });
  // Last: it moves the expiry horizon (to three days ago, before every other test's events).
  it('drops emptied partitions that readers kept it from dropping a few seconds later, without waiting for another expiry', async () => {
    await stopConsumer();
    const day = 86_400_000;
    const old = Date.now() - 3 * day;
    const projectId = 4242;
    const payload = JSON.stringify({ event_id: eventId(9001), timestamp: old / 1000, received: old / 1000, level: 'error', platform: 'node', tags: [], message: 'expired behind a reader' });
    const context = applyContext(86_400);
    await inTransaction(env.pool, (db) => applyRecord(db, { name: 'EventReceived', version: 1, value: { projectId, eventId: eventId(9001), receivedAt: old, keyId: 'k', payload } }, context));
    const boundary = (Math.floor(old / day) + 1) * day;
    const expired = await inTransaction(env.pool, (db) =>
      applyRecord(db, { name: 'EventsPurged', version: 2, value: { projectId, transactionId: 'x-drop-retry', groupId: null, eventIds: [], chunk: 0, final: true, eventsRemoved: 0, rowsRemoved: 0, purgedAt: Date.now(), expiredBefore: boundary } }, context),
    );
    expect(expired.partitionsEmptied).toBe(true);
    const pastHorizon = async () => {
      const client = await env.pool.connect();
      try {
        return (await listEventPartitions(client)).filter((range) => range.to * 1000 <= boundary);
      } finally {
        client.release();
      }
    };
    expect(await pastHorizon()).not.toEqual([]);
    // A reader holds the events table while the projector starts: its drop of the emptied
    // partition waits out its lock timeout and gives up.
    const reader = await env.pool.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('LOCK TABLE ONLY events IN ACCESS SHARE MODE');
      await startConsumer();
      expect(await pastHorizon(), 'dropped although a reader held the table').not.toEqual([]);
    } finally {
      await reader.query('COMMIT');
      reader.release();
    }
    // No record and no expiry follows: the partition goes by the retry alone.
    await eventually(async () => ((await pastHorizon()).length === 0 ? true : undefined), 'the emptied partition dropped by the retry', 15_000);
  }, 40_000);
});
