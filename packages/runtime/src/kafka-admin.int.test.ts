import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import RdKafkaModule, { type KafkaConsumer } from '@confluentinc/kafka-javascript';
import { Codec, TOPIC_SPECS } from '@trapline/schemas';
import { eventually, isolated, type Isolated } from '../../../test/harness.ts';
import { type Admin, assignedPartitions } from './kafka-admin.ts';
import { Appender, createKafka, type Kafka } from './kafka.ts';
import { createLogger } from './logger.ts';

// The admin calls on librdkafka, against the real broker: the ones its AdminClient has, and the
// ones the runtime adds (topic configs over the wire, offsets moved by a consumer outside the group).

const { RdKafka } = RdKafkaModule;

let env: Isolated;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  env = await isolated();
  kafka = createKafka(env.config.kafkaBrokers, 'test-admin', createLogger('test', 'error'));
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await env?.dispose();
});

/** A member of `groupId` subscribed to `topic`, once its assignment arrived. */
async function member(groupId: string, topic: string): Promise<KafkaConsumer> {
  const consumer = new RdKafka.KafkaConsumer({ 'bootstrap.servers': env.config.kafkaBrokers.join(','), 'group.id': groupId, 'enable.auto.commit': false }, { 'auto.offset.reset': 'earliest' });
  await new Promise<void>((resolve, reject) => consumer.connect({}, (error) => (error ? reject(error) : resolve())));
  consumer.subscribe([topic]);
  consumer.consume();
  await eventually(async () => (consumer.assignments().length > 0 ? true : undefined), 'an assignment', 30000);
  return consumer;
}

describe('the admin adapter on librdkafka', () => {
  it('lists the brokers and reads and sets topic configs, leaving the others as they are', async () => {
    expect((await admin.describeCluster()).brokers.map(({ host, port }) => `${host}:${port}`)).toEqual(env.config.kafkaBrokers);
    const topic = env.topics.events;
    expect((await admin.topicConfigs([topic], ['cleanup.policy'])).get(topic)).toEqual({ 'cleanup.policy': TOPIC_SPECS.events.configs['cleanup.policy'] });
    await admin.setTopicConfigs(topic, { 'segment.ms': '600000' });
    // The controller takes the change; the broker answering may learn of it a moment later.
    const configs = await eventually(async () => {
      const described = (await admin.topicConfigs([topic])).get(topic)!;
      return described['segment.ms'] === '600000' ? described : undefined;
    }, 'the new segment.ms', 10000);
    expect(configs['cleanup.policy']).toBe(TOPIC_SPECS.events.configs['cleanup.policy']);
    await expect(admin.topicConfigs([`${env.config.KAFKA_TOPIC_PREFIX}.missing`])).rejects.toThrow(/no such topic/);
  });

  it('moves the offsets of a group without members, and reads them back', async () => {
    const topic = env.topics.admin;
    const groupId = `${env.config.KAFKA_TOPIC_PREFIX}.moved`;
    const partitions = TOPIC_SPECS.admin.partitions;
    const appender = await Appender.connect(kafka, new Codec());
    try {
      for (let index = 0; index < 3 * partitions; index += 1) await appender.append(topic, [{ key: `${index}/k`, tombstone: true }]);
    } finally {
      await appender.close();
    }
    const none = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(none).toEqual([{ topic, partitions: Array.from({ length: partitions }, (_, partition) => ({ partition, offset: '-1' })) }]);
    expect((await admin.describeGroups([groupId])).groups).toEqual([{ groupId, state: 'Dead', members: [] }]);

    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] });
    expect((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]).toEqual({ partition: 0, offset: '1' });
    await admin.resetOffsets({ groupId, topic });
    expect((await admin.fetchOffsets({ groupId }))).toEqual([{ topic, partitions: ends.map(({ partition, high }) => ({ partition, offset: high })) }]);
    await admin.resetOffsets({ groupId, topic, earliest: true });
    expect((await admin.fetchOffsets({ groupId }))[0]!.partitions.map(({ offset }) => offset)).toEqual(ends.map(({ low }) => low));
    expect((await admin.listGroups()).groups.map((group) => group.groupId)).toContain(groupId);
    await admin.deleteGroups([groupId]);
    expect((await admin.listGroups()).groups.map((group) => group.groupId)).not.toContain(groupId);
  });

  it('describes a live group with what each member was assigned, and refuses to move its offsets', async () => {
    const topic = env.topics.events;
    const groupId = `${env.config.KAFKA_TOPIC_PREFIX}.live`;
    const consumer = await member(groupId, topic);
    try {
      const { groups: [group] } = await eventually(async () => {
        const described = await admin.describeGroups([groupId]);
        return described.groups[0]?.state === 'Stable' ? described : undefined;
      }, 'a stable group');
      expect(group!.members).toHaveLength(1);
      const all = (await admin.fetchTopicOffsets(topic)).map(({ partition }) => partition);
      expect(assignedPartitions(group!.members[0]!, topic).sort((a, b) => a - b)).toEqual(all);
      expect(assignedPartitions(group!.members[0]!, 'another-topic')).toEqual([]);
      await expect(admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }] })).rejects.toThrow();
    } finally {
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    }
  });

  it('finds the first offset at or after a time, and the end when nothing is that late', async () => {
    const topic = env.topics.alertsRun;
    const appender = await Appender.connect(kafka, new Codec());
    const before = Date.now() - 1;
    try {
      await appender.append(topic, [{ key: '7/a', tombstone: true }, { key: '7/b', tombstone: true }]);
    } finally {
      await appender.close();
    }
    const ends = await admin.fetchTopicOffsets(topic);
    const busy = ends.find(({ high }) => high !== '0')!;
    const at = await admin.fetchTopicOffsetsByTimestamp(topic, before);
    expect(at.find(({ partition }) => partition === busy.partition)?.offset).toBe('0');
    const later = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() + 60000);
    expect(later).toEqual(ends.map(({ partition, high }) => ({ partition, offset: high })));
  });
});
