-- Up Migration
-- Every run of the projector adds to the tag values its events carry (times_seen, first and last
-- seen: no index holds them), so most updates of group_tag_values could be HOT ones, written beside
-- the old row on its page with no new index entries, if the page has room. Packed full (fillfactor
-- 100), a page has none until it is pruned, and an update then writes new entries into both
-- indexes. A fifth of each page is left free from here on; existing pages get it as they are
-- rewritten (VACUUM FULL, a rebuild), new ones at once. It helps most where a run touches a few
-- of a page's rows; in the projector bench, whose 3,600 tag values all change in every run, the
-- HOT share of the updates went from 29 to 38 % and Postgres' CPU per event down by 3 to 7 %
-- (bench/results/2026-12-03-projector-runs.md).
ALTER TABLE group_tag_values SET (fillfactor = 80);

-- Down Migration
ALTER TABLE group_tag_values RESET (fillfactor);
