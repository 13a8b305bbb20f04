import type { PoolClient } from '@trapline/runtime';
import type { GroupStatusChanged } from '@trapline/schemas';

// An issue's status (resolved, ignored, unresolved). It remembers the offset that set it, so an
// older status change applied again cannot undo what came after it; a pending deletion is final.

const toDate = (epochMs: number) => new Date(epochMs);

/** A resolution remembers its release, if it names one: it decides which later events regress. */
export async function applyStatusChange(db: PoolClient, record: GroupStatusChanged, offset: number): Promise<void> {
  const resolved = record.status === 'resolved';
  await db.query(
    `UPDATE groups SET status = $3, status_offset = $4, resolved_in_release = $5, resolved_in_next_release = $6, resolved_at = $7
     WHERE id = $1 AND project_id = $2 AND status <> 'pending_deletion' AND status_offset <= $4`,
    [record.groupId, record.projectId, record.status, offset, resolved ? (record.inRelease ?? null) : null, resolved ? (record.inNextRelease ?? null) : null, resolved ? toDate(record.changedAt) : null],
  );
}
