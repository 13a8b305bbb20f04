import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Codec, TOPIC_SPECS, type DecodeResult, type TopicId } from '@trapline/schemas';
import { isolated, type Isolated } from '../../../test/harness.ts';
import { type ConsumedRecord, decodeRecord, startConsumeLoop } from './consume.ts';
import { Appender, createKafka, type Kafka, partitionFor, settingsOf } from './kafka.ts';
import { createLogger } from './logger.ts';

// The Kafka adapter against the real broker: topics from the one declaration, appends that keep
// a project's records on one partition in order.

let env: Isolated;
let kafka: Kafka;

beforeAll(async () => {
  env = await isolated(); // provisions: database, migrations and every topic
  kafka = createKafka(env.config.kafkaBrokers, 'test', createLogger('test', 'error'));
});

afterAll(async () => {
  await env?.dispose();
});

/** Reads the events topic from the start through the consume loop until `done` says so. */
async function readUntil(groupId: string, codec: Codec, done: (record: ConsumedRecord, decoded: DecodeResult) => boolean): Promise<void> {
  let finish = () => undefined as void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const loop = await startConsumeLoop({
    client: settingsOf(kafka),
    groupId,
    topics: [env.topics.events],
    handle: async (batch) => {
      for (const record of batch.records) if (done(record, decodeRecord(codec, record))) finish();
    },
  });
  await finished;
  await loop.stop();
}

describe('the Kafka adapter', () => {
  it('creates every declared topic with its partitions and configuration', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ids = Object.keys(TOPIC_SPECS) as TopicId[];
      const metadata = await admin.fetchTopicMetadata({ topics: ids.map((id) => env.topics[id]) });
      for (const id of ids) {
        expect(metadata.topics.find((topic) => topic.name === env.topics[id])?.partitions).toHaveLength(TOPIC_SPECS[id].partitions);
      }
      const described = await admin.topicConfigs(ids.map((id) => env.topics[id]));
      for (const id of ids) {
        for (const [name, value] of Object.entries(TOPIC_SPECS[id].configs)) {
          expect(described.get(env.topics[id])?.[name], `${env.topics[id]} ${name}`).toBe(value);
        }
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('creates the events and deletion topics with the partitions the configuration sets', async () => {
    const sized = await isolated({ KAFKA_EVENTS_PARTITIONS: '2', KAFKA_DELETIONS_PARTITIONS: '1' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [sized.topics.events, sized.topics.deletionsRun, sized.topics.admin] });
      expect(Object.fromEntries(topics.map((topic) => [topic.name, topic.partitions.length]))).toEqual({ [sized.topics.events]: 2, [sized.topics.deletionsRun]: 1, [sized.topics.admin]: TOPIC_SPECS.admin.partitions });
    } finally {
      await admin.disconnect();
      await sized.dispose();
    }
  });

  it('appends a project\'s records to its one partition, in order, readable by the codec', async () => {
    const codec = new Codec();
    const appender = await Appender.connect(kafka, codec);
    const eventIds = Array.from({ length: 20 }, (_, n) => n.toString(16).padStart(32, '0'));
    await appender.append(env.topics.events, eventIds.map((eventId) => ({ key: `77/${eventId}`, name: 'EventReceived' as const, value: { projectId: 77, eventId, receivedAt: 1, keyId: 'k', payload: '{}' } })));
    await appender.close();

    const expected = partitionFor('77', TOPIC_SPECS.events.partitions);
    const seen: { partition: number; eventId: string }[] = [];
    await readUntil(`${env.config.KAFKA_TOPIC_PREFIX}.reader`, codec, (record, decoded) => {
      if (decoded.ok && decoded.record.name === 'EventReceived') seen.push({ partition: record.partition, eventId: decoded.record.value.eventId });
      return seen.length === eventIds.length;
    });
    expect(new Set(seen.map((record) => record.partition))).toEqual(new Set([expected]));
    expect(seen.map((record) => record.eventId)).toEqual(eventIds);
  });

  it('tells each append where its records landed, also when appends share one request', async () => {
    const codec = new Codec();
    const appender = await Appender.connect(kafka, codec);
    const record = (projectId: number, n: number) => {
      const eventId = `${projectId.toString(16)}${n.toString(16)}`.padStart(32, '0');
      return { key: `${projectId}/${eventId}`, name: 'EventReceived' as const, value: { projectId, eventId, receivedAt: 1, keyId: 'k', payload: '{}' } };
    };
    // Concurrent appends of several projects: group commit sends them in a few shared requests.
    const appends = Array.from({ length: 12 }, (_, n) => [record(100 + (n % 5), n), record(100 + ((n + 2) % 5), n + 100)]);
    const positions = await Promise.all(appends.map((records) => appender.append(env.topics.events, records)));
    await appender.close();

    const landed = new Map<string, string>();
    const wanted = new Set(appends.flat().map((entry) => entry.value.eventId));
    await readUntil(`${env.config.KAFKA_TOPIC_PREFIX}.positions`, codec, (record, decoded) => {
      if (decoded.ok && decoded.record.name === 'EventReceived' && wanted.has(decoded.record.value.eventId)) landed.set(decoded.record.value.eventId, `${record.partition}:${record.offset}`);
      return landed.size === wanted.size;
    });
    for (const [index, records] of appends.entries()) {
      expect(positions[index]!.map((position) => `${position.partition}:${position.offset}`)).toEqual(records.map((entry) => landed.get(entry.value.eventId)));
      expect(positions[index]!.every((position) => position.topic === env.topics.events)).toBe(true);
    }
  });
});
