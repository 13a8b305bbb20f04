import { createHash } from 'node:crypto';
import { Kafka, logLevel, type Admin, type ICustomPartitioner, type IHeaders, type KafkaMessage, type Producer, type RecordMetadata } from 'kafkajs';
import { TOPIC_SPECS, type Codec, type RecordName, type RecordTypes, type TopicId, type TopicNames } from '@trapline/schemas';
import type { Logger } from './logger.ts';

const LEVEL_NAMES: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(brokers: string[], clientId: string, logger: Logger): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator: () => ({ level, log }) => {
      const { message, ...extra } = log;
      kafkaLogger[LEVEL_NAMES[level] ?? 'info'](extra, message);
    },
  });
}

/**
 * Record keys are `partitionKey/rest` (e.g. `42/<event_id>`); the part before the first slash picks
 * the partition, so all records of one project share a partition and stay totally ordered.
 */
export function partitionFor(key: string, partitionCount: number): number {
  const slash = key.indexOf('/');
  return partitionKeyHash(slash === -1 ? key : key.slice(0, slash)) % partitionCount;
}

// A SHA-256 per record showed in ingest's profile; there are few partition keys (projects).
const partitionKeyHashes = new Map<string, number>();

function partitionKeyHash(partitionKey: string): number {
  let hash = partitionKeyHashes.get(partitionKey);
  if (hash === undefined) {
    if (partitionKeyHashes.size >= 10000) partitionKeyHashes.clear();
    hash = createHash('sha256').update(partitionKey).digest().readUInt32BE(0);
    partitionKeyHashes.set(partitionKey, hash);
  }
  return hash;
}

export const projectPartitioner: ICustomPartitioner = () => ({ partitionMetadata, message }) => {
  const key = message.key?.toString() ?? '';
  return partitionFor(key, partitionMetadata.length);
};

export interface OutgoingRecord<N extends RecordName = RecordName> {
  key: string;
  name: N;
  value: RecordTypes[N];
}

/** A record with a null value: erases `key` from a compacted topic. */
export interface Tombstone {
  key: string;
  tombstone: true;
}

/** Kafka could not take an append now: the caller should answer "retry later", not fail. */
export class AppendUnavailable extends Error {}

type Message = { key: string; value: Buffer | null; headers?: Record<string, string> };

function encodeRecords(codec: Codec, records: (OutgoingRecord | Tombstone)[]): Message[] {
  return records.map((record) => {
    if ('tombstone' in record) return { key: record.key, value: null };
    const encoded = codec.encode(record.name, record.value as never);
    return { key: record.key, value: encoded.value, headers: encoded.headers };
  });
}

/** Where an appended record landed: its partition and offset. */
export interface AppendedPosition {
  topic: string;
  partition: number;
  offset: number;
}

interface PendingAppend {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: (positions: AppendedPosition[]) => void;
  reject: (error: unknown) => void;
}

/** Below the broker's default message.max.bytes (1 MiB), which bounds one partition's batch. */
const MAX_BATCH_BYTES = 900 * 1024;

/**
 * One producer of an Appender and the send it has in flight (at most one: kafkajs allows no more
 * with idempotence).
 */
interface Lane {
  producer: Producer;
  sending: boolean;
  /** Set after a failed send: the next send starts on a new producer. */
  stale: boolean;
}

/**
 * Appends records with acks=all and idempotent producers; resolves only once the broker acked.
 * Group commit: while a produce request is in flight, appends queue up and the next request
 * carries them all (up to MAX_BATCH_BYTES), so throughput grows with load and an idle append pays
 * no linger. With one lane (the default) requests are sequential, so each partition keeps the
 * order of the appends; with `lanes` producers, that many requests are in flight at once (an append
 * waits for no other's ack, at the cost of order between appends that did not wait for each other:
 * one that starts after another resolved still lands after it).
 */
export class Appender {
  private pending: PendingAppend[] = [];

  private constructor(
    private readonly kafka: Kafka,
    private readonly lanes: Lane[],
    private readonly codec: Codec,
  ) {}

  /** The partition the partitioner chose for each message sent: with the batch's base offsets, each record's offset. */
  private readonly partitionOf = new WeakMap<object, number>();

  private static newProducer(kafka: Kafka, partitionOf: WeakMap<object, number>): Producer {
    const createPartitioner: ICustomPartitioner = () => {
      const choose = projectPartitioner();
      return (args) => {
        const partition = choose(args);
        partitionOf.set(args.message, partition);
        return partition;
      };
    };
    return kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner, allowAutoTopicCreation: false });
  }

  static async connect(kafka: Kafka, codec: Codec, options: { lanes?: number } = {}): Promise<Appender> {
    const appender = new Appender(kafka, [], codec);
    const producers = Array.from({ length: options.lanes ?? 1 }, () => Appender.newProducer(kafka, appender.partitionOf));
    await Promise.all(producers.map((producer) => producer.connect()));
    appender.lanes.push(...producers.map((producer) => ({ producer, sending: false, stale: false })));
    return appender;
  }

  /**
   * After a failed send the broker may have written the batch anyway (the connection broke after
   * the write). kafkajs then rolls the partition's sequence number back, and its next batch (other
   * records) would be taken by the broker for a duplicate of the written one and acknowledged
   * without being stored: an acknowledged event lost. A new producer gets a new producer id, so no
   * sequence number is ever reused (kafkajs has no epoch bump, KIP-360).
   */
  private async ensureFresh(lane: Lane): Promise<void> {
    if (!lane.stale) return;
    const old = lane.producer;
    lane.producer = Appender.newProducer(this.kafka, this.partitionOf);
    lane.stale = false;
    await old.disconnect().catch(() => undefined);
    try {
      await lane.producer.connect();
    } catch (error) {
      lane.stale = true;
      throw error;
    }
  }

  /** Resolves with where each record landed, in the order given (what `awaitProjected` waits for). */
  append(topic: string, records: (OutgoingRecord | Tombstone)[]): Promise<AppendedPosition[]> {
    if (records.length === 0) return Promise.resolve([]);
    const messages = encodeRecords(this.codec, records);
    const bytes = messages.reduce((sum, message) => sum + message.key.length + (message.value?.length ?? 0), 0);
    return new Promise((resolve, reject) => {
      this.pending.push({ topic, messages, bytes, resolve, reject });
      this.sendPending();
    });
  }

  private sendPending(): void {
    const lane = this.lanes.find((candidate) => !candidate.sending);
    if (!lane || this.pending.length === 0) return;
    lane.sending = true;
    let bytes = 0;
    let count = 0;
    while (count < this.pending.length && (count === 0 || bytes + this.pending[count]!.bytes <= MAX_BATCH_BYTES)) bytes += this.pending[count++]!.bytes;
    const batch = this.pending.splice(0, count);
    const byTopic = new Map<string, Message[]>();
    for (const entry of batch) {
      const messages = byTopic.get(entry.topic) ?? [];
      for (const message of entry.messages) messages.push(message);
      byTopic.set(entry.topic, messages);
    }
    this.ensureFresh(lane)
      .then(() => lane.producer.sendBatch({ acks: -1, topicMessages: [...byTopic.entries()].map(([topic, messages]) => ({ topic, messages })) }))
      .then(
        (written) => {
          const positions = this.positionsOf(byTopic, written);
          batch.forEach((entry) => entry.resolve(entry.messages.map((message) => positions.get(message)!)));
        },
        (error: unknown) => {
          lane.stale = true;
          batch.forEach((entry) => entry.reject(error));
        },
      )
      .finally(() => {
        lane.sending = false;
        this.sendPending();
      });
  }

  /**
   * A partition's records of one request get consecutive offsets from its base offset, in the
   * order they were given (kafkajs groups them by partition, keeping their order).
   */
  private positionsOf(byTopic: Map<string, Message[]>, written: RecordMetadata[]): Map<Message, AppendedPosition> {
    const positions = new Map<Message, AppendedPosition>();
    for (const [topic, messages] of byTopic) {
      const next = new Map(written.filter((meta) => meta.topicName === topic).map((meta) => [meta.partition, Number(meta.baseOffset)]));
      for (const message of messages) {
        const partition = this.partitionOf.get(message)!;
        const offset = next.get(partition)!;
        next.set(partition, offset + 1);
        positions.set(message, { topic, partition, offset });
      }
    }
    return positions;
  }

  /**
   * `append`, but gives up waiting after `timeoutMs` with an AppendUnavailable. The send may still
   * complete later: callers answer "retry", and a retried record is absorbed by dedupe and the
   * idempotent projection.
   */
  async appendWithin(timeoutMs: number, topic: string, records: (OutgoingRecord | Tombstone)[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new AppendUnavailable(`Kafka did not acknowledge within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.append(topic, records), timeout]);
    } catch (error) {
      throw error instanceof AppendUnavailable ? error : new AppendUnavailable(`Kafka refused the append: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Raw append for dead letters: the original bytes plus headers naming the reason. */
  async appendRaw(topic: string, messages: { key: Buffer | string | null; value: Buffer | null; headers: IHeaders }[]): Promise<void> {
    if (messages.length === 0) return;
    const lane = this.lanes[0]!;
    await this.ensureFresh(lane);
    try {
      await lane.producer.send({ topic, acks: -1, messages });
    } catch (error) {
      lane.stale = true;
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.producer.disconnect()));
  }
}

/** Records for one topic, plus raw dead letters (original bytes and headers), appended in one transaction. */
export interface TransactionalAppend {
  topic: string;
  records?: (OutgoingRecord | Tombstone)[];
  raw?: { key: Buffer | string | null; value: Buffer | null; headers: IHeaders }[];
}

/** The consumed position a transaction commits for a consumer group: the next offset to read. */
export interface ConsumedPosition {
  groupId: string;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Consume-transform-produce, exactly once: what a step appends and the input offset it consumed
 * commit together in one Kafka transaction, or not at all. A stable transactional id per instance
 * fences a predecessor that died mid-transaction as soon as the instance restarts, so consumers
 * reading committed records are not held up by its open transaction.
 */
export class TransactionalAppender {
  private constructor(
    private readonly producer: Producer,
    private readonly codec: Codec,
  ) {}

  static async connect(kafka: Kafka, codec: Codec, transactionalId: string): Promise<TransactionalAppender> {
    const producer = kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30000,
      createPartitioner: projectPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    return new TransactionalAppender(producer, codec);
  }

  async commit(appends: TransactionalAppend[], consumed: ConsumedPosition): Promise<void> {
    const topicMessages = appends
      .map(({ topic, records = [], raw = [] }) => ({ topic, messages: [...encodeRecords(this.codec, records), ...raw] }))
      .filter((entry) => entry.messages.length > 0);
    const transaction = await this.producer.transaction();
    try {
      if (topicMessages.length > 0) await transaction.sendBatch({ acks: -1, topicMessages });
      await transaction.sendOffsets({ consumerGroupId: consumed.groupId, topics: [{ topic: consumed.topic, partitions: [{ partition: consumed.partition, offset: consumed.offset }] }] });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

export const DLQ_HEADERS = {
  reason: 'trapline-dlq-reason',
  topic: 'trapline-dlq-topic',
  partition: 'trapline-dlq-partition',
  offset: 'trapline-dlq-offset',
} as const;

/** The dead-letter form of a consumed message: original key, value and headers plus where it came from and why. */
export function deadLetter(message: KafkaMessage, origin: { topic: string; partition: number }, reason: string) {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.topic]: origin.topic,
      [DLQ_HEADERS.partition]: String(origin.partition),
      [DLQ_HEADERS.offset]: message.offset,
    } as IHeaders,
  };
}

/** Creates missing topics from the one declaration in @trapline/schemas; leaves existing ones alone. */
/**
 * Creates the declared topics that do not exist yet. `partitions` overrides a declared count for a
 * topic created now; an existing topic keeps its count (more partitions would move projects to
 * other partitions and split their histories).
 */
export async function ensureTopics(admin: Admin, names: TopicNames, replicationFactor = 1, partitions: Partial<Record<TopicId, number>> = {}): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = (Object.keys(TOPIC_SPECS) as TopicId[]).filter((id) => !existing.has(names[id]));
  if (missing.length === 0) return [];
  const created = missing.map((id) => names[id]);
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((id) => {
      const spec = TOPIC_SPECS[id];
      return {
        topic: names[id],
        numPartitions: partitions[id] ?? spec.partitions,
        replicationFactor,
        // Replicated, an acks=all append needs two replicas in sync: one broker may be down, never two.
        configEntries: Object.entries({ ...spec.configs, ...(replicationFactor > 1 ? { 'min.insync.replicas': '2' } : {}) }).map(([name, value]) => ({ name, value })),
      };
    }),
  }).catch(async (error: unknown) => {
    // In a cluster, the broker asked for the new leaders may not know the topics yet.
    if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
    await untilTopicsKnown(admin, created, 30000);
  });
  return created;
}

async function untilTopicsKnown(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await admin.fetchTopicMetadata({ topics });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
