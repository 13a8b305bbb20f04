import { createHash } from 'node:crypto';
import RdKafkaModule, { type DeliveryReport, type KafkaConsumer as RdConsumer, type LibrdKafkaError, type Producer as RdProducer } from '@confluentinc/kafka-javascript';
import { partitionKeyOf, TOPIC_SPECS, type Codec, type Headers, type RecordName, type RecordTypes, type TopicId, type TopicNames } from '@trapline/schemas';
import { Admin } from './kafka-admin.ts';
import type { Logger } from './logger.ts';

// librdkafka's bindings (CommonJS): its clients, not its KafkaJS-shaped layer, which reports one offset per partition and batch.
const { RdKafka } = RdKafkaModule;

export { Admin, assignedPartitions, type GroupDescription, type GroupMember, type TopicOffsets } from './kafka-admin.ts';

/** A record as a log reader hands it over: bytes, headers, its offset and timestamp (ms, as text). */
export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Headers;
  offset: string;
  timestamp: string;
}

/** For a client that must give up at once (a test's clean-up of a broker that may be gone). */
export interface KafkaClientOptions {
  connectionTimeoutMs?: number;
  retries?: number;
  /** Logs nothing at all. */
  silent?: boolean;
}

/** How a client reaches the brokers: what every librdkafka client of the runtime is built from. */
export interface KafkaClientSettings {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** How long an admin request may take (5 s unless a caller must give up sooner). */
  requestTimeoutMs?: number;
  silent?: boolean;
  retries?: number;
}

/**
 * The brokers and the client's name: what the runtime's Kafka clients (`Appender`,
 * `kafka.admin()`, the consume loop, `readRange`) are made from. Connects nothing by itself.
 */
export class Kafka {
  constructor(readonly settings: KafkaClientSettings) {}

  admin(): Admin {
    return new Admin(this.settings);
  }
}

/** One admin connection for `work`, closed after it. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

export function createKafka(brokers: string[], clientId: string, logger: Logger, options: KafkaClientOptions = {}): Kafka {
  return new Kafka({
    brokers,
    clientId,
    logger,
    ...(options.connectionTimeoutMs === undefined ? {} : { requestTimeoutMs: options.connectionTimeoutMs }),
    ...(options.silent ? { silent: true } : {}),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
  });
}

/**
 * Record keys are `partitionKey/rest` (e.g. `42/<event_id>`); the part before the first slash picks
 * the partition, so all records of one project share a partition and stay totally ordered.
 */
export function partitionFor(key: string, partitionCount: number): number {
  return partitionKeyHash(partitionKeyOf(key)) % partitionCount;
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

/** A record as bytes: a dead letter's original key, value and headers. */
export type RawMessage = { key: Buffer | string | null; value: Buffer | null; headers?: Headers };

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

/** How a client made by `createKafka` reaches the brokers. */
export function settingsOf(kafka: Kafka): KafkaClientSettings {
  return kafka.settings;
}

type RdHeaders = { [key: string]: Buffer | string }[];

function rdHeaders(headers: Headers | undefined): RdHeaders | undefined {
  if (!headers) return undefined;
  const list: RdHeaders = [];
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) list.push({ [key]: one });
  }
  return list;
}

/** What each produced message carries to its delivery report: the append it belongs to and its place in it. */
interface Delivery {
  append: PendingAppend;
  index: number;
}

interface PendingAppend {
  topic: string;
  positions: AppendedPosition[];
  remaining: number;
  failed: boolean;
  resolve: (positions: AppendedPosition[]) => void;
  reject: (error: unknown) => void;
}

export interface AppenderOptions {
  /**
   * How long librdkafka waits for more records before it sends a batch (1 ms unless given). More
   * costs an idle append that much latency and saves its threads and the event loop wake-ups per
   * record: ingest's CPU per event (bench/results/2026-12-02-ingest-5.md).
   */
  lingerMs?: number;
}

/**
 * librdkafka's producer: idempotent with acks=all (the broker has the record on every in-sync
 * replica before it is acknowledged), batching in its own threads. Delivery reports arrive on the
 * event loop from librdkafka's background poll, one per record, with the offset it landed at.
 */
function newRdProducer(settings: KafkaClientSettings, options: AppenderOptions): Promise<RdProducer> {
  const producer = new RdKafka.Producer({
    'bootstrap.servers': settings.brokers.join(','),
    'client.id': settings.clientId,
    'enable.idempotence': true,
    acks: -1,
    // An idle append goes out at once; under load librdkafka batches what queued meanwhile.
    'linger.ms': options.lingerMs ?? 1,
    'socket.nagle.disable': true,
    // A record not acknowledged in a minute is failed back to its append (librdkafka retries until then).
    'message.timeout.ms': 60000,
    dr_cb: true,
    // Benchmarks only (bench/ack-latency.ts, compare-ingest's --this-env): librdkafka settings, as JSON, over these.
    ...(process.env.EXPERIMENT_PRODUCER_CONFIG ? (JSON.parse(process.env.EXPERIMENT_PRODUCER_CONFIG) as Record<string, unknown>) : {}),
  });
  const logger = settings.logger.child({ component: 'librdkafka' });
  return new Promise((resolve, reject) => {
    producer.once('ready', () => {
      producer.setPollInBackground(true);
      resolve(producer);
    });
    producer.on('event.error', (error) => logger.warn({ code: error.code }, error.message));
    producer.connect({ timeout: 30000 }, (error) => {
      if (error) reject(error);
    });
  });
}

/** A topic's partition count, asked once per producer (a topic's count never changes). */
function partitionCount(producer: RdProducer, counts: Map<string, Promise<number>>, topic: string): Promise<number> {
  let count = counts.get(topic);
  if (!count) {
    count = new Promise<number>((resolve, reject) => {
      producer.getMetadata({ topic, timeout: 10000 }, (error, metadata) => {
        const partitions = metadata?.topics.find((entry) => entry.name === topic)?.partitions.length ?? 0;
        if (error || partitions === 0) reject(error ?? new Error(`topic ${topic} does not exist`));
        else resolve(partitions);
      });
    });
    counts.set(topic, count);
    count.catch(() => counts.delete(topic));
  }
  return count;
}

/**
 * Appends records with acks=all and an idempotent librdkafka producer; resolves only once the
 * broker acknowledged every record, with where each landed. librdkafka keeps each partition's
 * order across retries (idempotence: sequence numbers and, after a broken delivery, an epoch bump,
 * KIP-360), so appends land in the order they were made. Partitions are chosen here, by
 * `partitionFor`, from the topic's partition count (read once: a topic's count never changes).
 */
export class Appender {
  private readonly partitionCounts = new Map<string, Promise<number>>();
  private closed = false;

  private constructor(private readonly producer: RdProducer, private readonly codec: Codec) {
    producer.on('delivery-report', (error, report) => this.delivered(error, report));
  }

  static async connect(kafka: Kafka, codec: Codec, options: AppenderOptions = {}): Promise<Appender> {
    return new Appender(await newRdProducer(settingsOf(kafka), options), codec);
  }

  private delivered(error: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    const { append, index } = report.opaque as Delivery;
    if (append.failed) return;
    if (error) {
      append.failed = true;
      append.reject(new Error(`Kafka did not take the record: ${error.message}`, { cause: error }));
      return;
    }
    append.positions[index] = { topic: append.topic, partition: report.partition, offset: Number(report.offset) };
    if (--append.remaining === 0) append.resolve(append.positions);
  }

  private partitionCount(topic: string): Promise<number> {
    return partitionCount(this.producer, this.partitionCounts, topic);
  }

  /** Produces each message to its project's partition; resolves once all are acknowledged, rejects on the first failure. */
  private async produce(topic: string, messages: RawMessage[]): Promise<AppendedPosition[]> {
    if (this.closed) throw new Error('the appender is closed');
    const partitions = await this.partitionCount(topic);
    return new Promise((resolve, reject) => {
      const append: PendingAppend = { topic, positions: new Array(messages.length), remaining: messages.length, failed: false, resolve, reject };
      for (const [index, message] of messages.entries()) {
        try {
          // A keyless record goes where the empty key would, as the kafkajs partitioner sent it; a key's bytes are kept as they are.
          this.producer.produce(topic, partitionFor(message.key?.toString() ?? '', partitions), message.value, message.key, null, { append, index } satisfies Delivery, rdHeaders(message.headers));
        } catch (error) {
          // Queue full or closed: the records produced before this one may still land (an append was never atomic).
          append.failed = true;
          reject(error);
          return;
        }
      }
    });
  }

  /** Resolves with where each record landed, in the order given (what `awaitProjected` waits for). */
  append(topic: string, records: (OutgoingRecord | Tombstone)[]): Promise<AppendedPosition[]> {
    if (records.length === 0) return Promise.resolve([]);
    return this.produce(topic, encodeRecords(this.codec, records));
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
  async appendRaw(topic: string, messages: RawMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.produce(topic, messages);
  }

  /** Waits for what is in flight, then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.producer.flush(30000, () => resolve()));
    await new Promise<void>((resolve) => this.producer.disconnect(10000, () => resolve()));
  }
}

/** Records for one topic, plus raw dead letters (original bytes and headers), appended in one transaction. */
export interface TransactionalAppend {
  topic: string;
  records?: (OutgoingRecord | Tombstone)[];
  raw?: RawMessage[];
}

/** The consumed position a transaction commits for the consumer's group: the next offset to read. */
export interface ConsumedPosition {
  /** The consumer (librdkafka's, from the consume loop) whose group metadata the commit carries (KIP-447). */
  consumer: RdConsumer;
  topic: string;
  partition: number;
  offset: string;
}

const TRANSACTION_TIMEOUT_MS = 60000;

function callback(run: (done: (error: LibrdKafkaError | null | undefined) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}

async function newTransactionalProducer(settings: KafkaClientSettings, transactionalId: string): Promise<RdProducer> {
  const producer = new RdKafka.Producer({
    'bootstrap.servers': settings.brokers.join(','),
    'client.id': settings.clientId,
    'transactional.id': transactionalId,
    'enable.idempotence': true,
    acks: -1,
    'linger.ms': 1,
    'socket.nagle.disable': true,
    // Longer than a consumer's session timeout: a member stalled mid-step loses its partitions (and
    // with them, by KIP-447, the right to commit the step) before the broker aborts its transaction.
    'transaction.timeout.ms': TRANSACTION_TIMEOUT_MS,
  });
  const logger = settings.logger.child({ component: 'librdkafka', transactionalId });
  producer.on('event.error', (error) => logger.warn({ code: error.code }, error.message));
  await callback((done) => producer.connect({ timeout: 30000 }, (error) => done(error)));
  producer.setPollInBackground(true);
  // Fences an earlier producer with this id (a predecessor that died mid-transaction): its open transaction is aborted.
  await callback((done) => producer.initTransactions(30000, done));
  return producer;
}

/**
 * Consume-transform-produce, exactly once: what a step appends and the input offset it consumed
 * commit together in one Kafka transaction, or not at all. The offsets go with the consumer's group
 * metadata (KIP-447), so the group coordinator refuses the commit of a member that a rebalance has
 * fenced (another member owns the partition now and does the step itself). A stable transactional id
 * per instance fences a predecessor that died mid-transaction as soon as the instance restarts.
 * After a fatal error (this producer fenced) or a failed abort, the next commit makes a new producer.
 */
export class TransactionalAppender {
  private producer: Promise<RdProducer> | undefined;
  private partitionCounts = new Map<string, Promise<number>>();
  private closed = false;

  private constructor(
    private readonly settings: KafkaClientSettings,
    private readonly codec: Codec,
    private readonly transactionalId: string,
  ) {}

  static async connect(kafka: Kafka | KafkaClientSettings, codec: Codec, transactionalId: string): Promise<TransactionalAppender> {
    const appender = new TransactionalAppender('brokers' in kafka && Array.isArray(kafka.brokers) ? (kafka as KafkaClientSettings) : settingsOf(kafka as Kafka), codec, transactionalId);
    await appender.ready();
    return appender;
  }

  private ready(): Promise<RdProducer> {
    if (this.closed) return Promise.reject(new Error('the transactional appender is closed'));
    if (!this.producer) {
      this.producer = newTransactionalProducer(this.settings, this.transactionalId);
      this.producer.catch(() => (this.producer = undefined));
    }
    return this.producer;
  }

  private async replace(producer: RdProducer): Promise<void> {
    this.producer = undefined;
    this.partitionCounts = new Map();
    await new Promise<void>((resolve) => producer.disconnect(5000, () => resolve()));
  }

  /**
   * The appends and the consumed positions (several partitions' at once: one transaction for a whole
   * cycle of the consume loop, all of one consumer) commit together. Without `consumed`, only the
   * appends commit together (a bench's backlog made visible at once).
   */
  async commit(appends: TransactionalAppend[], consumed?: ConsumedPosition | ConsumedPosition[]): Promise<void> {
    const positions = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
    const consumer = positions[0]?.consumer;
    if (positions.some((position) => position.consumer !== consumer)) throw new Error('one transaction commits the positions of one consumer');
    const producer = await this.ready();
    const counts = this.partitionCounts;
    const topics = appends
      .map(({ topic, records = [], raw = [] }) => ({ topic, messages: [...encodeRecords(this.codec, records), ...raw] as RawMessage[] }))
      .filter((entry) => entry.messages.length > 0);
    const partitionCounts = await Promise.all(topics.map(({ topic }) => partitionCount(producer, counts, topic)));
    await callback((done) => producer.beginTransaction(done));
    try {
      for (const [index, { topic, messages }] of topics.entries()) {
        for (const message of messages) {
          producer.produce(topic, partitionFor(message.key?.toString() ?? '', partitionCounts[index]!), message.value, message.key, null, undefined, rdHeaders(message.headers));
        }
      }
      if (consumer) {
        const offsets = positions.map(({ topic, partition, offset }) => ({ topic, partition, offset: Number(offset) }));
        await callback((done) => producer.sendOffsetsToTransaction(offsets, consumer, 30000, done));
      }
      await callback((done) => producer.commitTransaction(TRANSACTION_TIMEOUT_MS, done));
    } catch (error) {
      const fatal = (error as LibrdKafkaError).isFatal === true;
      const aborted = fatal ? false : await callback((done) => producer.abortTransaction(30000, done)).then(() => true, () => false);
      if (!aborted) await this.replace(producer);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const producer = await this.producer?.catch(() => undefined);
    if (producer) await new Promise<void>((resolve) => producer.disconnect(10000, () => resolve()));
  }
}

export const DLQ_HEADERS = {
  reason: 'trapline-dlq-reason',
  topic: 'trapline-dlq-topic',
  partition: 'trapline-dlq-partition',
  offset: 'trapline-dlq-offset',
} as const;

/**
 * Creates the declared topics that do not exist yet, and waits for their leaders. `partitions`
 * overrides a declared count for a topic created now; an existing topic keeps its count (more
 * partitions would move projects to other partitions and split their histories).
 */
export async function ensureTopics(admin: Admin, names: TopicNames, replicationFactor = 1, partitions: Partial<Record<TopicId, number>> = {}): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = (Object.keys(TOPIC_SPECS) as TopicId[]).filter((id) => !existing.has(names[id]));
  if (missing.length === 0) return [];
  await admin.createTopics({
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
  });
  return missing.map((id) => names[id]);
}
