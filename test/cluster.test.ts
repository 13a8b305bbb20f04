import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Admin, createKafka, createLogger, readConfig, readRange, withAdmin } from '@trapline/runtime';
import { readRangesByWire } from '@trapline/runtime/wire';
import { stackPaths, startKafkaCluster, stopKafka, type KafkaNode } from '@trapline/stack';
import { eventually, freePortPair, startTrapline, type RunningTrapline } from './harness.ts';
import { groupLag } from './log.ts';
import { projection, steadyLoad } from './load.ts';

// A three-node KRaft cluster of its own (combined broker+controller nodes, as `npm run stack --
// up --brokers 3` starts them), topics replicated three times with min.insync.replicas=2. Under
// steady load, the broker leading the project's partition is killed with SIGKILL and started again:
// every acknowledged event is in the read model exactly once.

const LOAD = { clients: 3, perClientPerSecond: 10, maxEvents: 3000, maxMs: 90000, messages: ['disk full', 'socket hang up', 'lock timeout'] };
const say = () => undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cache = stackPaths(readConfig()).cache;

let dir: string;
let nodes: KafkaNode[];
let trapline: RunningTrapline;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trapline-cluster-'));
  chmodSync(dir, 0o755);
  nodes = [];
  for (const id of [1, 2, 3]) {
    const port = await freePortPair();
    nodes.push({ host: '127.0.0.1', port, controllerPort: port + 1, id, dir: join(dir, `kafka-${id}`) });
  }
  await startKafkaCluster(nodes, cache, say);
  trapline = await startTrapline({ KAFKA_BROKERS: nodes.map((node) => `${node.host}:${node.port}`).join(','), APPEND_TIMEOUT_MS: '5000' });
}, 240000);

afterAll(async () => {
  await trapline?.dispose();
  await Promise.all((nodes ?? []).map((node) => stopKafka(node.dir)));
  rmSync(dir, { recursive: true, force: true });
}, 120000);

const withClusterAdmin = <T>(use: (admin: Admin) => Promise<T>): Promise<T> => withAdmin(createKafka(trapline.config.kafkaBrokers, 'test-admin', createLogger('test', 'error')), use);

/** The node leading the partition of trapline.events that holds the most records (the load's project). */
const busiestLeader = () =>
  withClusterAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(trapline.topics.events);
    const busiest = offsets.reduce((best, entry) => (Number(entry.high) > Number(best.high) ? entry : best));
    const { topics: [topic] } = await admin.fetchTopicMetadata({ topics: [trapline.topics.events] });
    const leader = topic!.partitions.find((partition) => partition.partitionId === busiest.partition)!.leader;
    return nodes.find((node) => node.id === leader)!;
  });

describe('a three-broker cluster', () => {
  it('replicates every topic three times with two in sync required', async () => {
    await withClusterAdmin(async (admin) => {
      const names = Object.values(trapline.topics);
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      for (const topic of topics) for (const partition of topic.partitions) expect(partition.replicas, `${topic.name}/${partition.partitionId}`).toHaveLength(3);
      const configs = await admin.topicConfigs(names, ['min.insync.replicas']);
      for (const name of names) expect(configs.get(name)?.['min.insync.replicas'], name).toBe('2');
    });
  });

  it('loses and doubles no acknowledged event when a broker is killed under load and started again', async () => {
    const began = Date.now();
    const note = (what: string) => console.log(`cluster: ${((Date.now() - began) / 1000).toFixed(1)}s ${what}`);
    const load = steadyLoad(trapline, LOAD);
    await sleep(4000);
    const victim = await busiestLeader();
    process.kill(Number(readFileSync(join(victim.dir, 'kafka.pid'), 'utf8').split('\n')[0]), 'SIGKILL');
    note(`node ${victim.id} (leader of the load's partition) killed; ${load.acknowledged.length} acknowledged so far`);
    await sleep(8000);
    const atRestart = load.acknowledged.length;
    await startKafkaCluster(nodes, cache, say);
    note(`node ${victim.id} started again; ${atRestart} acknowledged so far`);
    await sleep(6000);
    const acknowledged = await load.stop();
    const { unacknowledged } = load;
    note(`load stopped: ${acknowledged.length} acknowledged, ${unacknowledged.length} not`);
    expect(acknowledged.length).toBeGreaterThan(100);

    const state = await eventually(async () => {
      const now = await projection(trapline, acknowledged, unacknowledged);
      return now.present === acknowledged.length ? now : undefined;
    }, `the ${acknowledged.length} acknowledged events projected`, 120000).catch(async (error: unknown) => {
      // Tell a lost append (fewer records on the log than acknowledged) from a stuck projector (lag).
      const onLog = (await withClusterAdmin((admin) => admin.fetchTopicOffsets(trapline.topics.events))).reduce((sum, entry) => sum + Number(entry.high), 0);
      const lag = await groupLag(trapline.config, trapline.config.projectorGroup, [trapline.topics.events]);
      throw new Error(`${(error as Error).message}: read model ${JSON.stringify(await projection(trapline, acknowledged, unacknowledged))}, ${onLog} records on ${trapline.topics.events}, projector lag ${lag}`);
    });
    note('every acknowledged event projected');
    // A request that timed out or got a 503 may still have been appended; nothing else may appear.
    expect(state.events, 'events in the read model = acknowledged events + appended unacknowledged ones').toBe(acknowledged.length + state.unacknowledged_present);
    expect(state.distinct_ids).toBe(state.events);
    expect(state.counted, 'sum of issue counts = events').toBe(state.events);
    expect(state.miscounted).toBe(0);
    expect(state.tags_miscounted).toBe(0);
  }, 240000);

  it('gives the rebuild\'s wire reader every partition from its own leader, record for record as librdkafka reads it', async () => {
    const { ranges, leaders } = await withClusterAdmin(async (admin) => {
      const offsets = await admin.fetchTopicOffsets(trapline.topics.events);
      const { topics: [topic] } = await admin.fetchTopicMetadata({ topics: [trapline.topics.events] });
      return { ranges: offsets.map((entry) => ({ partition: entry.partition, from: Number(entry.low), end: Number(entry.high) })), leaders: new Set(topic!.partitions.map((partition) => partition.leader)) };
    });
    expect(leaders.size, 'partitions led by more than one broker').toBeGreaterThan(1);
    const key = (partition: number, offset: string | number, value: Buffer | null) => `${partition}/${offset}/${value?.toString('base64') ?? '-'}`;
    const expected: string[] = [];
    await readRange({
      kafka: createKafka(trapline.config.kafkaBrokers, 'test-read', createLogger('test', 'error')), topic: trapline.topics.events,
      ranges: ranges.map((range) => ({ partition: range.partition, from: BigInt(range.from), end: BigInt(range.end) })),
      onRecord: (partition, message) => {
        expected.push(key(partition, message.offset, message.value));
        return 'continue';
      },
    });
    const read: string[] = [];
    const result = await readRangesByWire({
      brokers: trapline.config.kafkaBrokers, clientId: 'test-wire', topic: trapline.topics.events, ranges,
      onRecords: (partition, records) => void read.push(...records.map((record) => key(partition, record.offset, record.value))),
    });
    expect(result).toEqual({ idle: [], unreadable: [] });
    expect(expected.length).toBeGreaterThan(100);
    expect(read.sort()).toEqual(expected.sort());
  }, 120000);
});
