import type { ConsumedRecord, TransactionalAppend } from '@trapline/runtime';
import type { DeletionStep } from '@trapline/schemas';
import { completedAudit, eventsTopicKeys, expiryAudits, planChunk, planFailure, planWait, type ExpiredProject } from '../domain/deletion.ts';
import { readStep, stepRecord, type StepContext, type StepOutcome, type StepResult } from './step.ts';

// Run: one chunk of a running deletion — EventsPurged plus a null-value record per event key on
// `events`, then the next chunk on `run`, or the `completed` audit entry; a failed chunk goes to
// `retry` with a growing delay, or to `dlq` after the last attempt.

/** What one record of `run` leads to: the step's appends and its outcome. */
export async function run(record: ConsumedRecord, context: StepContext): Promise<StepResult> {
  const read = readStep(context.codec, record);
  if (!('step' in read)) return { appends: [{ topic: context.topics.deletionsDlq, raw: [read.deadLetter] }], happened: { dead_letter: 1 } };
  const { appends, outcome } = await runStep(read.step, context);
  return { appends, happened: { [outcome]: 1 } };
}

async function runStep(step: DeletionStep, context: StepContext): Promise<{ appends: TransactionalAppend[]; outcome: StepOutcome }> {
  const { source, topics, settings, logger } = context;
  let found;
  let organization;
  let expired: { projects: ExpiredProject[]; partitions: number } | undefined;
  try {
    if (step.chunks === 0 && step.cursor === null && !(await context.projectorApplied(step))) {
      const waiting = planWait(step, 'waiting for the projector to apply the request', settings, context.now());
      return { appends: [{ topic: topics.deletionsRetry, records: [stepRecord(waiting)] }], outcome: 'waiting' };
    }
    found = await source.nextChunk(step, step.kind === 'expiry' ? settings.expiryChunkSize : settings.chunkSize);
    // An expiry covers every project: its summaries name each project's organization at the end.
    organization = step.kind === 'expiry' ? '' : await source.organizationOf(step.projectId);
    if (step.kind === 'expiry' && found.final) {
      const cutoff = step.cutoff!;
      expired = { projects: await source.expirySummary(cutoff), partitions: (await source.partitions()).filter((range) => range.to * 1000 <= cutoff).length };
    }
  } catch (error) {
    const plan = planFailure(step, (error as Error).message, settings, context.now());
    logger.warn({ transactionId: step.transactionId, attempt: plan.failed.attempt, reason: plan.failed.reason, outcome: plan.outcome }, 'deletion step failed');
    return {
      appends: [
        { topic: plan.outcome === 'dead' ? topics.deletionsDlq : topics.deletionsRetry, records: [stepRecord(plan.step)] },
        { topic: topics.events, records: [{ key: eventsTopicKeys.failure(step), name: 'DeletionFailed', value: plan.failed }] },
      ],
      outcome: plan.outcome,
    };
  }
  const { purged, next } = planChunk(step, found, settings, context.now());
  const erasures = purged.eventIds.map((eventId) => ({ key: eventsTopicKeys.erasure(purged.projectId, eventId), tombstone: true as const }));
  const appends: TransactionalAppend[] = [{ topic: topics.events, records: [{ key: eventsTopicKeys.purge(purged), name: 'EventsPurged', value: purged }, ...erasures] }];
  if (next) {
    appends.push({ topic: topics.deletionsRun, records: [stepRecord(next)] });
    return { appends, outcome: 'chunk' };
  }
  const audits = expired ? expiryAudits(step, purged, expired.projects, expired.partitions) : [completedAudit(step, purged, organization)];
  if (audits.length > 0) appends.push({ topic: topics.audit, records: audits.map((audit) => ({ key: audit.id, name: 'AuditEntry' as const, value: audit })) });
  logger.info({ transactionId: step.transactionId, eventsRemoved: purged.eventsRemoved, rowsRemoved: purged.rowsRemoved, chunks: purged.chunk + 1 }, 'deletion completed');
  return { appends, outcome: 'completed' };
}
