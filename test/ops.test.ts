import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Appender, type ConsumeLoop, createKafka, createLogger, DLQ_HEADERS, type Kafka, partitionFor, settingsOf, startConsumeLoop } from '@trapline/runtime';
import { Codec, SCHEMA_HEADER, VERSION_HEADER } from '@trapline/schemas';
import { eventually, isolated, runCli, type Isolated } from './harness.ts';
import { groupLag } from './log.ts';

// The operator commands over the log itself (`trapline topics | decode | lag | replay | dlq`)
// against the real broker, on a private topic prefix with records appended by the test.

let env: Isolated;
let kafka: Kafka;
let appender: Appender;
const codec = new Codec();

const cli = (...args: string[]) => runCli(env.env, args, 60000);
const jsonLines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);

const event = (eventId: string, message: string) => ({ projectId: 1, eventId, receivedAt: 1700000000000, keyId: 'k', payload: JSON.stringify({ message }) });

function ok(result: ReturnType<typeof cli>) {
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

function refused(result: ReturnType<typeof cli>, reason: RegExp) {
  expect(result.status, result.stdout).toBe(2);
  expect(result.stderr).toMatch(reason);
}

/** `trapline …` without blocking this process, so its consumers keep heartbeating meanwhile. */
function cliInBackground(args: string[]): { stderr: () => string; done: Promise<{ status: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'packages/cli/bin/trapline.js'), ...args], { cwd: join(import.meta.dirname, '..'), env: env.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { stderr: () => stderr, done: new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr }))) };
}

async function joinedConsumer(groupId: string): Promise<ConsumeLoop> {
  let joined = false;
  const consumer = await startConsumeLoop({ client: settingsOf(kafka), groupId, topics: [env.topics.events], fetchMaxWaitMs: 200, onJoin: () => (joined = true), handle: async () => undefined });
  await eventually(async () => (joined ? true : undefined), `${groupId} joined`);
  return consumer;
}

beforeAll(async () => {
  env = await isolated();
  kafka = createKafka(env.config.kafkaBrokers, 'test-ops', createLogger('test', 'error'));
  appender = await Appender.connect(kafka, codec);
  // Project 1's partition: an event, its erasure, and a poison record; project 2's elsewhere.
  await appender.append(env.topics.events, [{ key: '1/e1', name: 'EventReceived', value: event('e1', 'one') }]);
  await appender.append(env.topics.events, [{ key: '2/e2', name: 'EventReceived', value: event('e2', 'two') }]);
  await appender.append(env.topics.events, [{ key: '1/e1', tombstone: true }]);
  await appender.appendRaw(env.topics.events, [{ key: '1/poison', value: Buffer.from('not avro'), headers: { [SCHEMA_HEADER]: 'EventReceived', [VERSION_HEADER]: '1' } }]);
  const deadEvent = codec.encode('EventReceived', event('e3', 'three'));
  await appender.appendRaw(env.topics.eventsDlq, [{
    key: '1/e3',
    value: deadEvent.value,
    headers: { ...deadEvent.headers, [DLQ_HEADERS.reason]: 'cannot apply EventReceived: test', [DLQ_HEADERS.topic]: env.topics.events, [DLQ_HEADERS.partition]: '0', [DLQ_HEADERS.offset]: '99' },
  }]);
  await appender.append(env.topics.deletionsDlq, [{
    key: 'tx-1',
    name: 'DeletionStep',
    value: {
      transactionId: 'tx-1', kind: 'event', projectId: 1, groupId: null, eventId: 'e1', actor: 'token:abc', requestedAt: 1, dueAt: 1, requestPartition: 0, requestOffset: '0',
      attempt: 5, cursor: null, chunks: 0, eventsRemoved: 0, rowsRemoved: 0, lastError: 'connection refused',
    },
  }]);
});

afterAll(async () => {
  await appender?.close();
  await env?.dispose();
});

describe('trapline topics', () => {
  it('lists every declared topic with its partitions, broker configs and end offsets', () => {
    const topics = JSON.parse(ok(cli('topics', '--json'))) as Record<string, any>[];
    expect(topics.map((topic) => topic.topic)).toEqual(Object.values(env.topics));
    const events = topics.find((topic) => topic.topic === env.topics.events)!;
    expect(events).toMatchObject({ exists: true, partitions: 6, endTotal: 4, drift: [] });
    expect(events.configs).toMatchObject({ 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' });
    expect(events.offsets).toHaveLength(6);
    expect(topics.find((topic) => topic.topic === env.topics.audit)!.configs).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '-1' });
    expect(ok(cli('topics'))).toMatch(new RegExp(`${env.topics.deletionsDlq.replaceAll('.', '\\.')}\\s+1\\s+cleanup\\.policy=delete retention\\.ms=-1\\s+0:1\\s+1`));
  });
});

describe('trapline decode', () => {
  const projectOne = () => String(partitionFor('1/e1', 6));

  it('prints every record as a JSON line: decoded, erased (null) and corrupt', () => {
    const lines = jsonLines(ok(cli('decode', 'events')));
    expect(lines).toHaveLength(4);
    const [received, erased, poison] = lines.filter((line) => line.key.startsWith('1/'));
    expect(received).toMatchObject({ topic: env.topics.events, offset: 0, schema: 'EventReceived', version: 1, headers: { 'trapline-schema': 'EventReceived' }, value: { eventId: 'e1', payload: { message: 'one' } } });
    expect(received!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(erased).toMatchObject({ key: '1/e1', offset: 1, value: null });
    expect(poison).toMatchObject({ key: '1/poison', offset: 2, error: expect.stringMatching(/corrupt EventReceived v1/), raw: Buffer.from('not avro').toString('base64') });
    expect(poison).not.toHaveProperty('value');
  });

  it('filters by partition, start offset, key and count', () => {
    expect(jsonLines(ok(cli('decode', env.topics.events, '--partition', projectOne(), '--from', '1'))).map((line) => line.offset)).toEqual([1, 2]);
    expect(jsonLines(ok(cli('decode', 'events', '--key', '2/e2'))).map((line) => line.value.eventId)).toEqual(['e2']);
    expect(jsonLines(ok(cli('decode', 'events', '--partition', projectOne(), '--limit', '1'))).map((line) => line.offset)).toEqual([0]);
    expect(ok(cli('decode', 'deletions.delay'))).toBe('');
  });

  it.each([
    [['decode', 'nope'], /unknown topic "nope" \(known: .*\.events,/],
    [['decode', 'events', '--partition', '6'], /has no partition 6/],
    [['decode', 'events', '--limit', '0'], /--limit needs a whole number ≥ 1/],
    [['decode', 'events', '--from', '1', '--from-beginning'], /exclude each other/],
  ])('refuses %j with exit 2 and a reason', (args, reason) => {
    refused(cli(...args), reason);
  });
});

describe('trapline lag and replay', () => {
  const group = () => `${env.config.KAFKA_TOPIC_PREFIX}.reader`;
  let reader: ConsumeLoop;

  beforeAll(async () => {
    reader = await joinedConsumer(group());
    await eventually(async () => ((await groupLag(env.config, group(), [env.topics.events])) === 0 ? true : undefined), 'the reader caught up');
  });

  afterAll(async () => {
    await reader?.stop();
  });

  it('shows each group\'s state, members, committed and end offsets and lag', () => {
    const [lag] = JSON.parse(ok(cli('lag', '--json'))) as Record<string, any>[];
    expect(lag).toMatchObject({ group: group(), state: 'Stable', members: 1, totalLag: 0 });
    expect(lag!.partitions).toContainEqual({ topic: env.topics.events, partition: partitionFor('1/e1', 6), committed: 3, end: 3, lag: 0 });
    expect(ok(cli('lag'))).toMatch(new RegExp(`${group().replaceAll('.', '\\.')}\\s+Stable\\s+1\\s+${env.topics.events.replaceAll('.', '\\.')}`));
  });

  it('refuses to move a group that has a live member', () => {
    refused(cli('replay', '--group', group(), '--to-earliest'), /has 1 live member\(s\).*Stop its consumers first/);
  });

  it('moves a stopped group to the earliest offsets, a date-time, or an offset, and says what changed', async () => {
    await reader.stop();
    const p = partitionFor('1/e1', 6);
    expect(ok(cli('replay', '--group', group(), '--to-earliest'))).toContain(`${env.topics.events} ${p}: 3 → 0`);
    const [rewound] = JSON.parse(ok(cli('lag', '--group', group(), '--json'))) as Record<string, any>[];
    expect(rewound).toMatchObject({ state: 'Empty', members: 0, totalLag: 4 });

    expect(ok(cli('replay', '--group', group(), '--to-offset', '1', '--topic', 'events', '--dry-run'))).toMatch(new RegExp(`would move[\\s\\S]*${p}: 0 → 1`));
    expect((await groupLag(env.config, group(), [env.topics.events]))).toBe(4);

    expect(ok(cli('replay', '--group', group(), '--to-datetime', new Date(Date.now() + 3600000).toISOString()))).toContain(`${env.topics.events} ${p}: 0 → 3`);
    expect(await groupLag(env.config, group(), [env.topics.events])).toBe(0);
  });

  it('with --force waits for live members to leave, then moves the group', async () => {
    reader = await joinedConsumer(group());
    const replay = cliInBackground(['replay', '--group', group(), '--to-earliest', '--force']);
    await eventually(async () => (/waiting for 1 live member/.test(replay.stderr()) ? true : undefined), 'replay waiting for the member');
    await reader.stop();
    const result = await replay.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${env.topics.events} ${partitionFor('1/e1', 6)}: 3 → 0`);
  });

  it.each([
    [['replay', '--to-earliest'], /--group/],
    [['replay', '--group', 'nobody', '--to-earliest'], /no consumer group "nobody"/],
    [['replay', '--group', 'x'], /exactly one of --to-earliest/],
    [['replay', '--group', 'x', '--to-datetime', 'yesterday'], /ISO 8601/],
    [['lag', '--group', 'nobody'], /no consumer group "nobody"/],
  ])('refuses %j with exit 2 and a reason', (args, reason) => {
    refused(cli(...args), reason);
  });
});

describe('trapline dlq', () => {
  it('lists every dead-letter topic with each record\'s reason and origin', () => {
    const listed = JSON.parse(ok(cli('dlq', 'list', '--json'))) as Record<string, any>[];
    expect(listed).toEqual([
      { topic: env.topics.eventsDlq, count: 1, records: [{ partition: 0, offset: 0, key: '1/e3', reason: 'cannot apply EventReceived: test', originalTopic: env.topics.events, originalPartition: 0, originalOffset: 99 }] },
      { topic: env.topics.deletionsDlq, count: 1, records: [{ partition: 0, offset: 0, key: 'tx-1', reason: 'connection refused', originalTopic: null, originalPartition: null, originalOffset: null }] },
      { topic: env.topics.alertsDlq, count: 0, records: [] },
    ]);
    const text = ok(cli('dlq', 'list'));
    expect(text).toContain(`${env.topics.eventsDlq}: 1 record(s)`);
    expect(text).toMatch(/0\s+0\s+tx-1\s+connection refused/);
  });

  it('shows one dead letter decoded in full', () => {
    const shown = JSON.parse(ok(cli('dlq', 'show', 'events.dlq', '0'))) as Record<string, any>;
    expect(shown).toMatchObject({ key: '1/e3', schema: 'EventReceived', value: { eventId: 'e3', payload: { message: 'three' } }, reason: 'cannot apply EventReceived: test', original: { topic: env.topics.events, partition: 0, offset: 99 } });
  });

  it.each([
    [['dlq', 'show', 'events.dlq', '5'], /no record at offset 5/],
    [['dlq', 'show', 'events', '0'], /unknown topic "events" \(known: .*\.events\.dlq, .*\.deletions\.dlq, .*\.alerts\.dlq\)/],
    [['dlq', 'redrive', '--topic', 'audit'], /unknown topic "audit"/],
  ])('refuses %j with exit 2 and a reason', (args, reason) => {
    refused(cli(...args), reason);
  });

  it('re-drives each dead letter once: events to their original topic, deletions to run', () => {
    const first = ok(cli('dlq', 'redrive'));
    expect(first).toContain(`${env.topics.deletionsDlq}: re-driven 1 deletion(s) (tx-1)`);
    expect(first).toContain(`${env.topics.eventsDlq}: re-driven 1 record(s) (1 to ${env.topics.events})`);
    expect(first).toContain(`${env.topics.alertsDlq}: re-driven 0 alert deliveries`);

    const [back] = jsonLines(ok(cli('decode', 'events', '--key', '1/e3')));
    expect(back).toMatchObject({ value: { eventId: 'e3' }, headers: { 'trapline-schema': 'EventReceived', 'trapline-schema-version': '1' } });
    expect(Object.keys(back!.headers).filter((name) => name.startsWith('trapline-dlq'))).toEqual([]);
    // Written in a transaction: the partition ends in a commit marker, which decode reads past, not waits at.
    const run = cli('decode', 'deletions.run');
    expect(run.stderr).toBe('');
    expect(jsonLines(ok(run))).toMatchObject([{ key: 'tx-1', value: { transactionId: 'tx-1', attempt: 0 } }]);

    const second = ok(cli('dlq', 'redrive'));
    expect(second).toContain('re-driven 0 deletion(s)');
    expect(second).toContain('re-driven 0 record(s)');
    expect(jsonLines(ok(cli('decode', 'events', '--key', '1/e3')))).toHaveLength(1);
  });
});

describe('trapline dlq on a dead-letter topic larger than one fetch', () => {
  // Regression: a range needing more than one fetch (1 MiB per partition and fetch by default)
  // was fetched from its first offset again and again, so `dlq list` and `decode` hung.
  const COUNT = 400;
  let big: Isolated;

  const bigCli = (...args: string[]) => runCli(big.env, args, 30000);
  const offsets = (from: number, count: number) => Array.from({ length: count }, (_, index) => from + index);

  beforeAll(async () => {
    big = await isolated();
    // ~4 KiB per record: 400 of them are ~1.6 MiB, past one fetch. Plain (non-transactional) sends
    // as the projector's dead-lettering does, in chunks below the broker's message size limit.
    for (let start = 0; start < COUNT; start += 50) {
      await appender.appendRaw(big.topics.eventsDlq, offsets(start, 50).map((index) => {
        const dead = codec.encode('EventReceived', event(`dead-${index}`, `${index} ${'x'.repeat(4000)}`));
        return {
          key: `1/dead-${index}`,
          value: dead.value,
          headers: { ...dead.headers, [DLQ_HEADERS.reason]: `cannot apply EventReceived: test ${index}`, [DLQ_HEADERS.topic]: big.topics.events, [DLQ_HEADERS.partition]: '0', [DLQ_HEADERS.offset]: String(index) },
        };
      }));
    }
  });

  afterAll(async () => {
    await big?.dispose();
  });

  it('lists every dead letter, in order, and ends', () => {
    const result = bigCli('dlq', 'list', '--json');
    expect(result.status, `status ${result.status} (signal ${result.signal}): ${result.stderr}`).toBe(0);
    expect(result.stderr).toBe('');
    const [events, deletions] = JSON.parse(result.stdout) as Record<string, any>[];
    expect(events).toMatchObject({ topic: big.topics.eventsDlq, count: COUNT });
    expect(events!.records.map((record: Record<string, any>) => record.offset)).toEqual(offsets(0, COUNT));
    expect(events!.records[COUNT - 1]).toMatchObject({ key: `1/dead-${COUNT - 1}`, reason: `cannot apply EventReceived: test ${COUNT - 1}`, originalOffset: COUNT - 1 });
    expect(deletions).toEqual({ topic: big.topics.deletionsDlq, count: 0, records: [] });
  });

  it('decodes through all of it, from an offset past the first fetch, and shows its last record', () => {
    // --key keeps the output small (runCli buffers at most 1 MiB) while reading every record.
    const last = bigCli('decode', 'events.dlq', '--key', `1/dead-${COUNT - 1}`);
    expect(last.status, `status ${last.status} (signal ${last.signal}): ${last.stderr}`).toBe(0);
    expect(last.stderr).toBe('');
    expect(jsonLines(last.stdout)).toMatchObject([{ offset: COUNT - 1, value: { eventId: `dead-${COUNT - 1}` } }]);
    expect(jsonLines(ok(bigCli('decode', 'events.dlq', '--from', '350', '--limit', '3'))).map((line) => line.offset)).toEqual([350, 351, 352]);
    expect(JSON.parse(ok(bigCli('dlq', 'show', 'events.dlq', String(COUNT - 1))))).toMatchObject({ offset: COUNT - 1, key: `1/dead-${COUNT - 1}`, value: { eventId: `dead-${COUNT - 1}` } });
  });
});
