import type { ConsumedRecord } from '@trapline/runtime';
import { decodeRecord } from '@trapline/runtime';
import { requestedAudit, scheduleDeletion, type DeletionRequest } from '../domain/deletion.ts';
import { stepRecord, type StepContext, type StepResult } from './step.ts';

// Intake: deletion requests on the domain log become a held step on `delay` and a `requested`
// audit entry (retention and expiry requests go straight to `run`, audited only by their summary).

const REQUESTS = new Set(['GroupDeletionRequested', 'EventDeletionRequested', 'RetentionRequested']);

/**
 * The requests among `records` (one partition of the domain log). Throws while a request's project
 * is not projected yet (the batch is read again later); a request the projector applied and still
 * cannot be taken in (a project that does not exist) goes to the DLQ, and the partition moves on.
 */
export async function intake(records: ConsumedRecord[], context: StepContext): Promise<StepResult> {
  const { codec, source, topics, settings, logger } = context;
  const result: StepResult = { appends: [], happened: {} };
  const add = (outcome: 'scheduled' | 'dead_letter') => (result.happened[outcome] = (result.happened[outcome] ?? 0) + 1);
  for (const record of records) {
    if (!REQUESTS.has(record.schema ?? '')) continue;
    const decoded = decodeRecord(codec, record);
    if (!decoded.ok) continue; // the projector dead-letters undecodable records of this topic
    const step = scheduleDeletion(decoded.record as DeletionRequest, { partition: record.partition, offset: record.offset }, settings);
    const held = step.kind !== 'retention' && step.kind !== 'expiry';
    let audit;
    try {
      audit = held ? requestedAudit(step, await source.organizationOf(step.projectId), await source.target(step)) : undefined;
    } catch (error) {
      if (!(await context.projectorApplied(step))) throw error;
      const reason = `cannot take the request in: ${(error as Error).message}`;
      result.appends.push({ topic: topics.deletionsDlq, records: [stepRecord({ ...step, lastError: reason })] });
      add('dead_letter');
      logger.warn({ transactionId: step.transactionId, reason }, 'deletion request dead-lettered');
      continue;
    }
    result.appends.push({ topic: held ? topics.deletionsDelay : topics.deletionsRun, records: [stepRecord(step)] });
    if (audit) result.appends.push({ topic: topics.audit, records: [{ key: audit.id, name: 'AuditEntry', value: audit }] });
    add('scheduled');
    logger.info({ transactionId: step.transactionId, kind: step.kind, dueAt: new Date(step.dueAt).toISOString() }, 'deletion scheduled');
  }
  return result;
}
