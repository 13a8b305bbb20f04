-- Up Migration
-- Reads that cost what the page needs, not what the project holds.
--
-- Issue lists: one index per sort, led by project, status and level (a list always names its
-- projects, never shows pending deletions, and may filter levels: five values), ending in id, the
-- tie-break of the keyset cursors. The API reads each (project, status, level) range in index order
-- from the cursor on, ids and sort values only, merges them, and fetches the page's rows: a page
-- reads about a page of index entries per range however many issues there are.
CREATE INDEX groups_list_last_seen ON groups (project_id, status, level, last_seen, id);
CREATE INDEX groups_list_first_seen ON groups (project_id, status, level, first_seen, id);
CREATE INDEX groups_list_times_seen ON groups (project_id, status, level, times_seen, id);
DROP INDEX groups_project_last_seen;

-- Sentry's userCount (distinct `user` tag values of the issue's visible events) kept on the issue,
-- so the `user` sort has an index and no list counts per row. Statement triggers keep it equal to
-- group_tag_values whichever path adds or removes a value (new events, hides, purges, expiry), in
-- the live tables and in a rebuild's alike. Names are resolved through the session's search_path,
-- so the functions follow their schema when `trapline rebuild` renames it.
ALTER TABLE groups ADD COLUMN user_count integer NOT NULL DEFAULT 0;
UPDATE groups g SET user_count = c.n
  FROM (SELECT group_id, count(*)::int AS n FROM group_tag_values WHERE key = 'user' GROUP BY group_id) c
  WHERE g.id = c.group_id;
CREATE INDEX groups_list_user_count ON groups (project_id, status, level, user_count, id);

CREATE FUNCTION group_user_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE groups g SET user_count = g.user_count + c.n
    FROM (SELECT group_id, count(*)::int AS n FROM added WHERE key = 'user' GROUP BY group_id) c
    WHERE g.id = c.group_id;
  RETURN NULL;
END $$;

CREATE FUNCTION group_user_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE groups g SET user_count = g.user_count - c.n
    FROM (SELECT group_id, count(*)::int AS n FROM removed WHERE key = 'user' GROUP BY group_id) c
    WHERE g.id = c.group_id;
  RETURN NULL;
END $$;

CREATE TRIGGER group_tag_values_user_added AFTER INSERT ON group_tag_values
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION group_user_count_added();
CREATE TRIGGER group_tag_values_user_removed AFTER DELETE ON group_tag_values
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION group_user_count_removed();

-- Text search through trigram indexes (pg_trgm ships with Debian's PostgreSQL). The extension lives
-- in a schema of its own: a rebuild swaps and drops `public`, which must not take the extension
-- (and every index using it) along.
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions;
CREATE INDEX groups_title_trgm ON groups USING gin (title extensions.gin_trgm_ops);
CREATE INDEX groups_culprit_trgm ON groups USING gin (culprit extensions.gin_trgm_ops);

-- Event lists page by (received_at, event_id) from the cursor on.
DROP INDEX events_group_received;
CREATE INDEX events_group_received ON events (group_id, received_at, event_id);

-- Down Migration
DROP INDEX events_group_received;
CREATE INDEX events_group_received ON events (group_id, received_at DESC);
DROP INDEX groups_culprit_trgm;
DROP INDEX groups_title_trgm;
DROP TRIGGER group_tag_values_user_removed ON group_tag_values;
DROP TRIGGER group_tag_values_user_added ON group_tag_values;
DROP FUNCTION group_user_count_removed();
DROP FUNCTION group_user_count_added();
DROP INDEX groups_list_user_count;
ALTER TABLE groups DROP COLUMN user_count;
CREATE INDEX groups_project_last_seen ON groups (project_id, last_seen DESC);
DROP INDEX groups_list_times_seen;
DROP INDEX groups_list_first_seen;
DROP INDEX groups_list_last_seen;
