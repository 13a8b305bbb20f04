import { listEventPartitions, type PartitionRange, type Pool } from '@trapline/runtime';
import type { DeletionStep } from '@trapline/schemas';
import type { ChunkFound, ExpiredProject } from '../domain/deletion.ts';
import type { ProjectRetention } from '../domain/retention.ts';

// What the deleter reads from the read models: which organization a project belongs to, what a
// deletion targets (for the audit entry), and the next chunk of events to remove.

/** An event's row in `events` for its entry in `event_ids` (`d`): the received time completes the key. */
const SAME_EVENT = 'e.project_id = d.project_id AND e.received_at = d.received_at AND e.event_id = d.event_id';

const sumRows = (rows: { rows: number }[]) => rows.reduce((sum, row) => sum + row.rows, 0);

/** Where a walk in received order stopped: `<ms>:<event id>`, or null before the first event. */
function afterTime(cursor: string | null): [Date | string, string] {
  if (cursor === null) return ['-infinity', ''];
  const separator = cursor.indexOf(':');
  return [new Date(Number(cursor.slice(0, separator))), cursor.slice(separator + 1)];
}

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
    const event = await this.pool.query<{ group_id: number }>(
      `SELECT e.group_id FROM event_ids d JOIN events e ON ${SAME_EVENT} WHERE d.project_id = $1 AND d.event_id = $2`,
      [step.projectId, step.eventId],
    );
    return { eventId: step.eventId, issueId: event.rows[0] ? String(event.rows[0].group_id) : null };
  }

  /**
   * The next chunk after the step's cursor, in key order (so a chunk is never read twice, whether
   * or not the projector has applied the previous purge yet), with the rows each event carries.
   */
  async nextChunk(step: DeletionStep, chunkSize: number): Promise<ChunkFound> {
    if (step.kind === 'retention') return this.nextRetentionChunk(step, chunkSize);
    if (step.kind === 'expiry') return this.nextExpiryChunk(step, chunkSize);
    if (step.kind === 'event') {
      const event = await this.pool.query<{ rows: number }>(
        `SELECT 1 + cardinality(e.tag_keys) AS rows FROM event_ids d JOIN events e ON ${SAME_EVENT} WHERE d.project_id = $1 AND d.event_id = $2`,
        [step.projectId, step.eventId],
      );
      // A single event's key is erased from the log even if the read model never held it.
      return { eventIds: [step.eventId!], rows: event.rows[0]?.rows ?? 0, cursor: null };
    }
    // A walk begun by an earlier version went in event id order, its cursor a bare event id: it goes
    // on in that order, so that no chunk is read twice.
    if (step.cursor !== null && !step.cursor.includes(':')) {
      const result = await this.pool.query<{ event_id: string; rows: number }>(
        `SELECT e.event_id, 1 + cardinality(e.tag_keys) AS rows FROM events e
         WHERE e.project_id = $1 AND e.group_id = $2 AND e.event_id > $3 ORDER BY e.event_id LIMIT $4`,
        [step.projectId, step.groupId, step.cursor, chunkSize],
      );
      return { eventIds: result.rows.map((row) => row.event_id), rows: sumRows(result.rows), cursor: result.rows.at(-1)?.event_id ?? null };
    }
    return this.walkByTime('e.group_id = $2', [step.projectId, step.groupId], step.cursor, chunkSize);
  }

  /**
   * A project's events received before the cutoff, oldest first.
   * The first chunk also counts the issues whose last event is before the cutoff: they go with it.
   */
  private async nextRetentionChunk(step: DeletionStep, chunkSize: number): Promise<ChunkFound> {
    const cutoff = new Date(step.cutoff!);
    const found = await this.walkByTime('e.received_at < $2', [step.projectId, cutoff], step.cursor, chunkSize);
    if (step.cursor !== null) return found;
    const issues = await this.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM groups WHERE project_id = $1 AND last_seen < $2 AND status <> 'pending_deletion'",
      [step.projectId, cutoff],
    );
    return { ...found, issues: issues.rows[0]!.n };
  }

  /**
   * The next chunk of a project's events (`$1`) that match `filter`, in the order they were
   * received, along the index on (project or issue, received_at, event_id); the cursor is
   * `<ms>:<event id>`.
   */
  private async walkByTime(filter: string, params: [number, unknown], cursor: string | null, chunkSize: number): Promise<ChunkFound> {
    const result = await this.pool.query<{ event_id: string; received_at: Date; rows: number }>(
      `SELECT e.event_id, e.received_at, 1 + cardinality(e.tag_keys) AS rows FROM events e
       WHERE e.project_id = $1 AND ${filter} AND (e.received_at, e.event_id) > ($3::timestamptz, $4)
       ORDER BY e.received_at, e.event_id LIMIT $5`,
      [...params, ...afterTime(cursor), chunkSize],
    );
    const last = result.rows.at(-1);
    return { eventIds: result.rows.map((row) => row.event_id), rows: sumRows(result.rows), cursor: last ? `${last.received_at.getTime()}:${last.event_id}` : null };
  }

  /**
   * An expiry's next chunk: events of one project received before the cutoff, in the order of the
   * events' key (project, received_at, event id) after the cursor `<project>:<ms>:<event id>`.
   * Only log records are erased chunk by chunk (the final chunk drops the partitions), so the
   * chunk carries no row count.
   */
  private async nextExpiryChunk(step: DeletionStep, chunkSize: number): Promise<ChunkFound> {
    const cutoff = new Date(step.cutoff!);
    // The cursor's project, and what follows it: the position in that project's events.
    const separator = step.cursor?.indexOf(':') ?? -1;
    const after = step.cursor === null ? -1 : Number(step.cursor.slice(0, separator));
    const rest = step.cursor?.slice(separator + 1) ?? null;
    // Begun by an earlier version, in (project, event id) order, its cursor `<project>:<event id>`:
    // it goes on in that order.
    const legacy = rest !== null && !rest.includes(':');
    const result = legacy
      ? await this.pool.query<{ project_id: number; event_id: string; received_at: Date }>(
          'SELECT project_id, event_id, received_at FROM events WHERE received_at < $1 AND (project_id, event_id) > ($2, $3) ORDER BY project_id, event_id LIMIT $4',
          [cutoff, after, rest, chunkSize + 1],
        )
      : await this.pool.query<{ project_id: number; event_id: string; received_at: Date }>(
          `SELECT project_id, event_id, received_at FROM events WHERE received_at < $1 AND (project_id, received_at, event_id) > ($2, $3::timestamptz, $4)
           ORDER BY project_id, received_at, event_id LIMIT $5`,
          [cutoff, after, ...afterTime(rest), chunkSize + 1],
        );
    const projectId = result.rows[0]?.project_id ?? step.projectId;
    const taken = result.rows.filter((row) => row.project_id === projectId).slice(0, chunkSize);
    const last = taken.at(-1);
    return {
      eventIds: taken.map((row) => row.event_id),
      rows: 0,
      cursor: last ? (legacy ? `${last.project_id}:${last.event_id}` : `${last.project_id}:${last.received_at.getTime()}:${last.event_id}`) : step.cursor,
      projectId,
      final: taken.length === result.rows.length,
    };
  }

  /** Per project, what an expiry to `cutoff` removes: events, tags and the issues with nothing newer. */
  async expirySummary(cutoff: number): Promise<ExpiredProject[]> {
    const result = await this.pool.query<{ project_id: number; organization_slug: string; events: number; tags: number; issues: number }>(
      `WITH e AS (SELECT project_id, count(*)::bigint AS n, sum(cardinality(tag_keys))::bigint AS tags FROM events WHERE received_at < $1 GROUP BY project_id),
            g AS (SELECT project_id, count(*)::bigint AS n FROM groups WHERE last_seen < $1 AND status <> 'pending_deletion' GROUP BY project_id)
       SELECT e.project_id, p.organization_slug, e.n AS events, e.tags, COALESCE(g.n, 0) AS issues
       FROM e JOIN projects p ON p.id = e.project_id LEFT JOIN g ON g.project_id = e.project_id
       ORDER BY e.project_id`,
      [new Date(cutoff)],
    );
    return result.rows.map((row) => ({ projectId: row.project_id, organizationSlug: row.organization_slug, events: row.events, tags: row.tags, issues: row.issues }));
  }

  /** The events table's time partitions, oldest first. */
  async partitions(): Promise<PartitionRange[]> {
    return listEventPartitions(this.pool);
  }

  /** Whether an expiry is under way. */
  async expiryRunning(): Promise<boolean> {
    const result = await this.pool.query("SELECT 1 FROM deletions WHERE kind = 'expiry' AND state <> 'done' LIMIT 1");
    return result.rows.length > 0;
  }

  /** Per project: its retention (null: the global one), its oldest event, and whether a retention deletion is under way. */
  async retentionState(): Promise<ProjectRetention[]> {
    const result = await this.pool.query<{ project_id: number; retention_days: number | null; oldest: Date | null; running: boolean }>(
      `SELECT p.id AS project_id, r.retention_days,
         (SELECT min(e.received_at) FROM events e WHERE e.project_id = p.id) AS oldest,
         EXISTS (SELECT 1 FROM deletions d WHERE d.project_id = p.id AND d.kind = 'retention' AND d.state <> 'done') AS running
       FROM projects p LEFT JOIN project_retention r ON r.project_id = p.id ORDER BY p.id`,
    );
    return result.rows.map((row) => ({ projectId: row.project_id, retentionDays: row.retention_days, oldest: row.oldest?.getTime() ?? null, running: row.running }));
  }
}
