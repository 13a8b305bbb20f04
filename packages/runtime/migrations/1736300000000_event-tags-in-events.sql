-- Up Migration
-- An event's tags move into its `events` row, as two arrays of the same length (keys, and the
-- values at the same places), and `event_tags` goes. Each event brought six or so tag rows, each
-- with two index entries: writing them was 41 % of the live projector's Postgres time
-- (bench/results/2026-12-04-projector-statements.md). Without them its Postgres CPU per event
-- went from 62.5 to 34.5 µs and its rate up 27 % (2026-12-04-projector-tags-in-events.md).
-- What read the rows reads the arrays instead: the API's event rows, the deleter's chunk counts,
-- the tag values' sums at an expiry, a deletion and a rebuild. The one reader the index served,
-- first/last seen of a tag value read back after events at either end went, now reads the issue's
-- remaining events partition by partition from that end (read-models/tag-values.ts).
--
-- As before, only a visible event carries tags: a hidden one (pending its deletion) has empty
-- arrays. Keys are sorted, as the projector writes them (it sorts by UTF-16 code unit, this by
-- byte: the same order but for keys with characters beyond U+FFFF). This rewrites every row of
-- `events` that has tags: see "Upgrading" in docs/operations.md.
ALTER TABLE events ADD COLUMN tag_keys text[] NOT NULL DEFAULT '{}', ADD COLUMN tag_values text[] NOT NULL DEFAULT '{}';
UPDATE events e SET tag_keys = t.keys, tag_values = t.vals
FROM (
  SELECT project_id, event_id, received_at, array_agg(key ORDER BY key COLLATE "C") AS keys, array_agg(value ORDER BY key COLLATE "C") AS vals
  FROM event_tags GROUP BY project_id, event_id, received_at
) t
WHERE e.project_id = t.project_id AND e.event_id = t.event_id AND e.received_at = t.received_at;
DROP TABLE event_tags;

-- Down Migration
CREATE TABLE event_tags (
  project_id bigint NOT NULL,
  event_id text NOT NULL,
  group_id bigint NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  received_at timestamptz NOT NULL
) PARTITION BY RANGE (received_at);
DO $$
DECLARE
  part record;
BEGIN
  FOR part IN SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF event_tags %s', 'event_tags_' || substr(part.name, length('events_') + 1), part.bound);
  END LOOP;
END $$;
INSERT INTO event_tags (project_id, event_id, group_id, key, value, received_at)
SELECT e.project_id, e.event_id, e.group_id, u.key, u.value, e.received_at FROM events e CROSS JOIN LATERAL unnest(e.tag_keys, e.tag_values) AS u(key, value);
CREATE INDEX event_tags_group_key ON event_tags (group_id, key, value, received_at);
CREATE INDEX event_tags_group_received ON event_tags (group_id, received_at);
ALTER TABLE events DROP COLUMN tag_keys, DROP COLUMN tag_values;
