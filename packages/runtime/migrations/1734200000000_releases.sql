-- Up Migration
-- Releases (Sentry's Release, Deploy, Repository), from the admin topic's ReleaseUpserted,
-- DeployCreated and RepositoryUpserted records; and what an issue knows of releases, from its events
-- (first and last release) and from its resolution (resolved in a release or in the next one).
CREATE TABLE releases (
  organization_slug text NOT NULL,
  version text NOT NULL,
  project_ids bigint[] NOT NULL,
  ref text,
  url text,
  date_created timestamptz NOT NULL,
  date_started timestamptz,
  date_released timestamptz,
  commits jsonb NOT NULL,
  PRIMARY KEY (organization_slug, version)
);

CREATE TABLE release_deploys (
  organization_slug text NOT NULL,
  version text NOT NULL,
  deploy_id text NOT NULL,
  environment text NOT NULL,
  name text,
  url text,
  date_started timestamptz,
  date_finished timestamptz NOT NULL,
  project_ids bigint[] NOT NULL,
  PRIMARY KEY (organization_slug, version, deploy_id)
);

CREATE TABLE repositories (
  organization_slug text NOT NULL,
  name text NOT NULL,
  url text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (organization_slug, name)
);

ALTER TABLE groups
  ADD COLUMN first_release text,
  ADD COLUMN last_release text,
  ADD COLUMN resolved_in_release text,
  ADD COLUMN resolved_in_next_release text,
  ADD COLUMN resolved_at timestamptz;

-- Down Migration
ALTER TABLE groups DROP COLUMN first_release, DROP COLUMN last_release, DROP COLUMN resolved_in_release, DROP COLUMN resolved_in_next_release, DROP COLUMN resolved_at;
DROP TABLE repositories;
DROP TABLE release_deploys;
DROP TABLE releases;
