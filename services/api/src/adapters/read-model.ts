import type { Pool } from '@trapline/runtime';
import { AccountsReadModel } from './accounts.ts';
import type { AuditRow, DeletionRow } from '../domain/audit.ts';
import { ISSUE_SORTS, type IssueSearch, type IssueSort } from '../domain/search.ts';
import type { EventRow, GroupRow, ProjectRow } from '../domain/serialize.ts';

export interface IssueListQuery {
  projectIds: number[];
  search: IssueSearch;
  sort: IssueSort;
  /** Only issues seen within this many milliseconds before `now`; null for no bound. */
  periodMs: number | null;
  now: number;
  offset: number;
  limit: number;
}

// Queries over the projected read models. Everything pending deletion is invisible here.

export interface TokenRow {
  token_hash: string;
  organization_slug: string;
  scopes: string[];
  active: boolean;
}

const PROJECT_COLUMNS = `id, organization_slug, slug, name, platform, created_at,
  (SELECT r.retention_days FROM project_retention r WHERE r.project_id = projects.id) AS retention_days,
  (SELECT o.origins FROM project_allowed_origins o WHERE o.project_id = projects.id) AS allowed_origins`;

const GROUP_COLUMNS = `g.id, g.project_id, g.short_id, g.title, g.culprit, g.type, g.metadata, g.level, g.platform, g.logger, g.status,
  g.first_seen, g.last_seen, g.times_seen,
  (SELECT count(*) FROM group_tag_values t WHERE t.group_id = g.id AND t.key = 'user')::int AS user_count`;

const EVENT_COLUMNS = `e.project_id, e.event_id, e.group_id, e.received_at, e.occurred_at, e.title, e.message, e.payload,
  COALESCE((SELECT array_agg(ARRAY[t.key, t.value] ORDER BY t.key) FROM event_tags t WHERE t.project_id = e.project_id AND t.event_id = e.event_id AND t.received_at = e.received_at), '{}') AS tags`;

const AUDIT_COLUMNS = 'id, organization_slug, project_id, event, actor, transaction_id, target_object, data, created_at';

/** Events visible to the API: neither they nor their issue are pending deletion. */
const VISIBLE_EVENTS = `events e JOIN groups g ON g.id = e.group_id WHERE NOT e.pending_deletion AND g.status <> 'pending_deletion'`;

export interface TagValueRow {
  key: string;
  value: string;
  count: number;
  first_seen: Date;
  last_seen: Date;
}

export interface KeyRow {
  public_key: string;
  secret_key: string;
  project_id: number;
  label: string;
  active: boolean;
  created_at: Date;
}

export class ReadModel {
  /** Users, members and user tokens. */
  readonly accounts: AccountsReadModel;

  constructor(private readonly pool: Pool) {
    this.accounts = new AccountsReadModel(pool);
  }

  async token(tokenHash: string): Promise<TokenRow | undefined> {
    const result = await this.pool.query<TokenRow>('SELECT token_hash, organization_slug, scopes, active FROM api_tokens WHERE token_hash = $1', [tokenHash]);
    return result.rows[0];
  }

  async project(organizationSlug: string, projectSlug: string): Promise<ProjectRow | undefined> {
    const result = await this.pool.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE organization_slug = $1 AND slug = $2`, [organizationSlug, projectSlug]);
    return result.rows[0];
  }

  async projectById(id: number): Promise<ProjectRow | undefined> {
    const result = await this.pool.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1`, [id]);
    return result.rows[0];
  }

  /** One page of issues, plus whether another page follows. Ordered by the sort, then id, so pages are stable. */
  async issues(query: IssueListQuery): Promise<{ rows: GroupRow[]; hasNext: boolean }> {
    const where = ['g.project_id = ANY($1)', "g.status <> 'pending_deletion'"];
    const params: unknown[] = [query.projectIds];
    const add = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.search.statuses.length > 0) where.push(`g.status = ANY(${add(query.search.statuses)})`);
    if (query.search.levels.length > 0) where.push(`g.level = ANY(${add(query.search.levels)})`);
    for (const text of query.search.text) where.push(`(g.title ILIKE ${add(`%${text.replace(/[\\%_]/g, '\\$&')}%`)} OR g.culprit ILIKE $${params.length})`);
    for (const [key, value] of query.search.tags) {
      where.push(`EXISTS (SELECT 1 FROM group_tag_values t WHERE t.group_id = g.id AND t.key = ${add(key)} AND t.value = ${add(value)})`);
    }
    if (query.periodMs !== null) where.push(`g.last_seen >= ${add(new Date(query.now - query.periodMs))}`);
    const result = await this.pool.query<GroupRow>(
      `SELECT * FROM (SELECT ${GROUP_COLUMNS} FROM groups g WHERE ${where.join(' AND ')}) g
       ORDER BY ${ISSUE_SORTS[query.sort]} DESC, id DESC OFFSET ${add(query.offset)} LIMIT ${add(query.limit + 1)}`,
      params,
    );
    return { rows: result.rows.slice(0, query.limit), hasNext: result.rows.length > query.limit };
  }

  /** Visible events per issue and bucket (start in unix seconds) received since `since` (unix seconds). */
  async issueStats(groupIds: number[], since: number, rollupSeconds: number): Promise<{ group_id: number; bucket: number; count: number }[]> {
    const result = await this.pool.query<{ group_id: number; bucket: number; count: number }>(
      `SELECT e.group_id, (floor(extract(epoch FROM e.received_at) / $3) * $3)::bigint AS bucket, count(*)::int AS count
       FROM events e WHERE e.group_id = ANY($1) AND NOT e.pending_deletion AND e.received_at >= to_timestamp($2)
       GROUP BY 1, 2`,
      [groupIds, since, rollupSeconds],
    );
    return result.rows;
  }

  async projects(organizationSlug: string): Promise<ProjectRow[]> {
    const result = await this.pool.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE organization_slug = $1 ORDER BY slug`, [organizationSlug]);
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
    const result = await this.pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM ${VISIBLE_EVENTS} AND e.project_id = $1 AND e.event_id = $2`, [projectId, eventId]);
    return result.rows[0];
  }

  /** A page of events, newest first (or oldest first), of one issue or one project. */
  async events(scope: { groupId: number } | { projectId: number }, page: { offset: number; limit: number; oldestFirst?: boolean }): Promise<{ rows: EventRow[]; hasNext: boolean }> {
    const [column, id] = 'groupId' in scope ? ['e.group_id', scope.groupId] : ['e.project_id', scope.projectId];
    const direction = page.oldestFirst ? 'ASC' : 'DESC';
    const result = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${VISIBLE_EVENTS} AND ${column} = $1 ORDER BY e.received_at ${direction}, e.event_id ${direction} OFFSET $2 LIMIT $3`,
      [id, page.offset, page.limit + 1],
    );
    return { rows: result.rows.slice(0, page.limit), hasNext: result.rows.length > page.limit };
  }

  /** Tag values of an issue's visible events with counts and first/last seen, most frequent first (kept by the projector). */
  async tagValues(groupId: number, key?: string): Promise<TagValueRow[]> {
    const result = await this.pool.query<TagValueRow>(
      `SELECT key, value, times_seen::int AS count, first_seen, last_seen FROM group_tag_values
       WHERE group_id = $1 AND ($2::text IS NULL OR key = $2) ORDER BY key, times_seen DESC, value`,
      [groupId, key ?? null],
    );
    return result.rows;
  }

  async keys(projectId: number): Promise<KeyRow[]> {
    const result = await this.pool.query<KeyRow>('SELECT public_key, secret_key, project_id, label, active, created_at FROM project_keys WHERE project_id = $1 ORDER BY created_at, public_key', [projectId]);
    return result.rows;
  }

  /** A page of an organization's audit log, newest first; `event` and `actor` match exactly. */
  async auditLog(organizationSlug: string, filter: { event?: string | undefined; actor?: string | undefined }, page: { offset: number; limit: number }): Promise<{ rows: AuditRow[]; hasNext: boolean }> {
    const result = await this.pool.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE organization_slug = $1 AND ($2::text IS NULL OR event = $2) AND ($3::text IS NULL OR actor = $3)
       ORDER BY created_at DESC, id DESC OFFSET $4 LIMIT $5`,
      [organizationSlug, filter.event ?? null, filter.actor ?? null, page.offset, page.limit + 1],
    );
    return { rows: result.rows.slice(0, page.limit), hasNext: result.rows.length > page.limit };
  }

  /** The audit entries of one transaction, oldest first. */
  async auditTrail(organizationSlug: string, transactionId: string): Promise<AuditRow[]> {
    const result = await this.pool.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE organization_slug = $1 AND transaction_id = $2 ORDER BY created_at, id`,
      [organizationSlug, transactionId],
    );
    return result.rows;
  }

  /** A deletion with its project's slug and organization; undefined when unknown or its project is. */
  async deletion(transactionId: string): Promise<DeletionRow | undefined> {
    const result = await this.pool.query<DeletionRow>(
      `SELECT d.transaction_id, d.kind, d.project_id, p.slug AS project_slug, p.organization_slug, d.group_id::text AS group_id, d.event_id, d.actor,
         d.requested_at, d.state, d.attempts, d.last_error, d.chunks, d.events_removed, d.rows_removed, d.completed_at
       FROM deletions d JOIN projects p ON p.id = d.project_id WHERE d.transaction_id = $1`,
      [transactionId],
    );
    return result.rows[0];
  }

  async organization(slug: string): Promise<{ slug: string; name: string; created_at: Date } | undefined> {
    return (await this.pool.query<{ slug: string; name: string; created_at: Date }>('SELECT slug, name, created_at FROM organizations WHERE slug = $1', [slug])).rows[0];
  }
}
