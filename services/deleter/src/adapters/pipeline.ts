import { type Admin, type Batch, type Consumer, deadLetter, DueGate, type EachBatchPayload, type HeldSettings, type Kafka, type KafkaMessage, type Logger, planHeld, type TransactionalAppend, type KafkajsTransactionalAppender } from '@trapline/runtime';
import { SCHEMA_HEADER, type Codec, type DeletionStep, type TopicNames } from '@trapline/schemas';
import {
  completedAudit,
  eventsTopicKeys,
  expiryAudits,
  planChunk,
  planFailure,
  planWait,
  requestedAudit,
  scheduleDeletion,
  type DeletionRequest,
  type DeletionSettings,
  type ExpiredProject,
} from '../domain/deletion.ts';
import type { DeletionSource } from './source.ts';

// The deleter's consumer. Four inputs, one consumer group, and every step is one Kafka
// transaction that appends its outputs and commits its input offset together:
//   events  → deletion requests become a held step on `delay` and a `requested` audit entry
//            (retention requests go straight to `run`, audited only by their summary);
//   delay, retry → a step whose time has come moves to `run`, whatever its place in the partition
//            (planHeld, packages/runtime/src/held-steps.ts); steps not due before it go back to the tail; the partition is
//            paused until its earliest step is due or a second at most (no busy loop);
//   run    → one chunk: EventsPurged plus a null-value record per event key on `events`, then the
//            next chunk on `run`, or the `completed` audit entry; a failed chunk goes to `retry`
//            with a growing delay, or to `dlq` after the last attempt.

export type StepOutcome = 'scheduled' | 'released' | 'deferred' | 'chunk' | 'completed' | 'waiting' | 'retry' | 'dead' | 'dead_letter';

export interface DeleterDeps {
  kafka: Kafka;
  codec: Codec;
  appender: KafkajsTransactionalAppender;
  source: DeletionSource;
  topics: TopicNames;
  groupId: string;
  projectorGroup: string;
  settings: DeletionSettings;
  logger: Logger;
  now: () => number;
  onOutcome?: (outcome: StepOutcome, count: number) => void;
  onJoin?: () => void;
}

export interface Deleter {
  stop(): Promise<void>;
}

// A partition holding steps not due is read again at least once a second: a step due sooner may
// have arrived behind them. Steps are a few hundred bytes: 100 per transaction is far below a request's limit.
const HELD_SETTINGS: HeldSettings = { recheckMs: 1000, perTransaction: 100 };

const REQUESTS = new Set(['GroupDeletionRequested', 'EventDeletionRequested', 'RetentionRequested']);

function schemaOf(message: KafkaMessage): string | undefined {
  const raw = message.headers?.[SCHEMA_HEADER];
  return (Array.isArray(raw) ? raw[0] : raw)?.toString();
}

/** Marks a committed input offset as consumed; false when the batch should stop (shutting down, or rebalanced). */
type Settle = (offset: string) => Promise<boolean>;

export async function startDeleter(deps: DeleterDeps): Promise<Deleter> {
  const { kafka, codec, appender, source, topics, settings, logger } = deps;
  // The deleter reads the whole events log for its few requests. Fetching as soon as any record
  // arrived meant a fetch (and a batch and an offset commit) per produce request of ingest under
  // load; waiting for 512 KB or 100 ms takes several together, at up to 100 ms more per step when
  // idle (measured: bench/README.md).
  const consumer: Consumer = kafka.consumer({ groupId: deps.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, minBytes: 512 * 1024, sessionTimeout: 30000, heartbeatInterval: 3000 });
  const admin: Admin = kafka.admin();
  const gate = new DueGate(consumer);
  const count = (outcome: StepOutcome, n = 1) => deps.onOutcome?.(outcome, n);
  const commit = (appends: TransactionalAppend[], batch: Batch, message: Pick<KafkaMessage, 'offset'>) =>
    appender.commit(appends, { groupId: deps.groupId, topic: batch.topic, partition: batch.partition, offset: (BigInt(message.offset) + 1n).toString() });

  /** A record on the deleter's own topics that is not a readable DeletionStep. */
  const decodeStep = (batch: Batch, message: KafkaMessage): { step: DeletionStep } | { deadLetter: ReturnType<typeof deadLetter> } => {
    const decoded = codec.decode(message.headers, message.value);
    if (decoded.ok && decoded.record.name === 'DeletionStep') return { step: decoded.record.value };
    const reason = decoded.ok ? `unexpected ${decoded.record.name} on ${batch.topic}` : decoded.reason;
    return { deadLetter: deadLetter(message, { topic: batch.topic, partition: batch.partition }, reason) };
  };

  /** Requests on the domain log: held on the delay topic, and audited as requested. */
  const intake = async (batch: Batch, settle: Settle) => {
    const records: TransactionalAppend[] = [];
    for (const message of batch.messages) {
      if (!REQUESTS.has(schemaOf(message) ?? '')) continue;
      const decoded = codec.decode(message.headers, message.value);
      if (!decoded.ok) continue; // the projector dead-letters undecodable records of this topic
      const step = scheduleDeletion(decoded.record as DeletionRequest, { partition: batch.partition, offset: message.offset }, settings);
      // Retention has no delay: it goes straight to run, not behind a held request on the delay topic.
      const held = step.kind !== 'retention' && step.kind !== 'expiry';
      // A person's request is audited when it is taken in; retention only by its summary at the end.
      let audit;
      try {
        audit = held ? requestedAudit(step, await source.organizationOf(step.projectId), await source.target(step)) : undefined;
      } catch (error) {
        // Not projected yet: try the batch again later. Projected and still unknown (a project that
        // does not exist): it never will be, so the request goes to the DLQ and the partition moves on.
        if (!(await projectorApplied(step))) throw error;
        const reason = `cannot take the request in: ${(error as Error).message}`;
        records.push({ topic: topics.deletionsDlq, records: [{ key: step.transactionId, name: 'DeletionStep', value: { ...step, lastError: reason } }] });
        logger.warn({ transactionId: step.transactionId, reason }, 'deletion request dead-lettered');
        continue;
      }
      records.push({ topic: held ? topics.deletionsDelay : topics.deletionsRun, records: [{ key: step.transactionId, name: 'DeletionStep', value: step }] });
      if (audit) records.push({ topic: topics.audit, records: [{ key: audit.id, name: 'AuditEntry', value: audit }] });
      logger.info({ transactionId: step.transactionId, kind: step.kind, dueAt: new Date(step.dueAt).toISOString() }, 'deletion scheduled');
    }
    // Most batches of the domain log hold no request: nothing to append, so no transaction; the
    // resolved offset is committed by the consumer. Only a batch with requests commits its offset
    // inside the transaction that appends their steps.
    if (records.length > 0) await commit(records, batch, batch.messages.at(-1)!);
    await settle(batch.messages.at(-1)!.offset);
    // Counted once the transaction is committed, so a retried batch counts once.
    count('scheduled', records.filter((entry) => entry.topic === topics.deletionsDelay || entry.topic === topics.deletionsRun).length);
    count('dead_letter', records.filter((entry) => entry.topic === topics.deletionsDlq).length);
  };

  /**
   * Delay and retry topics: of what was read, everything up to the last due step is handled (the
   * due ones released to `run`, the others put back at the tail), so a step due sooner never waits
   * behind one due later; then the partition rests until its earliest step is due, or the recheck bound.
   */
  const release = async (batch: Batch, settle: Settle): Promise<void> => {
    const records = batch.messages.map((message) => {
      const read = decodeStep(batch, message);
      return { offset: message.offset, dueAt: 'step' in read ? read.step.dueAt : null, item: read };
    });
    const plan = planHeld(records, deps.now(), HELD_SETTINGS);
    const stepRecords = (reads: typeof plan.transactions[number]['released']) => reads.flatMap((read) => ('step' in read ? [{ key: read.step.transactionId, name: 'DeletionStep' as const, value: read.step }] : []));
    for (const transaction of plan.transactions) {
      const appends: TransactionalAppend[] = [
        { topic: topics.deletionsRun, records: stepRecords(transaction.released) },
        { topic: batch.topic, records: stepRecords(transaction.deferred) },
        { topic: topics.deletionsDlq, raw: transaction.deadLettered.flatMap((read) => ('deadLetter' in read ? [read.deadLetter] : [])) },
      ];
      await commit(appends, batch, { offset: transaction.through });
      count('released', transaction.released.length);
      count('deferred', transaction.deferred.length);
      count('dead_letter', transaction.deadLettered.length);
      if (!(await settle(transaction.through))) return;
    }
    if (plan.recheckMs !== undefined) gate.holdUntilDue(batch.topic, batch.partition, plan.recheckMs);
  };

  /** Has the projector applied the request (so every event it hides is in the read model)? */
  const projectorApplied = async (step: DeletionStep): Promise<boolean> => {
    const [offsets] = await admin.fetchOffsets({ groupId: deps.projectorGroup, topics: [topics.events] });
    const committed = offsets?.partitions.find((entry) => entry.partition === step.requestPartition)?.offset ?? '-1';
    return BigInt(committed) > BigInt(step.requestOffset);
  };

  /** One chunk of a running deletion, or what follows its failure. */
  const runStep = async (step: DeletionStep): Promise<{ appends: TransactionalAppend[]; outcome: StepOutcome }> => {
    let found;
    let organization;
    let expired: { projects: ExpiredProject[]; partitions: number } | undefined;
    try {
      if (step.chunks === 0 && step.cursor === null && !(await projectorApplied(step))) {
        const waiting = planWait(step, 'waiting for the projector to apply the request', settings, deps.now());
        return { appends: [{ topic: topics.deletionsRetry, records: [{ key: step.transactionId, name: 'DeletionStep', value: waiting }] }], outcome: 'waiting' };
      }
      found = await source.nextChunk(step, step.kind === 'expiry' ? settings.expiryChunkSize : settings.chunkSize);
      // An expiry covers every project: its summaries name each project's organization at the end.
      organization = step.kind === 'expiry' ? '' : await source.organizationOf(step.projectId);
      if (step.kind === 'expiry' && found.final) {
        const cutoff = step.cutoff!;
        expired = { projects: await source.expirySummary(cutoff), partitions: (await source.partitions()).filter((range) => range.to * 1000 <= cutoff).length };
      }
    } catch (error) {
      const plan = planFailure(step, (error as Error).message, settings, deps.now());
      logger.warn({ transactionId: step.transactionId, attempt: plan.failed.attempt, reason: plan.failed.reason, outcome: plan.outcome }, 'deletion step failed');
      return {
        appends: [
          { topic: plan.outcome === 'dead' ? topics.deletionsDlq : topics.deletionsRetry, records: [{ key: step.transactionId, name: 'DeletionStep', value: plan.step }] },
          { topic: topics.events, records: [{ key: eventsTopicKeys.failure(step), name: 'DeletionFailed', value: plan.failed }] },
        ],
        outcome: plan.outcome,
      };
    }
    const { purged, next } = planChunk(step, found, settings, deps.now());
    const erasures = purged.eventIds.map((eventId) => ({ key: eventsTopicKeys.erasure(purged.projectId, eventId), tombstone: true as const }));
    const appends: TransactionalAppend[] = [{ topic: topics.events, records: [{ key: eventsTopicKeys.purge(purged), name: 'EventsPurged', value: purged }, ...erasures] }];
    if (next) {
      appends.push({ topic: topics.deletionsRun, records: [{ key: next.transactionId, name: 'DeletionStep', value: next }] });
      return { appends, outcome: 'chunk' };
    }
    const audits = expired ? expiryAudits(step, purged, expired.projects, expired.partitions) : [completedAudit(step, purged, organization)];
    if (audits.length > 0) appends.push({ topic: topics.audit, records: audits.map((audit) => ({ key: audit.id, name: 'AuditEntry' as const, value: audit })) });
    logger.info({ transactionId: step.transactionId, eventsRemoved: purged.eventsRemoved, rowsRemoved: purged.rowsRemoved, chunks: purged.chunk + 1 }, 'deletion completed');
    return { appends, outcome: 'completed' };
  };

  const run = async (batch: Batch, settle: Settle): Promise<void> => {
    for (const message of batch.messages) {
      const read = decodeStep(batch, message);
      const { appends, outcome } = 'step' in read ? await runStep(read.step) : { appends: [{ topic: topics.deletionsDlq, raw: [read.deadLetter] }], outcome: 'dead_letter' as const };
      await commit(appends, batch, message);
      count(outcome); // once the step's transaction is committed
      if (!(await settle(message.offset))) return;
    }
  };

  const handlers: Record<string, (batch: Batch, settle: Settle) => Promise<void>> = {
    [topics.events]: intake,
    [topics.deletionsDelay]: release,
    [topics.deletionsRetry]: release,
    [topics.deletionsRun]: run,
  };

  consumer.on(consumer.events.GROUP_JOIN, () => deps.onJoin?.());
  await admin.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: Object.keys(handlers), fromBeginning: true });
  await consumer.run({
    // Each step's transaction commits its input offset; kafkajs also commits what was resolved
    // after it (the same offsets, plus batches holding nothing but transaction markers).
    autoCommit: true,
    autoCommitThreshold: 1,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      // After every committed transaction, the consumer's own position moves past what it committed
      // (the transaction committed the group's): a batch that fails halfway is fetched again from
      // there, not from its start, so no committed step runs twice. A heartbeat between
      // transactions keeps a long batch in the group; a rebalance ends the batch.
      await handlers[batch.topic]!(batch, async (offset) => {
        resolveOffset(offset);
        await heartbeat();
        return isRunning() && !isStale();
      });
    },
  });

  return {
    stop: async () => {
      gate.clear();
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}
