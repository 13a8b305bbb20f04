import RdKafkaModule, { type GroupDescription as RdGroupDescription, type GroupResults, type IAdminClient, type KafkaConsumer, type LibrdKafkaError, type Metadata, type TopicDescription } from '@confluentinc/kafka-javascript';
import type { KafkaClientSettings } from './kafka.ts';
import { describeTopicConfigs, setTopicConfigs, type WireSettings } from './topic-configs.ts';

const { RdKafka } = RdKafkaModule;

// Kafka's admin calls, in kafkajs' shapes (what Trapline's callers were written against), on
// librdkafka's AdminClient. What that client lacks: topic configs (its own wire requests,
// topic-configs.ts) and moving a group's offsets (a commit from a consumer outside the group).

export interface TopicOffsets {
  partition: number;
  /** the end offset, as `high` */
  offset: string;
  high: string;
  low: string;
}

export interface PartitionOffset {
  partition: number;
  offset: string;
}

/** A group's committed offsets on one topic; `-1` where it committed none. */
export interface TopicGroupOffsets {
  topic: string;
  partitions: PartitionOffset[];
}

export interface PartitionMetadata {
  partitionId: number;
  /** node id of the leader, -1 while there is none */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface TopicMetadata {
  name: string;
  partitions: PartitionMetadata[];
}

export interface NewTopic {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries?: { name: string; value: string }[];
}

export type GroupState = 'Unknown' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead' | 'Empty';

const GROUP_STATES: GroupState[] = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'];

export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** the partitions the group's assignor gave this member */
  assignment: { topic: string; partition: number }[];
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  members: GroupMember[];
}

export interface GroupOverview {
  groupId: string;
  protocolType: string;
}

export interface ClusterDescription {
  brokers: { nodeId: number; host: string; port: number }[];
}

/** The partitions of `topic` a member holds, as `describeGroups` reports its assignment. */
export function assignedPartitions(member: GroupMember, topic: string): number[] {
  return member.assignment.filter((entry) => entry.topic === topic).map((entry) => entry.partition);
}

const ERRORS = RdKafka.CODES.ERRORS;

function callback<T>(resolve: (value: T) => void, reject: (error: unknown) => void) {
  return (error: LibrdKafkaError | null | undefined, value: T) => (error ? reject(error) : resolve(value));
}

/** Also a `Client`: librdkafka's AdminClient inherits `getMetadata` (its types leave it out). */
type RdAdmin = IAdminClient & { getMetadata(options: { timeout: number }, cb: (error: LibrdKafkaError | null, metadata: Metadata) => void): void };

/**
 * One admin connection. Made by `kafka.admin()`; `connect()` before use, `disconnect()` after,
 * as with kafkajs. Every call waits at most the client's `requestTimeoutMs` (5 s by default).
 */
export class Admin {
  private client: RdAdmin | undefined;

  constructor(private readonly settings: KafkaClientSettings) {}

  private get timeout(): number {
    return this.settings.requestTimeoutMs ?? 5000;
  }

  private get rd(): RdAdmin {
    if (!this.client) throw new Error('the admin client is not connected');
    return this.client;
  }

  private get wire(): WireSettings {
    return { brokers: this.settings.brokers, clientId: this.settings.clientId, timeoutMs: this.timeout };
  }

  async connect(): Promise<void> {
    if (this.client) return;
    const logger = this.settings.logger.child({ component: 'librdkafka' });
    this.client = RdKafka.AdminClient.create(
      { 'bootstrap.servers': this.settings.brokers.join(','), 'client.id': this.settings.clientId },
      this.settings.silent ? {} : { 'event.error': (error: LibrdKafkaError) => logger.warn({ code: error.code }, error.message) },
    ) as RdAdmin;
  }

  async disconnect(): Promise<void> {
    this.client?.disconnect();
    this.client = undefined;
  }

  listTopics(): Promise<string[]> {
    return new Promise((resolve, reject) => this.rd.listTopics({ timeout: this.timeout }, callback(resolve, reject)));
  }

  /** Creates each topic and resolves once every partition of each has a leader (an append can go there). */
  async createTopics({ topics }: { topics: NewTopic[] }): Promise<void> {
    await Promise.all(topics.map((topic) => new Promise<void>((resolve, reject) => {
      const config = Object.fromEntries((topic.configEntries ?? []).map(({ name, value }) => [name, value]));
      this.rd.createTopic({ topic: topic.topic, num_partitions: topic.numPartitions, replication_factor: topic.replicationFactor, config }, this.timeout, (error) => {
        if (error && error.code !== ERRORS.ERR_TOPIC_ALREADY_EXISTS) reject(error);
        else resolve();
      });
    })));
    await this.untilLed(topics.map(({ topic }) => topic), 30000);
  }

  /** The broker asked may learn of new topics and their leaders a moment after the controller. */
  private async untilLed(topics: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const led = await this.fetchTopicMetadata({ topics }).then(
        (metadata) => metadata.topics.length === topics.length && metadata.topics.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0)),
        (error: unknown) => {
          if (Date.now() > deadline) throw error;
          return false;
        },
      );
      if (led) return;
      if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async deleteTopics({ topics }: { topics: string[] }): Promise<void> {
    await Promise.all(topics.map((topic) => new Promise<void>((resolve, reject) => this.rd.deleteTopic(topic, this.timeout, (error) => (error ? reject(error) : resolve())))));
  }

  private describeTopics(topics: string[]): Promise<TopicDescription[]> {
    return new Promise((resolve, reject) => this.rd.describeTopics(topics, { timeout: this.timeout }, callback(resolve, reject)));
  }

  /** Rejects when a topic does not exist. */
  async fetchTopicMetadata({ topics }: { topics: string[] }): Promise<{ topics: TopicMetadata[] }> {
    const described = await this.describeTopics(topics);
    const failed = described.find((topic) => topic.error);
    if (failed) throw failed.error;
    return {
      topics: described.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partitionId: partition.partition,
          leader: partition.leader?.id ?? -1,
          replicas: partition.replicas.map((node) => node.id),
          isr: partition.isr.map((node) => node.id),
        })),
      })),
    };
  }

  private async partitionsOf(topic: string): Promise<number[]> {
    const { topics: [described] } = await this.fetchTopicMetadata({ topics: [topic] });
    return (described?.partitions ?? []).map((partition) => partition.partitionId).sort((a, b) => a - b);
  }

  private listOffsets(topic: string, partitions: number[], spec: InstanceType<typeof RdKafka.OffsetSpec>): Promise<Map<number, number>> {
    return new Promise((resolve, reject) => {
      this.rd.listOffsets(partitions.map((partition) => ({ topic, partition, offset: spec })), { timeout: this.timeout }, (error, results) => {
        const failed = results?.find((result) => result.error);
        if (error || failed) reject(error ?? failed!.error);
        else resolve(new Map(results.map((result) => [result.partition, result.offset])));
      });
    });
  }

  /** Each partition's log start (`low`) and end (`high`). */
  async fetchTopicOffsets(topic: string): Promise<TopicOffsets[]> {
    const partitions = await this.partitionsOf(topic);
    const [ends, starts] = await Promise.all([this.listOffsets(topic, partitions, RdKafka.OffsetSpec.LATEST), this.listOffsets(topic, partitions, RdKafka.OffsetSpec.EARLIEST)]);
    return partitions.map((partition) => {
      const high = String(ends.get(partition));
      return { partition, offset: high, high, low: String(starts.get(partition)) };
    });
  }

  /** Each partition's first offset at or after `timestamp` (ms), or its end when none is. */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    const partitions = await this.partitionsOf(topic);
    const [at, ends] = await Promise.all([this.listOffsets(topic, partitions, new RdKafka.OffsetSpec(timestamp)), this.listOffsets(topic, partitions, RdKafka.OffsetSpec.LATEST)]);
    return partitions.map((partition) => {
      const offset = at.get(partition) ?? -1;
      return { partition, offset: String(offset < 0 ? ends.get(partition) : offset) };
    });
  }

  /**
   * A group's committed offsets: of every partition of `topics` (`-1` where none), or without
   * `topics` of every partition it committed on.
   */
  async fetchOffsets({ groupId, topics }: { groupId: string; topics?: string[] }): Promise<TopicGroupOffsets[]> {
    const partitions = topics ? (await Promise.all(topics.map(async (topic) => (await this.partitionsOf(topic)).map((partition) => ({ topic, partition }))))).flat() : undefined;
    const [result] = await new Promise<GroupResults[]>((resolve, reject) => {
      this.rd.listConsumerGroupOffsets([{ groupId, ...(partitions ? { partitions } : {}) }], { timeout: this.timeout }, callback(resolve, reject));
    });
    if (result?.error) throw result.error;
    const byTopic = new Map<string, PartitionOffset[]>((topics ?? []).map((topic) => [topic, []]));
    for (const { topic, partition, offset } of result?.partitions ?? []) {
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      // librdkafka says -1001 (no offset) where kafkajs, and Kafka's own tools, say -1.
      byTopic.get(topic)!.push({ partition, offset: String(offset >= 0 ? offset : -1) });
    }
    return [...byTopic].map(([topic, offsets]) => ({ topic, partitions: offsets.sort((a, b) => a.partition - b.partition) }));
  }

  listGroups(): Promise<{ groups: GroupOverview[] }> {
    return new Promise((resolve, reject) => this.rd.listGroups({ timeout: this.timeout }, (error, result) => {
      if (error) reject(error);
      else resolve({ groups: result.groups.map(({ groupId, protocolType }) => ({ groupId, protocolType })) });
    }));
  }

  /** A group that does not exist is described as `Dead` without members, as Kafka before 4.0 did. */
  describeGroups(groupIds: string[]): Promise<{ groups: GroupDescription[] }> {
    return new Promise((resolve, reject) => this.rd.describeGroups(groupIds, { timeout: this.timeout }, (error, result) => {
      try {
        if (error) throw error;
        resolve({ groups: result.groups.map(describedGroup) });
      } catch (failure) {
        reject(failure);
      }
    }));
  }

  /** Rejects when one of the groups could not be deleted (it has members, or does not exist). */
  deleteGroups(groupIds: string[]): Promise<void> {
    return new Promise((resolve, reject) => this.rd.deleteGroups(groupIds, { timeout: this.timeout }, (error, reports) => {
      const failed = reports?.find((report) => report.error);
      if (error || failed) reject(error ?? failed!.error);
      else resolve();
    }));
  }

  /** The brokers the cluster's metadata lists (a node counts once the controller registered it). */
  describeCluster(): Promise<ClusterDescription> {
    return new Promise((resolve, reject) => this.rd.getMetadata({ timeout: this.timeout }, (error, metadata) => {
      if (error) reject(error);
      else resolve({ brokers: metadata.brokers.map(({ id, host, port }) => ({ nodeId: id, host, port })) });
    }));
  }

  /** Each topic's configs as the broker has them (set or default): only `names` when given. */
  topicConfigs(topics: string[], names?: string[]): Promise<Map<string, Record<string, string>>> {
    return describeTopicConfigs(this.wire, topics, names);
  }

  /** Sets `configs` on `topic`; its other configs stay as they are. */
  setTopicConfigs(topic: string, configs: Record<string, string>): Promise<void> {
    return setTopicConfigs(this.wire, topic, configs);
  }

  /**
   * Moves a group's committed offsets on `topic`. Kafka takes a commit from outside the group only
   * while the group has no members (a live group's offsets are its members' to commit): with
   * members this rejects, as kafkajs' `setOffsets` did. librdkafka's AlterConsumerGroupOffsets is
   * not bound, so a consumer with the group's id that never joins commits the offsets.
   */
  async setOffsets({ groupId, topic, partitions }: { groupId: string; topic: string; partitions: PartitionOffset[] }): Promise<void> {
    if (partitions.length === 0) return;
    const consumer = await this.outsideConsumer(groupId);
    try {
      consumer.commitSync(partitions.map(({ partition, offset }) => ({ topic, partition, offset: Number(offset) })));
    } finally {
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    }
  }

  /** Every partition of `topic` to its start (`earliest`) or end. */
  async resetOffsets({ groupId, topic, earliest = false }: { groupId: string; topic: string; earliest?: boolean }): Promise<void> {
    const offsets = await this.fetchTopicOffsets(topic);
    await this.setOffsets({ groupId, topic, partitions: offsets.map(({ partition, low, high }) => ({ partition, offset: earliest ? low : high })) });
  }

  private outsideConsumer(groupId: string): Promise<KafkaConsumer> {
    const consumer = new RdKafka.KafkaConsumer({
      'bootstrap.servers': this.settings.brokers.join(','),
      'client.id': this.settings.clientId,
      'group.id': groupId,
      'enable.auto.commit': false,
    }, {});
    return new Promise((resolve, reject) => consumer.connect({ timeout: this.timeout }, (error) => (error ? reject(error) : resolve(consumer))));
  }
}

function describedGroup(group: RdGroupDescription): GroupDescription {
  if (group.error?.code === ERRORS.ERR_GROUP_ID_NOT_FOUND) return { groupId: group.groupId, state: 'Dead', members: [] };
  if (group.error) throw group.error;
  return {
    groupId: group.groupId,
    state: GROUP_STATES[group.state] ?? 'Unknown',
    members: group.members.map((member) => ({
      memberId: member.memberId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      assignment: (member.assignment?.topicPartitions ?? []).map(({ topic, partition }) => ({ topic, partition })),
    })),
  };
}
