import { type ConsumedRecord, type HeldSettings, planHeld } from '@trapline/runtime';
import { readStep, stepRecord, type StepContext, type StepResult } from './step.ts';

// Release: on `delay` and `retry`, of what was read, everything up to the last due step is handled
// (the due ones released to `run`, the others put back at the tail), so a step due sooner never
// waits behind one due later; then the partition rests until its earliest step is due, or the
// recheck bound (planHeld, packages/runtime/src/held-steps.ts).

// A partition holding steps not due is read again at least once a second: a step due sooner may
// have arrived behind them. Steps are a few hundred bytes: 100 per transaction is far below a request's limit.
const HELD_SETTINGS: HeldSettings = { recheckMs: 1000, perTransaction: 100 };

export interface ReleasePlan {
  /** Each one transaction, committing the input past `through`. */
  transactions: (StepResult & { through: string })[];
  /** How long the partition rests before it is read again from the first record not handled. */
  recheckMs: number | undefined;
}

export function release(records: ConsumedRecord[], context: Pick<StepContext, 'codec' | 'topics' | 'now'>): ReleasePlan {
  const { topics } = context;
  const reads = records.map((record) => {
    const read = readStep(context.codec, record);
    return { offset: record.offset, dueAt: 'step' in read ? read.step.dueAt : null, item: read };
  });
  const plan = planHeld(reads, context.now(), HELD_SETTINGS);
  const steps = (items: (typeof reads)[number]['item'][]) => items.flatMap((read) => ('step' in read ? [stepRecord(read.step)] : []));
  return {
    recheckMs: plan.recheckMs,
    transactions: plan.transactions.map((transaction) => ({
      through: transaction.through,
      appends: [
        { topic: topics.deletionsRun, records: steps(transaction.released) },
        { topic: records[0]!.topic, records: steps(transaction.deferred) },
        { topic: topics.deletionsDlq, raw: transaction.deadLettered.flatMap((read) => ('deadLetter' in read ? [read.deadLetter] : [])) },
      ],
      happened: { released: transaction.released.length, deferred: transaction.deferred.length, dead_letter: transaction.deadLettered.length },
    })),
  };
}
