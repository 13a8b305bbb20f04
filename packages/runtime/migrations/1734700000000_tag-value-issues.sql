-- Up Migration
-- A tag search first counts the issues holding the value (the api's read model, at most a few
-- thousand): with the issue in the index that is an index-only scan that stops at the count, where
-- the index without it needs a bitmap of every row of the value, however many there are.
DROP INDEX group_tag_values_key_value;
CREATE INDEX group_tag_values_key_value ON group_tag_values (project_id, key, value, group_id);

-- Down Migration
DROP INDEX group_tag_values_key_value;
CREATE INDEX group_tag_values_key_value ON group_tag_values (project_id, key, value);
