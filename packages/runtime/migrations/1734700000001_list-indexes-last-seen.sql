-- Up Migration
-- A list bounded by `statsPeriod` (last seen within the period) and sorted by anything but date
-- walks that sort's index and checks last_seen on each issue: carried in the index, the check is
-- answered from it (index-only) instead of from the issue's row, one heap page per issue passed over.
DROP INDEX groups_list_first_seen;
CREATE INDEX groups_list_first_seen ON groups (project_id, status, level, first_seen, id) INCLUDE (last_seen);
DROP INDEX groups_list_times_seen;
CREATE INDEX groups_list_times_seen ON groups (project_id, status, level, times_seen, id) INCLUDE (last_seen);
DROP INDEX groups_list_user_count;
CREATE INDEX groups_list_user_count ON groups (project_id, status, level, user_count, id) INCLUDE (last_seen);

-- Down Migration
DROP INDEX groups_list_user_count;
CREATE INDEX groups_list_user_count ON groups (project_id, status, level, user_count, id);
DROP INDEX groups_list_times_seen;
CREATE INDEX groups_list_times_seen ON groups (project_id, status, level, times_seen, id);
DROP INDEX groups_list_first_seen;
CREATE INDEX groups_list_first_seen ON groups (project_id, status, level, first_seen, id);
