-- Up Migration
-- An event's tag rows were found by the primary key (project_id, event_id, key, received_at).
-- Event ids are random, so each of the six or so tag rows an event brings landed on a random page
-- of that index: in a day's partition of a busy install, a page that is rarely in the cache, and
-- the first write of a page after each checkpoint puts the whole page into the WAL. Every reader
-- of an event's tags (the API's event rows, the deleter's chunk counts, the projector's deletions)
-- has the event's row in `events` at hand, which names its issue and received time; an index on
-- those two grows at one end per issue, as `event_tags_group_key` does. The uniqueness the key
-- gave (one value per key and event) comes from the projector, which builds an event's tags as a
-- map. In the live projector bench, Postgres' CPU per event went down by about a seventh (70 → 60 µs)
-- (bench/results/2026-12-04-projector-event-tags.md).
CREATE INDEX event_tags_group_received ON event_tags (group_id, received_at);
ALTER TABLE event_tags DROP CONSTRAINT event_tags_pkey;

-- Down Migration
ALTER TABLE event_tags ADD PRIMARY KEY (project_id, event_id, key, received_at);
DROP INDEX event_tags_group_received;
