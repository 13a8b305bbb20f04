-- Up Migration
-- Read models, all written by the projector from the log and rebuildable from it.
-- No foreign keys: the projector applies records in log order, and a rebuild may meet an
-- admin record for a project before its organization after compaction.

CREATE TABLE organizations (
  slug text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE projects (
  id bigint PRIMARY KEY,
  organization_slug text NOT NULL,
  slug text NOT NULL,
  name text NOT NULL,
  platform text,
  created_at timestamptz NOT NULL,
  UNIQUE (organization_slug, slug)
);

-- Per-project counter behind short ids (PROJECT-1A), advanced in log order. Separate from
-- projects because the events and admin topics are consumed independently.
CREATE TABLE project_counters (
  project_id bigint PRIMARY KEY,
  next_short_id integer NOT NULL
);

CREATE TABLE project_keys (
  public_key text PRIMARY KEY,
  secret_key text NOT NULL,
  project_id bigint NOT NULL,
  label text NOT NULL,
  active boolean NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX project_keys_project ON project_keys (project_id);

CREATE TABLE api_tokens (
  token_hash text PRIMARY KEY,
  organization_slug text NOT NULL,
  scopes text[] NOT NULL,
  label text NOT NULL,
  active boolean NOT NULL,
  created_at timestamptz NOT NULL
);

-- Issues. id and short_id are deterministic functions of the log (see projector/domain).
CREATE TABLE groups (
  id bigint PRIMARY KEY,
  project_id bigint NOT NULL,
  short_id integer NOT NULL,
  title text NOT NULL,
  culprit text NOT NULL DEFAULT '',
  type text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  level text NOT NULL,
  platform text NOT NULL,
  logger text,
  status text NOT NULL DEFAULT 'unresolved',
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  times_seen bigint NOT NULL DEFAULT 0,
  grouping_version text NOT NULL,
  UNIQUE (project_id, short_id)
);
CREATE INDEX groups_project_last_seen ON groups (project_id, last_seen DESC);

CREATE TABLE group_hashes (
  project_id bigint NOT NULL,
  hash text NOT NULL,
  group_id bigint NOT NULL,
  PRIMARY KEY (project_id, hash)
);
CREATE INDEX group_hashes_group ON group_hashes (group_id);

-- Hashes of deleted groups: an event with one of them received before requested_at never
-- resurrects the group; one received after it starts a fresh group.
CREATE TABLE group_hash_tombstones (
  project_id bigint NOT NULL,
  hash text NOT NULL,
  group_id bigint NOT NULL,
  requested_at timestamptz NOT NULL,
  PRIMARY KEY (project_id, hash, group_id)
);

CREATE TABLE events (
  project_id bigint NOT NULL,
  event_id text NOT NULL,
  group_id bigint NOT NULL,
  received_at timestamptz NOT NULL,
  occurred_at timestamptz NOT NULL,
  level text NOT NULL,
  platform text NOT NULL,
  title text NOT NULL,
  message text NOT NULL DEFAULT '',
  release text,
  environment text,
  user_ident text,
  pending_deletion boolean NOT NULL DEFAULT false,
  payload jsonb NOT NULL,
  PRIMARY KEY (project_id, event_id)
);
CREATE INDEX events_group_received ON events (group_id, received_at DESC);

CREATE TABLE event_tags (
  project_id bigint NOT NULL,
  event_id text NOT NULL,
  group_id bigint NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (project_id, event_id, key)
);
CREATE INDEX event_tags_group_key ON event_tags (group_id, key, value);

-- Down Migration
DROP TABLE event_tags;
DROP TABLE events;
DROP TABLE group_hash_tombstones;
DROP TABLE group_hashes;
DROP TABLE groups;
DROP TABLE api_tokens;
DROP TABLE project_keys;
DROP TABLE project_counters;
DROP TABLE projects;
DROP TABLE organizations;
