import type { DeployRow, Pool, ReleaseRow, RepositoryRow } from '@trapline/runtime';

// Releases as the API reads them: those created through the API (the `releases` table) and those
// only seen on events (a release an SDK reports exists, as in Sentry), with what the events say of
// each: first and last event, projects, issues first seen in it.

const RELEASES = `
  WITH org_projects AS (SELECT id FROM projects WHERE organization_slug = $1),
  seen AS (
    SELECT t.value AS version, array_agg(DISTINCT t.project_id ORDER BY t.project_id) AS project_ids, min(t.first_seen) AS first_event, max(t.last_seen) AS last_event
    FROM group_tag_values t WHERE t.project_id IN (SELECT id FROM org_projects) AND t.key = 'release' AND ($2::text IS NULL OR t.value = $2)
    GROUP BY t.value),
  declared AS (SELECT * FROM releases WHERE organization_slug = $1 AND ($2::text IS NULL OR version = $2))
  SELECT COALESCE(r.version, s.version) AS version, COALESCE(r.project_ids, '{}') AS declared_project_ids, COALESCE(s.project_ids, '{}') AS seen_project_ids,
    r.ref, r.url, COALESCE(r.date_created, s.first_event) AS date_created, r.date_started, r.date_released, COALESCE(r.commits, '[]') AS commits,
    r.version IS NOT NULL AS declared, s.first_event, s.last_event,
    (SELECT count(*) FROM groups g WHERE g.project_id IN (SELECT id FROM org_projects) AND g.first_release = COALESCE(r.version, s.version) AND g.status <> 'pending_deletion')::int AS new_groups,
    (SELECT count(*) FROM release_deploys d WHERE d.organization_slug = $1 AND d.version = COALESCE(r.version, s.version))::int AS deploy_count
  FROM declared r FULL JOIN seen s ON s.version = r.version`;

/** The driver reads bigint[] as strings (only scalar bigints are parsed): ids are numbers here. */
const numbers = (ids: (number | string)[]) => ids.map(Number);
const withIds = (row: ReleaseRow): ReleaseRow => ({ ...row, declared_project_ids: numbers(row.declared_project_ids), seen_project_ids: numbers(row.seen_project_ids) });

export class ReleaseReadModel {
  constructor(private readonly pool: Pool) {}

  /** An organization's releases, newest first; with `projectId`, only those of that project. */
  async releases(organizationSlug: string, filter: { projectId?: number | undefined; query?: string | undefined }, page: { offset: number; limit: number }): Promise<{ rows: ReleaseRow[]; hasNext: boolean }> {
    const result = await this.pool.query<ReleaseRow>(
      `SELECT * FROM (${RELEASES}) r
       WHERE ($3::bigint IS NULL OR $3 = ANY(r.declared_project_ids) OR $3 = ANY(r.seen_project_ids)) AND ($4::text IS NULL OR r.version ILIKE $4)
       ORDER BY r.date_created DESC, r.version DESC OFFSET $5 LIMIT $6`,
      [organizationSlug, null, filter.projectId ?? null, filter.query ? `%${filter.query.replace(/[\\%_]/g, '\\$&')}%` : null, page.offset, page.limit + 1],
    );
    return { rows: result.rows.slice(0, page.limit).map(withIds), hasNext: result.rows.length > page.limit };
  }

  async release(organizationSlug: string, version: string): Promise<ReleaseRow | undefined> {
    const row = (await this.pool.query<ReleaseRow>(RELEASES, [organizationSlug, version])).rows[0];
    return row && withIds(row);
  }

  /** The newest release of a project (what "resolved in the next release" is measured from). */
  async latestRelease(organizationSlug: string, projectId: number): Promise<ReleaseRow | undefined> {
    return (await this.releases(organizationSlug, { projectId }, { offset: 0, limit: 1 })).rows[0];
  }

  async deploys(organizationSlug: string, version: string): Promise<DeployRow[]> {
    const result = await this.pool.query<DeployRow>(
      'SELECT deploy_id, environment, name, url, date_started, date_finished, project_ids FROM release_deploys WHERE organization_slug = $1 AND version = $2 ORDER BY date_finished DESC, deploy_id',
      [organizationSlug, version],
    );
    return result.rows.map((row) => ({ ...row, project_ids: numbers(row.project_ids) }));
  }

  async repositories(organizationSlug: string): Promise<RepositoryRow[]> {
    return (await this.pool.query<RepositoryRow>('SELECT name, url, created_at FROM repositories WHERE organization_slug = $1 ORDER BY name', [organizationSlug])).rows;
  }
}
