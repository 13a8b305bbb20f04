-- Up Migration
-- Teams (TeamUpserted), the teams of each project (ProjectTeamsChanged) and each DSN key's own
-- rate limit (ProjectKeyUpserted v2; null: the deployment's RATE_LIMIT_KEY_EVENTS).
CREATE TABLE teams (
  id bigint PRIMARY KEY,
  organization_slug text NOT NULL,
  slug text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (organization_slug, slug)
);

CREATE TABLE project_teams (
  project_id bigint NOT NULL,
  team_id bigint NOT NULL,
  PRIMARY KEY (project_id, team_id)
);
CREATE INDEX project_teams_team ON project_teams (team_id);

ALTER TABLE project_keys ADD COLUMN rate_limit_count bigint, ADD COLUMN rate_limit_window bigint;

-- Down Migration
ALTER TABLE project_keys DROP COLUMN rate_limit_count, DROP COLUMN rate_limit_window;
DROP TABLE project_teams;
DROP TABLE teams;
