import { Codec, type DomainRecord } from '@trapline/schemas';
import { type Kafka, KafkajsTransactionalAppender, type OutgoingRecord } from './kafka.ts';
import type { Logger } from './logger.ts';

// `trapline dlq redrive` for a retry chain's dead-letter topic: every dead letter goes back to the
// chain's run topic with a fresh set of attempts. The DLQ is read by its own consumer group, and
// each re-driven step is appended in the same transaction that moves that group past it, so a
// crash re-drives nothing twice and loses nothing.

export interface RedriveResult {
  /** Ids of the steps re-driven. */
  redriven: string[];
  /** Dead letters that are not steps of the chain (undecodable): left behind, with the group moved past them. */
  skipped: number;
}

export interface RedriveOptions {
  kafka: Kafka;
  dlqTopic: string;
  runTopic: string;
  groupId: string;
  transactionalId: string;
  logger: Logger;
  /** The step to append again for a dead letter, with its id; undefined to skip it. */
  retry(record: DomainRecord, now: number): { id: string; record: OutgoingRecord } | undefined;
  now?: () => number;
  /** Gives up waiting for the next record after this long. */
  idleMs?: number;
}

export async function redriveChain({ kafka, dlqTopic, runTopic, groupId, transactionalId, logger, retry, now = Date.now, idleMs = 3000 }: RedriveOptions): Promise<RedriveResult> {
  const admin = kafka.admin();
  await admin.connect();
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(dlqTopic), admin.fetchOffsets({ groupId, topics: [dlqTopic] })]).finally(() => admin.disconnect());
  const pending = new Map(
    ends
      .map(({ partition, high, low }) => {
        const at = committed?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1';
        return [partition, { from: BigInt(at === '-1' ? low : at), high: BigInt(high) }] as const;
      })
      .filter(([, range]) => range.from < range.high),
  );
  const result: RedriveResult = { redriven: [], skipped: 0 };
  if (pending.size === 0) return result;

  const codec = new Codec();
  const appender = await KafkajsTransactionalAppender.connect(kafka, codec, transactionalId);
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  let lastProgress = now();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    lastProgress = now();
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [dlqTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: true, // also moves the group past trailing transaction markers
      autoCommitThreshold: 1,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const message of batch.messages) {
          const decoded = codec.decode(message.headers, message.value);
          const step = decoded.ok ? retry(decoded.record, now()) : undefined;
          await appender.commit(step ? [{ topic: runTopic, records: [step.record] }] : [], { groupId, topic: batch.topic, partition: batch.partition, offset: (BigInt(message.offset) + 1n).toString() });
          resolveOffset(message.offset);
          if (step) {
            result.redriven.push(step.id);
            logger.info({ id: step.id, topic: dlqTopic }, 're-driven');
          } else {
            result.skipped += 1;
          }
        }
        // lastOffset counts the transaction markers that follow the records, so it reaches high - 1.
        const range = pending.get(batch.partition);
        if (range && BigInt(batch.lastOffset()) + 1n >= range.high) pending.delete(batch.partition);
        lastProgress = now();
      },
    });
    while (pending.size > 0 && (!joined || now() - lastProgress < idleMs) && now() - lastProgress < 60000) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await consumer.disconnect();
    await appender.close();
  }
  return result;
}
