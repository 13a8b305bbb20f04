import { type ConsumedRecord, decodeRecord, deadLetterOf, type Logger, type RawMessage, type TransactionalAppend } from '@trapline/runtime';
import type { Codec, DeletionStep, TopicNames } from '@trapline/schemas';
import type { DeletionSettings } from '../domain/deletion.ts';
import type { DeletionSource } from '../adapters/source.ts';

// What the deleter's three steps (intake, release, run) share: what they read with, and the shape
// of what they return — the records to append in the step's transaction and what happened.

export type StepOutcome = 'scheduled' | 'released' | 'deferred' | 'chunk' | 'completed' | 'waiting' | 'retry' | 'dead' | 'dead_letter';

export interface StepResult {
  appends: TransactionalAppend[];
  happened: Partial<Record<StepOutcome, number>>;
}

export interface StepContext {
  codec: Codec;
  source: DeletionSource;
  topics: TopicNames;
  settings: DeletionSettings;
  logger: Logger;
  now: () => number;
  /** Has the projector applied the request (so every event it hides is in the read model)? */
  projectorApplied(step: DeletionStep): Promise<boolean>;
}

/** A record of the deleter's own topics: a DeletionStep, or its dead letter when it is not one. */
export function readStep(codec: Codec, record: ConsumedRecord): { step: DeletionStep } | { deadLetter: RawMessage } {
  const decoded = decodeRecord(codec, record);
  if (decoded.ok && decoded.record.name === 'DeletionStep') return { step: decoded.record.value };
  return { deadLetter: deadLetterOf(record, decoded.ok ? `unexpected ${decoded.record.name} on ${record.topic}` : decoded.reason) };
}

export const stepRecord = (step: DeletionStep) => ({ key: step.transactionId, name: 'DeletionStep' as const, value: step });
