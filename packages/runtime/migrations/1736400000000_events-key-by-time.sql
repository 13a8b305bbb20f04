-- Up Migration
-- The events' primary key was (project_id, event_id, received_at). Event ids are random, so each
-- event landed on a random leaf page of that index: in a day's partition of a busy install a page
-- rarely in the cache, and the first write of a page after a checkpoint puts the whole page into
-- the WAL. The index on (project_id, received_at, event_id) holds the same three columns and grows
-- at one end per project; as the primary key it keeps the uniqueness, and one index goes. Whoever
-- finds an event by its id alone (the API's event detail, the deleter's single-event deletion and
-- audit target) reads its received time from `event_ids` first, as the projector's deletions did;
-- the deleter walks an issue's events and an expiry's in received order, along an index.
ALTER TABLE events DROP CONSTRAINT events_pkey;
DROP INDEX events_project_received;
ALTER TABLE events ADD PRIMARY KEY (project_id, received_at, event_id);

-- Down Migration
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (project_id, event_id, received_at);
CREATE INDEX events_project_received ON events (project_id, received_at, event_id);
