-- Up Migration
-- Per-project allowed origins (Sentry's allowedDomains, from ProjectAllowedOriginsChanged admin
-- records; no row: the default ["*"]). Ingest loads the table with the DSN keys.
CREATE TABLE project_allowed_origins (
  project_id bigint PRIMARY KEY,
  origins text[] NOT NULL
);

-- Down Migration
DROP TABLE project_allowed_origins;
