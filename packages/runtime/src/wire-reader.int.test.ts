import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import RdKafkaModule, { type LibrdKafkaError, type Producer } from '@confluentinc/kafka-javascript';
import { isolated, type Isolated } from '../../../test/harness.ts';
import { createKafka, type Kafka, type KafkaMessage } from './kafka.ts';
import { createLogger } from './logger.ts';
import { readRange } from './range-read.ts';
import { readRangesByWire, type WireRecord } from './wire-reader.ts';

// The wire reader against the real broker, answer for answer with the librdkafka reader
// (range-read.ts) on the same ranges: batches plain, gzip and zstd, idempotent and transactional,
// aborted transactions left out, tombstones, repeated headers, a range that starts and ends inside
// batches; what it cannot read (lz4) left at the batch's first offset, and an open transaction
// reported idle with what came before it read.

const { RdKafka } = RdKafkaModule;
let env: Isolated;
let kafka: Kafka;
const topic = () => `${env.config.KAFKA_TOPIC_PREFIX}wire-test`;
const done = (resolve: () => void, reject: (error: unknown) => void) => (error: LibrdKafkaError | null | undefined) => (error ? reject(error) : resolve());
const call = (run: (cb: (error: LibrdKafkaError | null | undefined) => void) => void) => new Promise<void>((resolve, reject) => run(done(resolve, reject)));

async function producer(settings: Record<string, string | number | boolean>): Promise<Producer> {
  const made = new RdKafka.Producer({ 'bootstrap.servers': env.config.kafkaBrokers.join(','), 'linger.ms': 5, 'enable.idempotence': true, acks: -1, ...settings });
  await call((cb) => made.connect({ timeout: 30000 }, (error) => cb(error)));
  made.setPollInBackground(true);
  if ('transactional.id' in settings) await call((cb) => made.initTransactions(30000, cb));
  return made;
}

interface Sent {
  key: string | null;
  value: string | null;
  headers?: Record<string, string>[];
}

async function send(made: Producer, partition: number, records: Sent[]): Promise<void> {
  for (const record of records) {
    made.produce(topic(), partition, record.value === null ? null : Buffer.from(record.value), record.key === null ? null : Buffer.from(record.key), null, undefined, record.headers);
  }
  await call((cb) => made.flush(30000, (error) => cb(error)));
}

const batch = (tag: string, count: number): Sent[] => Array.from({ length: count }, (_, i) => ({
  key: i === 3 ? null : `${tag}/${i}`,
  value: i === 5 ? null : `${tag} value ${i} ${'é'.repeat(i)}`,
  headers: [{ 'trapline-schema': 'EventReceived' }, { 'trapline-schema-version': String(i) }, ...(i % 4 === 0 ? [{ 'trapline-schema-version': 'again' }] : [])] as Record<string, string>[],
}));

/** What either reader read, in a form both give. */
const plain = (record: { offset: number | string; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }) => ({
  offset: Number(record.offset),
  key: record.key?.toString() ?? null,
  value: record.value?.toString() ?? null,
  headers: Object.fromEntries(Object.entries(record.headers ?? {}).map(([name, value]) => [name, Array.isArray(value) ? value.map(String) : String(value)])),
});

async function byLibrdkafka(ranges: { partition: number; from: number; end: number }[]) {
  const read = new Map<number, ReturnType<typeof plain>[]>();
  await readRange({
    kafka, topic: topic(), idleMs: 2000, ranges: ranges.map((range) => ({ partition: range.partition, from: BigInt(range.from), end: BigInt(range.end) })),
    onRecord: (partition, message: KafkaMessage) => {
      read.set(partition, [...(read.get(partition) ?? []), plain(message)]);
      return 'continue';
    },
  });
  return read;
}

async function byWire(ranges: { partition: number; from: number; end: number }[], idleMs = 2000) {
  const read = new Map<number, ReturnType<typeof plain>[]>();
  const reached = new Map<number, number>();
  const result = await readRangesByWire({
    brokers: env.config.kafkaBrokers, clientId: 'wire-test', topic: topic(), ranges, idleMs, maxBytesPerPartition: 2048,
    onRecords: (partition, records: WireRecord[], nextOffset) => {
      read.set(partition, [...(read.get(partition) ?? []), ...records.map(plain)]);
      reached.set(partition, nextOffset);
    },
  });
  return { read, reached, ...result };
}

beforeAll(async () => {
  env = await isolated({ LOG_LEVEL: 'error' });
  kafka = createKafka(env.config.kafkaBrokers, 'wire-test', createLogger('test', 'error'));
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: topic(), numPartitions: 4, replicationFactor: 1 }] });
  await admin.disconnect();
}, 60000);

afterAll(async () => {
  await env?.dispose();
});

describe('reading ranges over the wire protocol', () => {
  it('reads what librdkafka reads: compressed, transactional, aborted, tombstones and repeated headers', async () => {
    const plainProducer = await producer({ 'compression.codec': 'none' });
    const gzip = await producer({ 'compression.codec': 'gzip' });
    const zstd = await producer({ 'compression.codec': 'zstd' });
    const transactional = await producer({ 'transactional.id': `${topic()}-tx`, 'compression.codec': 'gzip' });
    try {
      for (const [partition, first, second] of [[0, plainProducer, gzip], [1, zstd, plainProducer], [2, gzip, zstd]] as const) {
        await send(first, partition, batch(`p${partition}a`, 7));
        await call((cb) => transactional.beginTransaction(cb));
        await send(transactional, partition, batch(`p${partition}-aborted`, 4));
        await call((cb) => transactional.abortTransaction(30000, cb));
        await send(second, partition, batch(`p${partition}b`, 6));
        await call((cb) => transactional.beginTransaction(cb));
        await send(transactional, partition, batch(`p${partition}-committed`, 3));
        await call((cb) => transactional.commitTransaction(30000, cb));
        await send(first, partition, batch(`p${partition}c`, 5));
      }
    } finally {
      for (const made of [plainProducer, gzip, zstd, transactional]) await call((cb) => made.disconnect(30000, (error) => cb(error)));
    }
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic());
    await admin.disconnect();
    const end = (partition: number) => Number(offsets.find((entry) => entry.partition === partition)!.high);
    // Whole partitions, and ranges that start and end inside batches (and inside the aborted one).
    const ranges = [{ partition: 0, from: 0, end: end(0) }, { partition: 1, from: 3, end: end(1) - 4 }, { partition: 2, from: 9, end: end(2) }];
    const expected = await byLibrdkafka(ranges);
    const wire = await byWire(ranges);
    expect(wire.idle).toEqual([]);
    expect(wire.unreadable).toEqual([]);
    for (const { partition, from } of ranges) {
      const read = wire.read.get(partition)!;
      expect(read, `partition ${partition}`).toEqual(expected.get(partition));
      expect(read.some((record) => record.value?.includes('aborted'))).toBe(false);
      expect(read.filter((record) => record.value?.includes('committed'))).toHaveLength(3);
      expect(read[0]!.offset).toBeGreaterThanOrEqual(from);
    }
    // Past the markers at the ends: a partition read to its end reached it.
    expect(wire.reached.get(0)).toBe(end(0));
    expect(expected.get(0)!.some((record) => record.value === null && record.key === 'p0a/5')).toBe(true);
    expect(expected.get(0)!.find((record) => record.offset === 0)!.headers).toEqual({ 'trapline-schema': 'EventReceived', 'trapline-schema-version': ['0', 'again'] });
  }, 120000);

  it('leaves an lz4 batch to the full client at its first offset, and reports a partition an open transaction holds back as idle', async () => {
    const plainProducer = await producer({ 'compression.codec': 'none' });
    const lz4 = await producer({ 'compression.codec': 'lz4' });
    const transactional = await producer({ 'transactional.id': `${topic()}-open` });
    try {
      await send(plainProducer, 3, batch('before', 4));
      await send(lz4, 3, batch('lz4', 4));
      await send(plainProducer, 3, batch('after', 2));
      const lz4From = 4;
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic());
      const end3 = Number(ends.find((entry) => entry.partition === 3)!.high);
      const wire = await byWire([{ partition: 3, from: 0, end: end3 }]);
      expect(wire.unreadable).toEqual([{ partition: 3, offset: lz4From, reason: 'record batches compressed with lz4 are left to the per-batch path' }]);
      expect(wire.read.get(3)!.map((record) => record.value)).toEqual(batch('before', 4).map((record) => record.value));

      // An open transaction on partition 0, then a record after it: read up to the transaction, then idle.
      const end0 = Number(ends.find((entry) => entry.partition === 0)!.high);
      await call((cb) => transactional.beginTransaction(cb));
      await send(transactional, 0, batch('open', 2));
      await send(plainProducer, 0, batch('behind', 1));
      const after = Number((await admin.fetchTopicOffsets(topic())).find((entry) => entry.partition === 0)!.high);
      await admin.disconnect();
      const held = await byWire([{ partition: 0, from: end0 - 2, end: after }], 1500);
      expect(held.idle).toEqual([0]);
      // (The first test's commit marker may have landed among these: the coordinator writes markers after the commit returns.)
      const before = (await byLibrdkafka([{ partition: 0, from: end0 - 2, end: end0 }])).get(0)!;
      expect(before.length).toBeGreaterThan(0);
      expect(held.read.get(0)).toEqual(before);
      await call((cb) => transactional.abortTransaction(30000, cb));
    } finally {
      for (const made of [plainProducer, lz4, transactional]) await call((cb) => made.disconnect(30000, (error) => cb(error)));
    }
  }, 120000);
});
