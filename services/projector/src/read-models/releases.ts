import type { PoolClient } from '@trapline/runtime';
import type { ArtifactBundleAssembled, DeployCreated, ReleaseUpserted, RepositoryUpserted } from '@trapline/schemas';

// Releases, their deploys and the organization's repositories, from the admin topic. A release
// record carries the release's whole state, so applying it again changes nothing; a deleted
// release takes its deploys with it (the admin topic has one partition: deploys before the deletion
// come before it on replay too).

const toDate = (epochMs: number | null) => (epochMs === null ? null : new Date(epochMs));

export async function applyReleaseUpserted(db: PoolClient, record: ReleaseUpserted): Promise<void> {
  const { organizationSlug, version } = record;
  if (record.deleted) {
    await db.query('DELETE FROM release_deploys WHERE organization_slug = $1 AND version = $2', [organizationSlug, version]);
    await db.query('DELETE FROM releases WHERE organization_slug = $1 AND version = $2', [organizationSlug, version]);
    return;
  }
  await db.query(
    `INSERT INTO releases (organization_slug, version, project_ids, ref, url, date_created, date_started, date_released, commits)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (organization_slug, version) DO UPDATE SET project_ids = EXCLUDED.project_ids, ref = EXCLUDED.ref, url = EXCLUDED.url,
       date_created = EXCLUDED.date_created, date_started = EXCLUDED.date_started, date_released = EXCLUDED.date_released, commits = EXCLUDED.commits`,
    [organizationSlug, version, record.projectIds, record.ref, record.url, toDate(record.dateCreated), toDate(record.dateStarted), toDate(record.dateReleased), JSON.stringify(record.commits)],
  );
}

export async function applyDeployCreated(db: PoolClient, record: DeployCreated): Promise<void> {
  await db.query(
    `INSERT INTO release_deploys (organization_slug, version, deploy_id, environment, name, url, date_started, date_finished, project_ids)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    [record.organizationSlug, record.version, record.deployId, record.environment, record.name, record.url, toDate(record.dateStarted), toDate(record.dateFinished), record.projectIds],
  );
}

export async function applyRepositoryUpserted(db: PoolClient, record: RepositoryUpserted): Promise<void> {
  await db.query(
    `INSERT INTO repositories (organization_slug, name, url, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (organization_slug, name) DO UPDATE SET url = EXCLUDED.url`,
    [record.organizationSlug, record.name, record.url, toDate(record.createdAt)],
  );
}

/** A bundle's files become findable (by debug id, or release and URL) only now: never half a bundle. */
export async function applyArtifactBundleAssembled(db: PoolClient, record: ArtifactBundleAssembled): Promise<void> {
  const { files } = record;
  await db.query(
    `INSERT INTO artifact_files (project_id, bundle_id, url, type, debug_id, source_map, blob, size, release, dist, assembled_at)
     SELECT $1, $2, url, type, debug_id, source_map, blob, size, $3, $4, $5
     FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[]) AS f(url, type, debug_id, source_map, blob, size)
     ON CONFLICT DO NOTHING`,
    [
      record.projectId, record.bundleId, record.release, record.dist, new Date(record.assembledAt),
      files.map((file) => file.url), files.map((file) => file.type), files.map((file) => file.debugId?.toLowerCase() ?? null),
      files.map((file) => file.sourceMap), files.map((file) => file.blob), files.map((file) => file.size),
    ],
  );
}
