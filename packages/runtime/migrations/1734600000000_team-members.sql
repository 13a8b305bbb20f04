-- Up Migration
-- Team membership (TeamMemberUpserted): which members of an organization are on which of its teams,
-- with Sentry's team role (null: the minimum the organization role gives). A member's removal takes
-- their team memberships with it (the API also appends a null value for each).
CREATE TABLE team_members (
  team_id bigint NOT NULL,
  member_id text NOT NULL,
  organization_slug text NOT NULL,
  team_role text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (team_id, member_id)
);
CREATE INDEX team_members_member ON team_members (member_id);

-- Down Migration
DROP TABLE team_members;
