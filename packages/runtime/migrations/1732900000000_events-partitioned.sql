-- Up Migration
-- Events and their tags in time partitions (by received_at), so data past retention leaves by
-- dropping whole partitions: no row-by-row delete, no vacuum debt, the space goes back to the
-- operating system at once. Partitions are named <table>_<from>_<to> (epoch seconds) and created
-- by the projector ahead of the events they hold (packages/runtime/src/partitions.ts).
--
-- A partitioned table cannot enforce (project_id, event_id) alone as unique, so event_ids is the
-- narrow directory that does: the projector's duplicate check, and where a deletion finds an
-- event's partition.

ALTER TABLE events RENAME TO events_unpartitioned;
ALTER INDEX events_pkey RENAME TO events_unpartitioned_pkey;
ALTER INDEX events_group_received RENAME TO events_unpartitioned_group_received;
ALTER INDEX events_project_received RENAME TO events_unpartitioned_project_received;
ALTER TABLE event_tags RENAME TO event_tags_unpartitioned;
ALTER INDEX event_tags_pkey RENAME TO event_tags_unpartitioned_pkey;
ALTER INDEX event_tags_group_key RENAME TO event_tags_unpartitioned_group_key;

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
  PRIMARY KEY (project_id, event_id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX events_group_received ON events (group_id, received_at DESC);
CREATE INDEX events_project_received ON events (project_id, received_at, event_id);

CREATE TABLE event_tags (
  project_id bigint NOT NULL,
  event_id text NOT NULL,
  group_id bigint NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (project_id, event_id, key, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX event_tags_group_key ON event_tags (group_id, key, value);

CREATE TABLE event_ids (
  project_id bigint NOT NULL,
  event_id text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (project_id, event_id)
);

-- Everything received before `before` has expired for every project (partitions dropped): an
-- event replayed from the log with an older received time is not projected again.
CREATE TABLE events_expired (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  before timestamptz NOT NULL
);

-- Existing rows move into one partition per UTC day.
DO $$
DECLARE
  day_start bigint;
BEGIN
  FOR day_start IN SELECT DISTINCT (floor(extract(epoch FROM received_at) / 86400) * 86400)::bigint FROM events_unpartitioned LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
      'events_' || day_start || '_' || (day_start + 86400), to_timestamp(day_start), to_timestamp(day_start + 86400));
    EXECUTE format('CREATE TABLE %I PARTITION OF event_tags FOR VALUES FROM (%L) TO (%L)',
      'event_tags_' || day_start || '_' || (day_start + 86400), to_timestamp(day_start), to_timestamp(day_start + 86400));
  END LOOP;
END $$;

INSERT INTO events SELECT * FROM events_unpartitioned;
INSERT INTO event_tags (project_id, event_id, group_id, key, value, received_at)
  SELECT t.project_id, t.event_id, t.group_id, t.key, t.value, e.received_at
  FROM event_tags_unpartitioned t JOIN events_unpartitioned e ON e.project_id = t.project_id AND e.event_id = t.event_id;
INSERT INTO event_ids (project_id, event_id, received_at) SELECT project_id, event_id, received_at FROM events_unpartitioned;
DROP TABLE event_tags_unpartitioned;
DROP TABLE events_unpartitioned;

-- Down Migration
DROP TABLE events_expired;
DROP TABLE event_ids;
DROP TABLE event_tags;
DROP TABLE events;
