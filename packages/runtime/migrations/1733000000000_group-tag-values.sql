-- Up Migration
-- Tag values per issue (Sentry's GroupTagValue): how many of the issue's visible events carry each
-- key and value, first and last seen. Kept by the projector as events are added, hidden, purged
-- and expired, so the tag pages and tag search read one row per value instead of aggregating the
-- issue's events on every request.
CREATE TABLE group_tag_values (
  group_id bigint NOT NULL,
  project_id bigint NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  times_seen bigint NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  PRIMARY KEY (group_id, key, value)
);
CREATE INDEX group_tag_values_key_value ON group_tag_values (project_id, key, value);

-- First and last seen of a value come back from the index when the events at either end go.
DROP INDEX event_tags_group_key;
CREATE INDEX event_tags_group_key ON event_tags (group_id, key, value, received_at);

-- The tags of a hidden event (deleted on its own, pending its purge) no longer count.
DELETE FROM event_tags t USING events e WHERE e.project_id = t.project_id AND e.event_id = t.event_id AND e.received_at = t.received_at AND e.pending_deletion;

INSERT INTO group_tag_values (group_id, project_id, key, value, times_seen, first_seen, last_seen)
SELECT group_id, min(project_id), key, value, count(*), min(received_at), max(received_at)
FROM event_tags GROUP BY group_id, key, value;

-- Down Migration
DROP INDEX event_tags_group_key;
CREATE INDEX event_tags_group_key ON event_tags (group_id, key, value);
DROP TABLE group_tag_values;
