import type { PoolClient } from '@trapline/runtime';
import type { DomainRecord } from '@trapline/schemas';

// Organizations, their projects (with each project's retention, allowed origins and teams), keys,
// teams and their members, and organization API tokens, from the admin topic. Each record carries
// its entity's whole state under its key, so applying it again changes nothing.

type OrganizationRecord = Extract<DomainRecord, { name: 'OrganizationUpserted' | 'ProjectUpserted' | 'ProjectRetentionChanged' | 'ProjectAllowedOriginsChanged' | 'ProjectKeyUpserted' | 'TeamUpserted' | 'TeamMemberUpserted' | 'ProjectTeamsChanged' | 'ApiTokenUpserted' }>;

const toDate = (epochMs: number) => new Date(epochMs);

export async function applyOrganizations(db: PoolClient, record: OrganizationRecord): Promise<void> {
  switch (record.name) {
    case 'OrganizationUpserted': {
      const { slug, name, createdAt } = record.value;
      await db.query('INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name', [slug, name, toDate(createdAt)]);
      return;
    }
    case 'ProjectUpserted': {
      const { projectId, organizationSlug, slug, name, platform, createdAt } = record.value;
      await db.query(
        `INSERT INTO projects (id, organization_slug, slug, name, platform, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET organization_slug = EXCLUDED.organization_slug, slug = EXCLUDED.slug, name = EXCLUDED.name, platform = EXCLUDED.platform`,
        [projectId, organizationSlug, slug, name, platform, toDate(createdAt)],
      );
      return;
    }
    case 'ProjectRetentionChanged': {
      const { projectId, retentionDays } = record.value;
      if (retentionDays === null) await db.query('DELETE FROM project_retention WHERE project_id = $1', [projectId]);
      else await db.query('INSERT INTO project_retention (project_id, retention_days) VALUES ($1, $2) ON CONFLICT (project_id) DO UPDATE SET retention_days = EXCLUDED.retention_days', [projectId, retentionDays]);
      return;
    }
    case 'ProjectAllowedOriginsChanged': {
      const { projectId, allowedOrigins } = record.value;
      if (allowedOrigins === null) await db.query('DELETE FROM project_allowed_origins WHERE project_id = $1', [projectId]);
      else await db.query('INSERT INTO project_allowed_origins (project_id, origins) VALUES ($1, $2) ON CONFLICT (project_id) DO UPDATE SET origins = EXCLUDED.origins', [projectId, allowedOrigins]);
      return;
    }
    case 'ProjectKeyUpserted': {
      const { publicKey, secretKey, projectId, label, active, createdAt, rateLimit } = record.value;
      await db.query(
        `INSERT INTO project_keys (public_key, secret_key, project_id, label, active, created_at, rate_limit_count, rate_limit_window) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (public_key) DO UPDATE SET label = EXCLUDED.label, active = EXCLUDED.active, rate_limit_count = EXCLUDED.rate_limit_count, rate_limit_window = EXCLUDED.rate_limit_window`,
        [publicKey, secretKey, projectId, label, active, toDate(createdAt), rateLimit?.count ?? null, rateLimit?.window ?? null],
      );
      return;
    }
    case 'TeamUpserted': {
      const { teamId, organizationSlug, slug, name, createdAt } = record.value;
      await db.query(
        `INSERT INTO teams (id, organization_slug, slug, name, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, name = EXCLUDED.name`,
        [teamId, organizationSlug, slug, name, toDate(createdAt)],
      );
      return;
    }
    case 'TeamMemberUpserted': {
      const { teamId, memberId, organizationSlug, teamRole, addedAt } = record.value;
      await db.query(
        `INSERT INTO team_members (team_id, member_id, organization_slug, team_role, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (team_id, member_id) DO UPDATE SET team_role = EXCLUDED.team_role`,
        [teamId, memberId, organizationSlug, teamRole, toDate(addedAt)],
      );
      return;
    }
    case 'ProjectTeamsChanged': {
      const { projectId, teamIds } = record.value;
      await db.query('DELETE FROM project_teams WHERE project_id = $1 AND NOT (team_id = ANY($2::bigint[]))', [projectId, teamIds]);
      await db.query('INSERT INTO project_teams (project_id, team_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING', [projectId, teamIds]);
      return;
    }
    case 'ApiTokenUpserted': {
      const { tokenHash, organizationSlug, scopes, label, active, createdAt } = record.value;
      await db.query(
        `INSERT INTO api_tokens (token_hash, organization_slug, scopes, label, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (token_hash) DO UPDATE SET scopes = EXCLUDED.scopes, label = EXCLUDED.label, active = EXCLUDED.active`,
        [tokenHash, organizationSlug, scopes, label, active, toDate(createdAt)],
      );
    }
  }
}
