import type { Pool } from '@trapline/runtime';
import type { EventRow, GroupRow, ProjectRow } from '../domain/serialize.ts';

// Queries over the projected read models. Everything pending deletion is invisible here.

export interface TokenRow {
  token_hash: string;
  organization_slug: string;
  scopes: string[];
  active: boolean;
}

const GROUP_COLUMNS = `g.id, g.project_id, g.short_id, g.title, g.culprit, g.type, g.metadata, g.level, g.platform, g.logger, g.status,
  g.first_seen, g.last_seen, g.times_seen,
  (SELECT count(DISTINCT e.user_ident) FROM events e WHERE e.group_id = g.id AND e.user_ident IS NOT NULL AND NOT e.pending_deletion)::int AS user_count`;

export class ReadModel {
  constructor(private readonly pool: Pool) {}

  async token(tokenHash: string): Promise<TokenRow | undefined> {
    const result = await this.pool.query<TokenRow>('SELECT token_hash, organization_slug, scopes, active FROM api_tokens WHERE token_hash = $1', [tokenHash]);
    return result.rows[0];
  }

  async organizationExists(slug: string): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM organizations WHERE slug = $1', [slug])).rowCount ?? 0) > 0;
  }

  async project(organizationSlug: string, projectSlug: string): Promise<ProjectRow | undefined> {
    const result = await this.pool.query<ProjectRow>('SELECT id, organization_slug, slug, name, platform, created_at FROM projects WHERE organization_slug = $1 AND slug = $2', [organizationSlug, projectSlug]);
    return result.rows[0];
  }

  async projectById(id: number): Promise<ProjectRow | undefined> {
    const result = await this.pool.query<ProjectRow>('SELECT id, organization_slug, slug, name, platform, created_at FROM projects WHERE id = $1', [id]);
    return result.rows[0];
  }

  async issues(projectId: number, limit: number): Promise<GroupRow[]> {
    const result = await this.pool.query<GroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.project_id = $1 AND g.status <> 'pending_deletion' ORDER BY g.last_seen DESC, g.id DESC LIMIT $2`,
      [projectId, limit],
    );
    return result.rows;
  }

  async issue(groupId: number): Promise<GroupRow | undefined> {
    const result = await this.pool.query<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.id = $1 AND g.status <> 'pending_deletion'`, [groupId]);
    return result.rows[0];
  }

  async groupHashes(groupId: number): Promise<string[]> {
    const result = await this.pool.query<{ hash: string }>('SELECT hash FROM group_hashes WHERE group_id = $1 ORDER BY hash', [groupId]);
    return result.rows.map((row) => row.hash);
  }

  async event(projectId: number, eventId: string): Promise<EventRow | undefined> {
    const result = await this.pool.query<EventRow>(
      `SELECT e.project_id, e.event_id, e.group_id, e.received_at, e.occurred_at, e.title, e.message, e.payload,
         COALESCE((SELECT array_agg(ARRAY[t.key, t.value] ORDER BY t.key) FROM event_tags t WHERE t.project_id = e.project_id AND t.event_id = e.event_id), '{}') AS tags
       FROM events e JOIN groups g ON g.id = e.group_id
       WHERE e.project_id = $1 AND e.event_id = $2 AND NOT e.pending_deletion AND g.status <> 'pending_deletion'`,
      [projectId, eventId],
    );
    return result.rows[0];
  }
}
