import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Codec } from '@trapline/schemas';
import { isolated, type Isolated } from '../../../test/harness.ts';
import { groupLag, readTopic } from '../../../test/log.ts';
import { type ConsumedBatch, type ConsumeLoop, type ConsumeLoopOptions, PartitionRevoked, startConsumeLoop } from './consume.ts';
import { Appender, createKafka, settingsOf, TransactionalAppender } from './kafka.ts';
import { createLogger } from './logger.ts';

// The one consume loop against the real broker: every record handed over once, offsets committed
// only for what was handled, past the transaction markers too (no lag), held partitions read again,
// and a member fenced by a rebalance in the middle of a transactional step unable to commit it (KIP-447).

let env: Isolated;
let appender: Appender;
const codec = new Codec();
const loops: ConsumeLoop[] = [];
const transactional: TransactionalAppender[] = [];

beforeAll(async () => {
  env = await isolated({ KAFKA_DELETIONS_PARTITIONS: '2' });
  appender = await Appender.connect(createKafka(env.config.kafkaBrokers, 'test', createLogger('test', 'error')), codec);
});

afterAll(async () => {
  await Promise.all(loops.map((loop) => loop.stop()));
  await Promise.all(transactional.map((one) => one.close()));
  await appender?.close();
  await env?.dispose();
});

const client = () => settingsOf(createKafka(env.config.kafkaBrokers, 'test-loop', createLogger('test', 'error')));
const group = (name: string) => `${env.config.KAFKA_TOPIC_PREFIX}.${name}.${randomBytes(3).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function loop(options: Omit<ConsumeLoopOptions, 'client'>): Promise<ConsumeLoop> {
  const started = await startConsumeLoop({ client: client(), ...options });
  loops.push(started);
  return started;
}

async function transactionalAppender(): Promise<TransactionalAppender> {
  const one = await TransactionalAppender.connect(client(), codec, `${env.config.KAFKA_TOPIC_PREFIX}.test.${randomBytes(3).toString('hex')}`);
  transactional.push(one);
  return one;
}

/** `count` raw records over both partitions of `topic` (keys `1/…` and `2/…` land on different ones or not: both are read). */
async function appendNumbered(topic: string, count: number, tag: string): Promise<string[]> {
  const values = Array.from({ length: count }, (_, index) => `${tag}-${index}`);
  await appender.appendRaw(topic, values.map((value, index) => ({ key: `${index % 2 === 0 ? 'even' : 'odd'}/${value}`, value: Buffer.from(value), headers: {} })));
  return values;
}

const valuesOf = (batches: ConsumedBatch[]) => batches.flatMap((batch) => batch.records.map((record) => record.value!.toString()));

describe('the consume loop', () => {
  it('hands every record over once, commits each step with its output in one transaction, and both groups end without lag past the markers', async () => {
    const { deletionsRun: input, deletionsRetry: output } = env.topics;
    const sent = await appendNumbered(input, 40, 'a');
    const steps = group('steps');
    const transactions = await transactionalAppender();
    await loop({
      groupId: steps, topics: [input], transactions, maxBatchSize: 7,
      handle: async (batch, control) => {
        for (const record of batch.records) await control.commit([{ topic: output, raw: [{ key: record.key, value: record.value }] }], record.offset);
      },
    });
    const read: ConsumedBatch[] = [];
    const reader = group('reader');
    await loop({ groupId: reader, topics: [output], handle: async (batch) => void read.push(batch) });
    await until('every step read from the output', () => (valuesOf(read).length >= sent.length ? true : undefined));
    await sleep(1000); // anything doubled would arrive meanwhile
    expect(valuesOf(read).sort()).toEqual([...sent].sort());
    // The output ends in a commit marker after each transaction: the reader's group is past it.
    await until('both groups without lag', async () => ((await groupLag(env.config, steps, [input])) === 0 && (await groupLag(env.config, reader, [output])) === 0 ? true : undefined), 30000);
    // A record's offset is the one it was appended at, one partition's records in order.
    for (const batch of read) {
      const offsets = batch.records.map((record) => Number(record.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('what a cycle\'s batches stage commits in one transaction with all their positions; a failed one reads every batch of it again, each record output once', async () => {
    const { alertsRun: first, alertsRetry: second, alertsDlq: output } = env.topics;
    const sent: string[] = [];
    let round = 0;
    const appendRound = async () => {
      round += 1;
      sent.push(...(await appendNumbered(first, 10, `d${round}`)), ...(await appendNumbered(second, 10, `e${round}`)));
    };
    await appendRound();
    const steps = group('staged');
    const handled = new Map<string, number>();
    const transactions: string[][] = [];
    const committed: string[] = [];
    // What the cycle under way has handled so far: a successful transaction ends a cycle.
    let cycle: string[] = [];
    let failedCycle: string[] = [];
    await loop({
      groupId: steps, topics: [first, second], transactions: await transactionalAppender(), takeFetched: true, retryPauseMs: 200, firstTopics: [first],
      onCycleTransaction: (partitions) => {
        transactions.push(partitions.map(({ topic, partition }) => `${topic}/${partition}`));
        cycle = [];
      },
      handle: async (batch, control) => {
        const values = batch.records.map((record) => record.value!.toString());
        for (const value of values) handled.set(value, (handled.get(value) ?? 0) + 1);
        // The first cycle holding both topics fails its transaction (a topic that does not exist) after
        // the first topic's batches staged good steps: none of its batches may count as done.
        const fails = failedCycle.length === 0 && batch.topic === second && cycle.some((value) => value.startsWith('d'));
        cycle.push(...values);
        if (fails) failedCycle = [...cycle];
        control.stage([{ topic: fails ? `${output}.missing` : output, raw: batch.records.map((record) => ({ key: record.key, value: record.value })) }], batch.records.at(-1)!.offset, () => committed.push(...values));
      },
    });
    // Which records share a cycle is the fetcher's choice: more rounds until one cycle held both topics.
    await until('a cycle holding both topics', async () => {
      if (failedCycle.length > 0) return true;
      if (committed.length >= sent.length && round < 20) await appendRound();
      return undefined;
    });
    await until('every record committed', () => (committed.length >= sent.length ? true : undefined));
    await sleep(1000); // anything doubled would arrive meanwhile
    const output_ = (await readTopic(env.config, output)).map((record) => record.value!.toString()).filter((value) => /^[de]\d+-/.test(value));
    expect(output_.sort()).toEqual([...sent].sort());
    expect(committed.sort()).toEqual([...sent].sort());
    // The failed cycle's batches were handed over again, those that staged a good step too.
    expect(failedCycle.some((value) => value.startsWith('d'))).toBe(true);
    expect(failedCycle.filter((value) => (handled.get(value) ?? 0) < 2)).toEqual([]);
    // Several partitions' steps went in one transaction.
    expect(transactions.some((partitions) => partitions.length > 1)).toBe(true);
    await until('the group without lag', async () => ((await groupLag(env.config, steps, [first, second])) === 0 ? true : undefined), 30000);
  });

  it('reads again what a handler left: after a hold, and after it threw, each record handled once', async () => {
    const { deletionsDelay: input } = env.topics;
    const sent = await appendNumbered(input, 30, 'b');
    const handled: string[] = [];
    let holds = 0;
    let threw = false;
    await loop({
      groupId: group('held'), topics: [input], maxBatchSize: 10, retryPauseMs: 200,
      handle: async (batch, control) => {
        if (!threw) {
          threw = true;
          throw new Error('not now'); // nothing handled: the whole batch comes again
        }
        // Half of each batch, then the partition rests: the rest comes again after the hold.
        const half = batch.records.slice(0, Math.ceil(batch.records.length / 2));
        for (const record of half) handled.push(record.value!.toString());
        control.handled(half.at(-1)!.offset);
        if (half.length < batch.records.length) {
          holds += 1;
          control.holdFor(100);
        }
      },
    });
    await until('every record handled', () => (handled.length >= sent.length ? true : undefined));
    await sleep(1000);
    expect(handled.sort()).toEqual([...sent].sort());
    expect(holds).toBeGreaterThan(0);
  });

  it('a member that loses its partition in the middle of a transactional step cannot commit it: the new owner does the step, the output holds it once', async () => {
    const { deletionsDlq: input, audit: output } = env.topics; // one partition each
    const [only] = await appendNumbered(input, 1, 'c');
    const steps = group('fenced');
    const member = { sessionTimeoutMs: 6000, maxPollIntervalMs: 7000 };
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let inStep = false;
    let fenced: unknown;
    const first = await loop({
      ...member, groupId: steps, topics: [input], transactions: await transactionalAppender(),
      handle: async (batch, control) => {
        for (const record of batch.records) {
          inStep = true;
          await stalled; // the step is computed; its member stalls past max.poll.interval.ms before committing
          try {
            await control.commit([{ topic: output, raw: [{ key: record.key, value: record.value }] }], record.offset);
          } catch (error) {
            fenced = error;
            throw error;
          }
        }
      },
    });
    await until('the first member in its step', () => (inStep ? true : undefined));
    let secondAssigned = false;
    const second = await loop({
      ...member, groupId: steps, topics: [input], transactions: await transactionalAppender(),
      onJoin: (assignment) => {
        if (assignment.length > 0) secondAssigned = true;
      },
      handle: async (batch, control) => {
        for (const record of batch.records) await control.commit([{ topic: output, raw: [{ key: record.key, value: record.value }] }], record.offset);
      },
    });
    // The stalled member leaves the group when its poll interval runs out; the other one takes the partition and commits the step.
    await until('the partition taken over', () => (secondAssigned ? true : undefined), 60000);
    await until('the step committed by the new owner', async () => ((await groupLag(env.config, steps, [input])) === 0 ? true : undefined), 60000);
    release();
    await until('the stalled member told it cannot commit', () => (fenced ? true : undefined), 30000);
    expect(fenced).not.toBeInstanceOf(PartitionRevoked); // refused by the group coordinator, not by the loop's own bookkeeping
    const committed = (await readTopic(env.config, output)).filter((record) => record.value?.toString() === only);
    expect(committed).toHaveLength(1);
    expect(second.check()).toBeUndefined();
    void first;
  }, 120000);
});
