import { randomUUID } from 'node:crypto';
import { Codec, type DomainRecord } from '@trapline/schemas';
import { type ConsumedRecord, decodeRecord, startConsumeLoop, type ConsumeLoopOptions } from './consume.ts';
import { type Kafka, type OutgoingRecord, settingsOf, TransactionalAppender, type TransactionalAppend } from './kafka.ts';
import type { Logger } from './logger.ts';

// Reading a topic up to the end offsets it had when the read began, through the consume loop: the
// DLQ re-drive (`trapline dlq redrive`: each dead letter back where it belongs, in the same
// transaction that moves the re-drive's group past it, so a crash re-drives nothing twice and
// loses nothing) and the restore of a changelog (a throwaway group, deleted afterwards).

interface ReadToEndOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Where the read starts: the group's committed offsets (re-drive) or the log start (a new group). */
  handle: ConsumeLoopOptions['handle'];
  transactions?: TransactionalAppender;
  /** Gives up when the group's position has not moved for this long (an open transaction holds back what follows it). */
  idleMs: number;
  timeoutMs?: number;
}

/** Reads `topic` through `groupId` until the group stands at the end offsets it had at the start; false when it gave up early. */
async function readToEnd({ kafka, topic, groupId, handle, transactions, idleMs, timeoutMs = 120000 }: ReadToEndOptions): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  let pending: Map<number, bigint>;
  try {
    const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    pending = new Map(
      ends
        .filter(({ partition, high, low }) => {
          const at = committed?.partitions.find((entry) => entry.partition === partition)?.offset ?? '-1';
          return BigInt(at === '-1' ? low : at) < BigInt(high);
        })
        .map(({ partition, high }) => [partition, BigInt(high)]),
    );
  } finally {
    await admin.disconnect();
  }
  if (pending.size === 0) return true;
  let moved = Date.now();
  const started = Date.now();
  const loop = await startConsumeLoop({
    client: settingsOf(kafka), groupId, topics: [topic], transactions, handle,
    onPosition: (_topic, partition, next) => {
      const end = pending.get(partition);
      if (end === undefined) return;
      moved = Date.now();
      if (next >= end) pending.delete(partition);
    },
    onJoin: () => (moved = Date.now()),
  });
  try {
    while (pending.size > 0 && Date.now() - moved < idleMs && Date.now() - started < timeoutMs) await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await loop.stop();
  }
  return pending.size === 0;
}

export interface RedriveResult {
  /** Ids of what was re-driven (a step's id, or the topic a record went back to). */
  redriven: string[];
  /** Dead letters that have nowhere to go back to (undecodable, or from no known topic): left behind, with the group moved past them. */
  skipped: number;
}

export interface RedriveOptions {
  kafka: Kafka;
  dlqTopic: string;
  groupId: string;
  transactionalId: string;
  logger: Logger;
  /** Where a dead letter goes back to, with an id for the result; undefined to skip it. */
  back(record: ConsumedRecord, now: number): { id: string; appends: TransactionalAppend[] } | undefined;
  now?: () => number;
  /** Gives up waiting for the next record after this long. */
  idleMs?: number;
}

/** Every dead letter on `dlqTopic` not re-driven before goes back, each in its own transaction with the group's move past it. */
export async function redriveDeadLetters({ kafka, dlqTopic, groupId, transactionalId, logger, back, now = Date.now, idleMs = 3000 }: RedriveOptions): Promise<RedriveResult> {
  const result: RedriveResult = { redriven: [], skipped: 0 };
  const transactions = await TransactionalAppender.connect(kafka, new Codec(), transactionalId);
  try {
    await readToEnd({
      kafka, topic: dlqTopic, groupId, transactions, idleMs,
      handle: async (batch, control) => {
        for (const record of batch.records) {
          const target = back(record, now());
          await control.commit(target?.appends ?? [], record.offset);
          if (target) {
            result.redriven.push(target.id);
            logger.info({ id: target.id, topic: dlqTopic }, 're-driven');
          } else {
            result.skipped += 1;
          }
        }
      },
    });
  } finally {
    await transactions.close();
  }
  return result;
}

/** The re-drive of a retry chain's DLQ: each step that decodes goes back to the chain's run topic with a fresh set of attempts. */
export function redriveChain(options: Omit<RedriveOptions, 'back'> & { runTopic: string; retry(record: DomainRecord, now: number): { id: string; record: OutgoingRecord } | undefined }): Promise<RedriveResult> {
  const codec = new Codec();
  const { runTopic, retry, ...rest } = options;
  return redriveDeadLetters({
    ...rest,
    back: (record, now) => {
      const decoded = decodeRecord(codec, record);
      const step = decoded.ok ? retry(decoded.record, now) : undefined;
      return step ? { id: step.id, appends: [{ topic: runTopic, records: [step.record] }] } : undefined;
    },
  });
}

/**
 * Reads a topic from its start to its current end (committed records only), for a service that
 * keeps its state in a compacted changelog topic. A consumer group of its own, used once and then
 * deleted, so no other member takes partitions from it.
 */
export async function readTopicToEnd(kafka: Kafka, topic: string, groupPrefix: string, onRecord: (record: ConsumedRecord) => void, timeoutMs = 120000): Promise<number> {
  const groupId = `${groupPrefix}.restore.${randomUUID()}`;
  let read = 0;
  try {
    const complete = await readToEnd({
      kafka, topic, groupId, idleMs: timeoutMs, timeoutMs,
      handle: async (batch) => {
        for (const record of batch.records) {
          onRecord(record);
          read += 1;
        }
      },
    });
    if (!complete) throw new Error(`${topic} was not read to its end within ${timeoutMs / 1000}s`);
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return read;
}
