import type { PoolClient } from '@trapline/runtime';
import type { AuditEntry } from '@trapline/schemas';
import { PoisonRecord } from './effects.ts';

// The audit log, from the audit topic: one row per entry, keyed by its id.

const toDate = (epochMs: number) => new Date(epochMs);

export async function applyAuditEntry(db: PoolClient, record: AuditEntry): Promise<void> {
  let data: unknown;
  try {
    data = JSON.parse(record.data);
  } catch (error) {
    throw new PoisonRecord(`AuditEntry data is not JSON: ${(error as Error).message}`);
  }
  await db.query(
    `INSERT INTO audit_log (id, organization_slug, project_id, event, actor, transaction_id, target_object, data, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
    [record.id, record.organizationSlug, record.projectId, record.event, record.actor, record.transactionId, record.targetObject, JSON.stringify(data), toDate(record.createdAt)],
  );
}
