import { describeIssue } from '@trapline/projector/issue';
import { groupHashes } from '@trapline/projector/grouping';
import { type BatchControl, type ConsumedBatch, type ConsumedRecord, deadLetterOf, decodeRecord, type HeldSettings, type Kafka, type Logger, type OutgoingRecord, planAttemptFailure, planHeld, type RawMessage, type RetrySettings, settingsOf, startConsumeLoop, type TransactionalAppend, type TransactionalAppender } from '@trapline/runtime';
import { type AlertDelivery, type AlertDeliveryChanged, type Codec, eventKeys, type NormalizedEvent, type TopicNames } from '@trapline/schemas';
import type { Registry } from 'prom-client';
import { decide, plannedDeliveries, type EventFacts } from '../domain/decide.ts';
import { changeStatus, deleteIssue, emptyState, observeEvent } from '../domain/issue-state.ts';
import { issueLink, summarize } from '../domain/messages.ts';
import type { AlertingCache } from './alerting-cache.ts';
import { deliveryRecord } from './delivery-record.ts';
import type { SendOutcome } from './senders.ts';
import { positionRecord, StateChanges, type NotifierState } from './state-store.ts';

// The notifier's consumer: three inputs, one consumer group, every step in a Kafka transaction that
// appends its outputs and commits its input offset together (as the deleter's). A cycle's steps
// share one transaction (`control.stage`): the deliveries sent from `run` and the events decided
// after them commit together, one transaction per cycle (each costs ~1.5 ms of CPU whatever its size):
//   events → what happened to each issue (its state, on the changelog) and the deliveries the rules
//            decide (on `alerts.run`, each with a `pending` entry in the delivery log); the
//            partition's decided position goes in the same transaction, so no record is decided twice;
//   run    → deliveries sent a chunk at a time, at once (a slow receiver holds up its chunk by the
//            timeout at most); each outcome is a delivery-log entry, a failure goes to `alerts.retry`
//            with a growing delay, or to `alerts.dlq` after the last attempt;
//   retry  → a delivery whose time has come moves back to `run`, whatever its place in the partition
//            (planHeld, shared with the deleter); those not due before it go back to the tail, and
//            the partition is paused until the earliest is due (or a second at most).

export type DeliveryOutcome = 'decided' | 'sent' | 'not_sent' | 'retry' | 'dead' | 'dead_letter';

export interface NotifierDeps {
  kafka: Kafka;
  codec: Codec;
  appender: TransactionalAppender;
  topics: TopicNames;
  groupId: string;
  publicUrl: string;
  alerting: AlertingCache;
  state: NotifierState;
  /** Sends the deliveries of one chunk at once (the outcomes in their order). */
  send: (deliveries: AlertDelivery[]) => Promise<SendOutcome[]>;
  retry: RetrySettings;
  logger: Logger;
  now: () => number;
  /** Deliveries sent at once from the run topic. */
  concurrency?: number;
  onOutcome?: (outcome: DeliveryOutcome, count: number) => void;
  /** Each committed transaction: the inputs it consumed (`events+run` for a cycle's of both), and how long it took. */
  onTransaction?: (input: string, seconds: number) => void;
  metrics?: Registry;
  sessionTimeoutMs?: number;
  maxPollIntervalMs?: number;
}

// A retry partition holding deliveries not due is read again at least once a second (one due sooner
// may have arrived behind them). A delivery carries its issue and event summaries, a few KB: 25 per
// transaction stays far below a request's limit.
const HELD_SETTINGS: HeldSettings = { recheckMs: 1000, perTransaction: 25 };

const DECIDED = new Set(['EventReceived', 'GroupStatusChanged', 'GroupDeletionRequested']);

const next = (offset: string) => (BigInt(offset) + 1n).toString();

/** The delivery log's entry for where a delivery stands. */
export function deliveryChange(delivery: AlertDelivery, status: string, attempts: number, target: string, lastError: string | null, now: number): OutgoingRecord<'AlertDeliveryChanged'> {
  const value: AlertDeliveryChanged = {
    deliveryId: delivery.deliveryId, projectId: delivery.projectId, groupId: delivery.groupId, ruleId: delivery.ruleId, ruleName: delivery.ruleName, trigger: delivery.trigger,
    kind: delivery.kind, target, status, attempts, lastError, decidedAt: delivery.decidedAt, changedAt: now,
  };
  return { key: eventKeys.alertDelivery(delivery.projectId, delivery.deliveryId), name: 'AlertDeliveryChanged', value };
}

export async function startNotifier(deps: NotifierDeps): Promise<{ check(): string | undefined; stop(): Promise<void> }> {
  const { codec, topics, state, alerting, logger } = deps;
  const count = (outcome: DeliveryOutcome, n = 1) => n > 0 && deps.onOutcome?.(outcome, n);
  const inputOf = (topic: string) => (topic === topics.events ? 'events' : topic === topics.alertsRun ? 'run' : 'retry');
  /** One transaction: the appends, and the group moved past `through`. */
  const commit = async (control: BatchControl, appends: TransactionalAppend[], batch: ConsumedBatch, through: string) => {
    const started = performance.now();
    await control.commit(appends, through);
    deps.onTransaction?.(inputOf(batch.topic), (performance.now() - started) / 1000);
  };
  /** A step of the run or retry topic, with where the notifier stands there: a replay of it does nothing. */
  const withPosition = (appends: TransactionalAppend[], batch: ConsumedBatch, through: string) => [...appends, { topic: topics.notifierState, records: [positionRecord(batch.topic, batch.partition, next(through))] }];
  const commitStep = async (control: BatchControl, appends: TransactionalAppend[], batch: ConsumedBatch, through: string) => {
    await commit(control, withPosition(appends, batch, through), batch, through);
    state.commit(undefined, batch.topic, batch.partition, next(through));
  };
  /** `commitStep` in the cycle's transaction; `committed` after it. */
  const stageStep = (control: BatchControl, appends: TransactionalAppend[], batch: ConsumedBatch, through: string, committed: () => void) => {
    control.stage(withPosition(appends, batch, through), through, () => {
      state.commit(undefined, batch.topic, batch.partition, next(through));
      committed();
    });
  };
  /** Records of a run or retry batch not handled before (a replay or redelivery skips the rest). */
  const unhandled = (batch: ConsumedBatch) => batch.records.filter((record) => BigInt(record.offset) >= state.position(batch.topic, batch.partition));
  let restored = true; // read before the loop starts, below
  let joins = 0;
  let unknownProjectRefreshAt = 0;

  const projectOf = async (projectId: number) => {
    let project = alerting.project(projectId);
    // A project new to the cache: its rules came before its keys on the admin log, so they are there.
    if (!project && deps.now() - unknownProjectRefreshAt > 200) {
      unknownProjectRefreshAt = deps.now();
      await alerting.refresh();
      project = alerting.project(projectId);
    }
    return project;
  };

  /** The domain log: evolve each issue's state, decide the rules, append the deliveries. */
  const decideBatch = async (batch: ConsumedBatch, control: BatchControl): Promise<void> => {
    const last = batch.records.at(-1)!.offset;
    const position = state.position(batch.topic, batch.partition);
    if (BigInt(last) < position) return; // decided before (a replay, a redelivery): nothing again
    await alerting.refreshIfStale();
    const changes = new StateChanges(state);
    const deliveries: AlertDelivery[] = [];
    for (const message of batch.records) {
      if (BigInt(message.offset) < position || message.value === null || !DECIDED.has(message.schema ?? '')) continue;
      const decoded = decodeRecord(codec, message);
      if (!decoded.ok) continue; // the projector dead-letters what cannot be read
      const record = decoded.record;
      if (record.name === 'GroupStatusChanged') {
        const issue = changes.issueOfGroup(record.value.groupId);
        if (issue) changes.set(changeStatus(issue, record.value.status));
      } else if (record.name === 'GroupDeletionRequested') {
        for (const hash of record.value.hashes) {
          const issue = changes.get(record.value.projectId, hash);
          if (issue) changes.set(deleteIssue(issue, record.value.groupId, record.value.requestedAt));
        }
      } else if (record.name === 'EventReceived') {
        let event: NormalizedEvent;
        try {
          event = JSON.parse(record.value.payload) as NormalizedEvent;
          if (!Array.isArray(event.tags)) continue;
        } catch {
          continue; // the projector dead-letters it
        }
        const { projectId, receivedAt } = record.value;
        const hash = groupHashes(event).hashes[0]!;
        const observed = observeEvent(changes.get(projectId, hash) ?? emptyState(projectId, hash), receivedAt);
        if (observed.kind === 'ignored') continue;
        // A project the cache knows needs no await (a microtask per event): most events.
        const project = alerting.project(projectId) ?? (await projectOf(projectId));
        const facts: EventFacts = { eventId: event.event_id, receivedAt, level: event.level, environment: event.environment ?? null, tags: event.tags };
        const decided = decide(project?.rules ?? [], facts, observed);
        changes.set(decided.state);
        if (!project || decided.firings.length === 0) continue; // the messages are written for firings only
        const link = issueLink(deps.publicUrl, project.organizationSlug, observed.groupId);
        const summary = summarize(event, describeIssue(event), { groupId: observed.groupId, count: observed.state.timesSeen, firstSeen: observed.state.firstSeen, link });
        deliveries.push(...plannedDeliveries(project, decided.firings, {
          position: { partition: batch.partition, offset: message.offset }, projectId, groupId: observed.groupId,
          issue: JSON.stringify(summary.issue), event: JSON.stringify(summary.event), decidedAt: receivedAt,
        }));
      }
    }
    // A batch that changed nothing is committed by the consumer alone: no transaction.
    if (changes.issues.size === 0 && deliveries.length === 0) return;
    const nextOffset = next(last);
    const now = deps.now();
    control.stage([
      { topic: topics.notifierState, records: changes.records(batch.topic, batch.partition, nextOffset) },
      { topic: topics.alertsRun, records: deliveries.map(deliveryRecord) },
      { topic: topics.events, records: deliveries.map((delivery) => deliveryChange(delivery, 'pending', 0, delivery.kind, null, now)) },
    ], last, () => {
      state.commit(changes, batch.topic, batch.partition, nextOffset);
      count('decided', deliveries.length);
    });
  };

  const readDelivery = (record: ConsumedRecord): { step: AlertDelivery } | { deadLetter: RawMessage } => {
    const decoded = decodeRecord(codec, record);
    if (decoded.ok && decoded.record.name === 'AlertDelivery') return { step: decoded.record.value };
    return { deadLetter: deadLetterOf(record, decoded.ok ? `unexpected ${decoded.record.name} on ${record.topic}` : decoded.reason) };
  };

  /** What follows one attempt: the delivery log's entry, and the retry or dead-letter record of a failure. */
  const afterAttempt = (delivery: AlertDelivery, outcome: SendOutcome, now: number): { appends: TransactionalAppend[]; counted: DeliveryOutcome } => {
    const attempts = delivery.attempt + 1;
    if (outcome.status === 'sent') return { appends: [{ topic: topics.events, records: [deliveryChange(delivery, 'sent', attempts, outcome.target, null, now)] }], counted: 'sent' };
    if (outcome.status === 'not_sent') return { appends: [{ topic: topics.events, records: [deliveryChange(delivery, 'not_sent', delivery.attempt, outcome.target, outcome.reason, now)] }], counted: 'not_sent' };
    const plan = planAttemptFailure(delivery.attempt, deps.retry, now, { permanent: outcome.permanent });
    const failed: AlertDelivery = { ...delivery, attempt: plan.attempt, dueAt: plan.dueAt, lastError: outcome.error };
    logger.warn({ deliveryId: delivery.deliveryId, attempt: plan.attempt, error: outcome.error, outcome: plan.outcome }, 'alert delivery failed');
    return {
      appends: [
        { topic: plan.outcome === 'dead' ? topics.alertsDlq : topics.alertsRetry, records: [deliveryRecord(failed)] },
        { topic: topics.events, records: [deliveryChange(delivery, plan.outcome === 'dead' ? 'dead' : 'retrying', plan.attempt, outcome.target, outcome.error, now)] },
      ],
      counted: plan.outcome,
    };
  };

  /**
   * The run topic: a chunk of deliveries at once, then one transaction with their outcomes (the
   * last chunk's in the cycle's transaction: a crash before a commit sends one chunk again at most).
   */
  const sendBatch = async (batch: ConsumedBatch, control: BatchControl): Promise<void> => {
    const chunkSize = deps.concurrency ?? 32;
    const messages = unhandled(batch);
    for (let start = 0; start < messages.length && control.owned(); start += chunkSize) {
      const chunk = messages.slice(start, start + chunkSize);
      const reads = chunk.map(readDelivery);
      const outcomes = await deps.send(reads.flatMap((read) => ('step' in read ? [read.step] : [])));
      const now = deps.now();
      let sent = 0;
      const results = reads.map((read) => {
        if (!('step' in read)) return { appends: [{ topic: topics.alertsDlq, raw: [read.deadLetter] }], counted: 'dead_letter' as DeliveryOutcome };
        return afterAttempt(read.step, outcomes[sent++]!, now);
      });
      const appends = results.flatMap((result) => result.appends);
      const counted = () => results.forEach((result) => count(result.counted));
      if (start + chunkSize < messages.length) {
        await commitStep(control, appends, batch, chunk.at(-1)!.offset);
        counted();
      } else stageStep(control, appends, batch, chunk.at(-1)!.offset, counted);
    }
  };

  /**
   * The retry topic: of what was read, everything up to the last due delivery is handled (the due
   * ones back to `run`, the others to the tail of the retry topic), so a delivery due sooner never
   * waits behind one due later; then the partition rests until its earliest delivery is due.
   */
  const release = async (batch: ConsumedBatch, control: BatchControl): Promise<void> => {
    const messages = unhandled(batch);
    const skipped = batch.records.length - messages.length; // handled before: a prefix of the batch
    if (skipped > 0) control.handled(batch.records[skipped - 1]!.offset);
    const records = messages.map((message) => {
      const read = readDelivery(message);
      return { offset: message.offset, dueAt: 'step' in read ? read.step.dueAt : null, item: read };
    });
    const plan = planHeld(records, deps.now(), HELD_SETTINGS);
    const deliveries = (reads: (typeof records)[number]['item'][]) => reads.flatMap((read) => ('step' in read ? [deliveryRecord(read.step)] : []));
    for (const transaction of plan.transactions) {
      if (!control.owned()) return;
      await commitStep(control, [
        { topic: topics.alertsRun, records: deliveries(transaction.released) },
        { topic: batch.topic, records: deliveries(transaction.deferred) },
        { topic: topics.alertsDlq, raw: transaction.deadLettered.flatMap((read) => ('deadLetter' in read ? [read.deadLetter] : [])) },
      ], batch, transaction.through);
      count('dead_letter', transaction.deadLettered.length);
    }
    if (plan.recheckMs !== undefined) control.holdFor(plan.recheckMs);
  };

  logger.info({ records: await state.restore() }, 'notifier state restored from its changelog');
  const loop = await startConsumeLoop({
    client: settingsOf(deps.kafka),
    groupId: deps.groupId,
    topics: [topics.events, topics.alertsRun, topics.alertsRetry],
    transactions: deps.appender,
    metrics: deps.metrics,
    // Each fetch brings up to 200 ms of events (at 1,000/s about 200 of them, 512 KB): every batch is a
    // transaction and writes the state of each issue it touched, and fewer of them cost less CPU than
    // the wait adds latency (bench/results/2026-12-02-alerts.md, 2026-12-03-alerts-cpu.md).
    fetchMaxWaitMs: 200,
    fetchMinBytes: 512 * 1024,
    // An alert waits for no fuller batch, and a delivery decided in one cycle is sent at the start of the next.
    takeFetched: true,
    firstTopics: [topics.alertsRun, topics.alertsRetry],
    onCycleTransaction: (partitions, seconds) => deps.onTransaction?.([...new Set(partitions.map(({ topic }) => inputOf(topic)))].sort().join('+'), seconds),
    sessionTimeoutMs: deps.sessionTimeoutMs,
    maxPollIntervalMs: deps.maxPollIntervalMs,
    // A rebalance may hand this instance partitions another one decided: their state is read again.
    onJoin: () => {
      if (joins++ > 0) restored = false;
    },
    handle: async (batch, control) => {
      if (!restored) {
        logger.info({ records: await state.restore() }, 'notifier state read again from its changelog after a rebalance');
        restored = true;
      }
      if (batch.topic === topics.events) await decideBatch(batch, control);
      else if (batch.topic === topics.alertsRun) await sendBatch(batch, control);
      else await release(batch, control);
    },
  });
  return { check: () => loop.check(), stop: () => loop.stop() };
}
