import { type ConsumedBatch, type ConsumedRecord, deadLetterOf, ExpiredPartitionError, inTransaction, type PartitionRange, type Pool, type PoolClient, type RawMessage, RECORD_POSITION_SQL } from '@trapline/runtime';
import type { Step } from '../domain/batch.ts';
import { applyEvents, applyRecord, applyRemoval, type ApplyContext, combinedEffects, type Effects, PoisonRecord } from '../read-models/index.ts';

// Apply: a batch's steps (domain/batch.ts) in one Postgres transaction, with the batch's position,
// returning what the read models left to do once it has committed and what was dead-lettered.

export interface BatchResult {
  /** Records applied to the read models, by record name. */
  projected: Map<string, number>;
  /** Records for the dead-letter topic: never decodable, or refused by Postgres. */
  deadLetters: RawMessage[];
  effects: Effects;
  /** The partitions the batch knew of at its end (the consumer's cache, once the batch has committed). */
  partitions: PartitionRange[];
}

/**
 * Names the advisory lock each batch's transaction takes shared, in the schema it writes:
 * `trapline rebuild` takes it exclusively on `public` to hold the running projector still while it
 * hands over to the rebuilt tables (see rebuild/rebuild.ts).
 */
export const handoverLockName = (schema: string) => `${schema}.projector handover`;

/**
 * Postgres found no partition for a row: one was dropped under this process's cache (an expiry run
 * by another instance). Not the record's fault: the batch is tried again with a fresh cache.
 */
function isMissingPartition(error: unknown): boolean {
  return (error as { code?: unknown }).code === '23514' && /no partition of relation/.test((error as Error).message);
}

/** Postgres refuses the data itself (bad text, constraint): retrying would fail forever. */
function isPoisonError(error: unknown): boolean {
  if (error instanceof PoisonRecord) return true;
  if (isMissingPartition(error) || error instanceof ExpiredPartitionError) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

type Attempt = { applied: Effects } | { refused: Error };

/** `apply` in a savepoint: a record Postgres refuses rolls back to it and is the attempt's answer. */
async function inSavepoint(db: PoolClient, name: string, context: ApplyContext, apply: () => Promise<Effects>): Promise<Attempt> {
  await db.query(`SAVEPOINT ${name}`);
  try {
    const applied = await apply();
    await db.query(`RELEASE SAVEPOINT ${name}`);
    return { applied };
  } catch (error) {
    if (!isPoisonError(error)) throw error;
    await db.query(`ROLLBACK TO SAVEPOINT ${name}`);
    context.partitions.length = 0; // a partition made in the savepoint is gone with it
    return { refused: error as Error };
  }
}

/** What the batch's steps came to so far. */
class Tally {
  readonly projected = new Map<string, number>();
  readonly deadLetters: RawMessage[] = [];
  readonly effects: Effects[] = [];

  applied(name: string, effects: Effects, records = 1): void {
    this.effects.push(effects);
    this.projected.set(name, (this.projected.get(name) ?? 0) + records);
  }

  /** One record's attempt: applied, or `message` dead-lettered when Postgres refused it. */
  take(attempt: Attempt, name: string, message: ConsumedRecord): void {
    if ('applied' in attempt) this.applied(name, attempt.applied);
    else this.deadLetters.push(deadLetterOf(message, `cannot apply ${name}: ${attempt.refused.message}`));
  }
}

async function applyStep(db: PoolClient, step: Step, context: ApplyContext, tally: Tally): Promise<void> {
  switch (step.kind) {
    case 'dead-letter':
      tally.deadLetters.push(step.message);
      return;
    case 'removal':
      return applyRemoval(db, step.key);
    case 'record':
      // One record, in a savepoint: a record Postgres refuses goes to the dead letters alone.
      return tally.take(await inSavepoint(db, 'record', context, () => applyRecord(db, step.record, context, Number(step.message.offset))), step.record.name, step.message);
    case 'events': {
      // A run of consecutive events in a few multi-row statements; if Postgres refuses the run,
      // its events one by one, so only the bad one is dead-lettered.
      const run = await inSavepoint(db, 'run', context, () => applyEvents(db, step.events.map((entry) => entry.parsed), context));
      if ('applied' in run) return tally.applied('EventReceived', run.applied, step.events.length);
      for (const { message, parsed } of step.events) tally.take(await inSavepoint(db, 'record', context, () => applyEvents(db, [parsed], context)), 'EventReceived', message);
    }
  }
}

/** Throws when the batch must be read again (its transaction rolled back): for anything but a record's own fault. */
export async function applyBatch(pool: Pool, batch: ConsumedBatch, steps: Step[], context: ApplyContext): Promise<BatchResult> {
  const tally = new Tally();
  await inTransaction(pool, async (db) => {
    await db.query(`SELECT pg_advisory_xact_lock_shared(hashtext(current_schema() || $1))`, [handoverLockName('')]);
    for (const step of steps) await applyStep(db, step, context, tally);
    // Also wakes the API requests waiting for these records (read your own writes) once this commits.
    await db.query(RECORD_POSITION_SQL, [batch.topic, batch.partition, Number(batch.records.at(-1)!.offset) + 1]);
  });
  return { projected: tally.projected, deadLetters: tally.deadLetters, effects: combinedEffects(tally.effects), partitions: context.partitions };
}
