import { type Admin, type ConsumeLoop, type Kafka, type Logger, settingsOf, startConsumeLoop, type TransactionalAppender } from '@trapline/runtime';
import type { Codec, DeletionStep, TopicNames } from '@trapline/schemas';
import type { Registry } from 'prom-client';
import type { DeletionSettings } from './domain/deletion.ts';
import type { DeletionSource } from './adapters/source.ts';
import { intake } from './steps/intake.ts';
import { release } from './steps/release.ts';
import { run } from './steps/run.ts';
import type { StepContext, StepOutcome, StepResult } from './steps/step.ts';

// The deleter: one consumer group over four inputs, each handled by one step, and every step's
// appends committed with its input offset in one Kafka transaction (with the consumer's group
// metadata: a deleter that lost the partition meanwhile cannot commit):
//   events       → intake  (requests become held steps and `requested` audit entries)
//   delay, retry → release (due steps move to `run`; the partition rests until the next is due)
//   run          → run     (one chunk per step, the next chunk or the completion)

export type { StepOutcome };

export interface DeleterDeps {
  kafka: Kafka;
  codec: Codec;
  appender: TransactionalAppender;
  source: DeletionSource;
  topics: TopicNames;
  groupId: string;
  projectorGroup: string;
  settings: DeletionSettings;
  logger: Logger;
  now: () => number;
  metrics?: Registry;
  sessionTimeoutMs?: number;
  maxPollIntervalMs?: number;
  onOutcome?: (outcome: StepOutcome, count: number) => void;
}

export interface Deleter {
  /** Readiness of its consumer. */
  check(): string | undefined;
  stop(): Promise<void>;
}

export async function startDeleter(deps: DeleterDeps): Promise<Deleter> {
  const { topics } = deps;
  const admin: Admin = deps.kafka.admin();
  await admin.connect();
  const context: StepContext = {
    codec: deps.codec, source: deps.source, topics, settings: deps.settings, logger: deps.logger, now: deps.now,
    projectorApplied: async (step: DeletionStep) => {
      const [offsets] = await admin.fetchOffsets({ groupId: deps.projectorGroup, topics: [topics.events] });
      const committed = offsets?.partitions.find((entry) => entry.partition === step.requestPartition)?.offset ?? '-1';
      return BigInt(committed) > BigInt(step.requestOffset);
    },
  };
  // Counted once the step's transaction committed, so a step read again counts once.
  const count = ({ happened }: StepResult) => {
    for (const [outcome, n] of Object.entries(happened)) if (n) deps.onOutcome?.(outcome as StepOutcome, n);
  };
  const loop: ConsumeLoop = await startConsumeLoop({
    client: settingsOf(deps.kafka),
    groupId: deps.groupId,
    topics: [topics.events, topics.deletionsDelay, topics.deletionsRetry, topics.deletionsRun],
    transactions: deps.appender,
    metrics: deps.metrics,
    // The deleter reads the whole events log for its few requests: waiting for 512 KB or 100 ms
    // takes several of ingest's produce requests together.
    fetchMaxWaitMs: 100,
    fetchMinBytes: 512 * 1024,
    sessionTimeoutMs: deps.sessionTimeoutMs,
    maxPollIntervalMs: deps.maxPollIntervalMs,
    handle: async (batch, control) => {
      if (batch.topic === topics.events) {
        // Most batches of the domain log hold no request: no transaction, the loop commits past them.
        const result = await intake(batch.records, context);
        if (result.appends.length > 0) await control.commit(result.appends, batch.records.at(-1)!.offset);
        count(result);
      } else if (batch.topic === topics.deletionsRun) {
        for (const record of batch.records) {
          if (!control.owned()) return;
          const result = await run(record, context);
          await control.commit(result.appends, record.offset);
          count(result);
        }
      } else {
        const plan = release(batch.records, context);
        for (const transaction of plan.transactions) {
          if (!control.owned()) return;
          await control.commit(transaction.appends, transaction.through);
          count(transaction);
        }
        if (plan.recheckMs !== undefined) control.holdFor(plan.recheckMs);
      }
    },
  });
  return {
    check: () => loop.check(),
    stop: async () => {
      await loop.stop();
      await admin.disconnect();
    },
  };
}
