import type { KeyRow, ProjectRow } from '@trapline/runtime';
import type { ProjectKeyUpserted, ProjectUpserted } from '@trapline/schemas';

// Read-model rows ↔ the admin records they were projected from: a command starts from the record
// of what exists, and an answer to a write shows the record it appended.

export function keyRecord(row: KeyRow): ProjectKeyUpserted {
  const rateLimit = row.rate_limit_count === null || row.rate_limit_window === null ? null : { count: row.rate_limit_count, window: row.rate_limit_window };
  return { publicKey: row.public_key, secretKey: row.secret_key, projectId: row.project_id, label: row.label, active: row.active, createdAt: row.created_at.getTime(), rateLimit };
}

export function keyRow(key: ProjectKeyUpserted): KeyRow {
  return {
    public_key: key.publicKey,
    secret_key: key.secretKey,
    project_id: key.projectId,
    label: key.label,
    active: key.active,
    created_at: new Date(key.createdAt),
    rate_limit_count: key.rateLimit?.count ?? null,
    rate_limit_window: key.rateLimit?.window ?? null,
  };
}

export function projectRecord(row: ProjectRow): ProjectUpserted {
  return { projectId: row.id, organizationSlug: row.organization_slug, slug: row.slug, name: row.name, platform: row.platform, createdAt: row.created_at.getTime() };
}
