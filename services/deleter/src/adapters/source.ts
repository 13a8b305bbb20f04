import type { Pool } from '@trapline/runtime';
import type { DeletionStep } from '@trapline/schemas';
import type { ChunkFound } from '../domain/deletion.ts';

// What the deleter reads from the read models: which organization a project belongs to, what a
// deletion targets (for the audit entry), and the next chunk of events to remove.

export class DeletionSource {
  private readonly organizations = new Map<number, string>();

  constructor(private readonly pool: Pool) {}

  async organizationOf(projectId: number): Promise<string> {
    const cached = this.organizations.get(projectId);
    if (cached) return cached;
    const result = await this.pool.query<{ organization_slug: string }>('SELECT organization_slug FROM projects WHERE id = $1', [projectId]);
    const slug = result.rows[0]?.organization_slug;
    if (!slug) throw new Error(`project ${projectId} is not in the read model yet`);
    this.organizations.set(projectId, slug);
    return slug;
  }

  /** What the audit entry names: the issue's id and title, or the event's id and issue. */
  async target(step: DeletionStep): Promise<Record<string, unknown>> {
    if (step.kind === 'group') {
      const group = await this.pool.query<{ title: string }>('SELECT title FROM groups WHERE id = $1', [step.groupId]);
      return { issueId: String(step.groupId), title: group.rows[0]?.title ?? null };
    }
    const event = await this.pool.query<{ group_id: number }>('SELECT group_id FROM events WHERE project_id = $1 AND event_id = $2', [step.projectId, step.eventId]);
    return { eventId: step.eventId, issueId: event.rows[0] ? String(event.rows[0].group_id) : null };
  }

  /**
   * The next chunk after the step's cursor, by event id (so a chunk is never read twice, whether or
   * not the projector has applied the previous purge yet), with the rows each event carries.
   */
  async nextChunk(step: DeletionStep, chunkSize: number): Promise<ChunkFound> {
    const result = await this.pool.query<{ event_id: string; rows: number }>(
      `SELECT e.event_id, 1 + (SELECT count(*) FROM event_tags t WHERE t.project_id = e.project_id AND t.event_id = e.event_id)::int AS rows
       FROM events e
       WHERE e.project_id = $1 AND ${step.kind === 'group' ? 'e.group_id = $2' : 'e.event_id = $2'} AND ($3::text IS NULL OR e.event_id > $3)
       ORDER BY e.event_id LIMIT $4`,
      [step.projectId, step.kind === 'group' ? step.groupId : step.eventId, step.cursor, chunkSize],
    );
    const rows = result.rows.reduce((sum, row) => sum + row.rows, 0);
    // A single event's key is erased from the log even if the read model never held it.
    if (step.kind === 'event') return { eventIds: [step.eventId!], rows };
    return { eventIds: result.rows.map((row) => row.event_id), rows };
  }
}
