-- Up Migration
-- The deletion pipeline's read models and the audit log, both projected from the log.

-- Short ids are now derived from the issue id (see projector/domain/issue.ts), so that erasing a
-- deleted issue's events from the compacted log cannot shift another issue's short id on rebuild.
DROP TABLE project_counters;

-- One row per deletion transaction: what was asked, and how far the deleter has got.
CREATE TABLE deletions (
  transaction_id text PRIMARY KEY,
  kind text NOT NULL,
  project_id bigint NOT NULL,
  group_id bigint,
  event_id text,
  actor text NOT NULL,
  requested_at timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  chunks integer NOT NULL DEFAULT 0,
  events_removed bigint NOT NULL DEFAULT 0,
  rows_removed bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX deletions_state ON deletions (state, requested_at);

-- The audit topic, as Sentry's audit log shows it.
CREATE TABLE audit_log (
  id text PRIMARY KEY,
  organization_slug text NOT NULL,
  project_id bigint,
  event text NOT NULL,
  actor text NOT NULL,
  transaction_id text,
  target_object text,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX audit_log_org_created ON audit_log (organization_slug, created_at DESC, id DESC);
CREATE INDEX audit_log_transaction ON audit_log (transaction_id);

-- The deleter walks a group's events in chunks by event id.
CREATE INDEX events_group_event_id ON events (group_id, event_id);

-- Down Migration
DROP INDEX events_group_event_id;
DROP TABLE audit_log;
DROP TABLE deletions;
CREATE TABLE project_counters (
  project_id bigint PRIMARY KEY,
  next_short_id integer NOT NULL
);
