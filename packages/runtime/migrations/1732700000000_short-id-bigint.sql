-- Up Migration
-- Short ids derived from issue ids take six base-36 digits, up to 36^6 - 1: past integer.
ALTER TABLE groups ALTER COLUMN short_id TYPE bigint;

-- Down Migration
ALTER TABLE groups ALTER COLUMN short_id TYPE integer;
