-- Up Migration
-- Event payloads are stored as `json` (the text, checked to be JSON) instead of `jsonb`: Postgres
-- parsed every payload into jsonb's binary form on write, the largest part of writing an event row
-- (50,000 events of 3.3 KB by COPY into a scratch table: 7.4 s as jsonb, 1.65 s as json, 1.4 s as
-- text), and printed it back to text on every read. Nothing queries inside a payload in SQL; the
-- `->`/`->>` operators an operator may use work on json as well. This rewrites the events table
-- once (every partition, under its lock): see "Upgrading" in docs/operations.md.
--
-- A change of type resets the column's compression to the default: the rewrite compresses with
-- lz4 (this transaction's default), and the column of the table and of every partition is set to
-- lz4 again (as 1733200000000_payload-lz4 did), so new partitions copy it.
SELECT set_config('default_toast_compression', 'lz4', true);
ALTER TABLE events ALTER COLUMN payload TYPE json USING payload::json;
DO $$
DECLARE
  part regclass;
BEGIN
  ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
  FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'events'::regclass LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN payload SET COMPRESSION lz4', part);
  END LOOP;
END $$;

-- Down Migration
SELECT set_config('default_toast_compression', 'lz4', true);
ALTER TABLE events ALTER COLUMN payload TYPE jsonb USING payload::jsonb;
DO $$
DECLARE
  part regclass;
BEGIN
  ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
  FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'events'::regclass LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN payload SET COMPRESSION lz4', part);
  END LOOP;
END $$;
