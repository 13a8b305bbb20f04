import RdKafkaModule, { type KafkaConsumer, type LibrdKafkaError, type Message } from '@confluentinc/kafka-javascript';
import { headersOf } from './consume.ts';
import { type KafkaMessage, settingsOf, type Kafka } from './kafka.ts';

// Reading fixed ranges of one topic, the way an operator's console consumer would: committed
// records only (read_committed), from a start offset to an end offset captured beforehand, then
// stop instead of waiting for new records. The consumer is assigned its partitions (no group: it
// joins none and commits nothing, so there is no group to clean up), and fetches in large chunks.
// What reads through a consumer group and commits as it goes is the consume loop's (consume.ts).
//
// Transaction markers: librdkafka hands no control record over, but its fetch position moves past
// them; a partition counts as read once its position reached the end, so a range ending in a
// marker (or in a gap left by compaction) still finishes.

const { RdKafka } = RdKafkaModule;

/** One partition's offsets to read: `from` up to (not including) `end`. */
export interface OffsetRange {
  partition: number;
  /** first offset to read (below the log start: from the log start) */
  from: bigint;
  /** end offset captured before reading: records at or after it are left alone */
  end: bigint;
}

export type RecordVerdict = 'continue' | 'stop';

export interface RangeReadOptions {
  kafka: Kafka;
  topic: string;
  /** Partitions to read; one with an empty range reads nothing. */
  ranges: OffsetRange[];
  /** Each record in offset order per partition (partitions interleave); resolves before the next. */
  onRecord(partition: number, message: KafkaMessage): RecordVerdict | Promise<RecordVerdict>;
  /** Gives up when nothing moved for this long (an open transaction holds back everything after it). */
  idleMs?: number;
  onIdle?(partitions: number[]): void;
  /** Bytes fetched per partition and request (librdkafka's default: 1 MiB); a bulk read takes more at once. */
  maxBytesPerPartition?: number;
}

const ERR_TIMED_OUT = -185;
const RECORDS_PER_POLL = 10000;

function consume(consumer: KafkaConsumer): Promise<Message[]> {
  return new Promise((resolve, reject) => consumer.consume(RECORDS_PER_POLL, (error, messages) => {
    if (error && error.code !== ERR_TIMED_OUT) reject(error);
    else resolve(messages ?? []);
  }));
}

function messageOf(message: Message): KafkaMessage {
  const key = message.key === undefined || message.key === null ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(String(message.key));
  return { key, value: message.value, headers: headersOf(message), offset: String(message.offset), timestamp: String(message.timestamp ?? -1) };
}

/** Reads every committed record of `ranges`; resolves once each partition's position reached its end, `onRecord` said stop, or nothing moved for `idleMs`. */
export async function readRange({ kafka, topic, ranges, onRecord, idleMs = 5000, onIdle, maxBytesPerPartition = 1024 * 1024 }: RangeReadOptions): Promise<void> {
  const wanted = ranges.filter((range) => range.from < range.end);
  if (wanted.length === 0) return;
  const ends = new Map(wanted.map((range) => [range.partition, range.end]));
  const pending = new Set(ends.keys());
  const settings = settingsOf(kafka);
  const consumer = new RdKafka.KafkaConsumer({
    'bootstrap.servers': settings.brokers.join(','),
    'client.id': settings.clientId,
    // The binding wants one; a consumer that is assigned its partitions and commits nothing never joins it (the broker keeps no such group).
    'group.id': `${settings.clientId}.range-read`,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'auto.offset.reset': 'earliest',
    'isolation.level': 'read_committed',
    'allow.auto.create.topics': false,
    'max.partition.fetch.bytes': maxBytesPerPartition,
    'fetch.max.bytes': Math.max(52428800, 8 * maxBytesPerPartition),
    'queued.max.messages.kbytes': Math.max(65536, (4 * maxBytesPerPartition * wanted.length) / 1024),
    'fetch.wait.max.ms': 100,
    'socket.nagle.disable': true,
  }, {});
  const logger = settings.logger.child({ component: 'range-read', topic });
  if (!settings.silent) consumer.on('event.error', (error: LibrdKafkaError) => logger.warn({ code: error.code }, error.message));
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30000 }, (error) => (error ? reject(error) : resolve())));
  try {
    consumer.setDefaultConsumeTimeout(100);
    // A poll returns what is queued once the first record is there, instead of waiting to fill up (not in the binding's types).
    (consumer as KafkaConsumer & { setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.assign(wanted.map(({ partition, from }) => ({ topic, partition, offset: Number(from) })));
    let lastProgress = Date.now();
    const finished = (partition: number) => {
      if (!pending.delete(partition)) return;
      try {
        consumer.pause([{ topic, partition }]);
      } catch {
        // nothing to fetch any more either way
      }
    };
    for (;;) {
      const messages = await consume(consumer);
      for (const message of messages) {
        const end = ends.get(message.partition);
        if (end === undefined || !pending.has(message.partition) || BigInt(message.offset) >= end) continue;
        lastProgress = Date.now();
        const verdict = onRecord(message.partition, messageOf(message));
        if ((typeof verdict === 'string' ? verdict : await verdict) === 'stop') return;
        if (BigInt(message.offset) + 1n >= end) finished(message.partition);
      }
      // Past what was handed over, and past the transaction markers and compacted gaps after it.
      for (const { partition, offset } of consumer.position([...pending].map((partition) => ({ topic, partition })))) {
        if (offset >= 0 && BigInt(offset) >= ends.get(partition)!) {
          lastProgress = Date.now();
          finished(partition);
        }
      }
      if (pending.size === 0) return;
      if (Date.now() - lastProgress > idleMs) {
        onIdle?.([...pending]);
        return;
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
