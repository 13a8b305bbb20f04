-- Up Migration
-- Per-project retention (from ProjectRetentionChanged admin records; no row: the global default),
-- and the index the retention deleter walks: a project's events by the time they were received.
CREATE TABLE project_retention (
  project_id bigint PRIMARY KEY,
  retention_days double precision NOT NULL
);
CREATE INDEX events_project_received ON events (project_id, received_at, event_id);

-- Down Migration
DROP INDEX events_project_received;
DROP TABLE project_retention;
