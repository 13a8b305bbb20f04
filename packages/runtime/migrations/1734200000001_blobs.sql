-- Up Migration
-- Content-addressed blobs (uploaded chunks and the files of assembled artifact bundles), kept
-- outside the read models: not rebuilt from the log (the log says which blobs exist and where),
-- so in a schema of their own that `trapline rebuild`'s schema swap leaves alone.
CREATE SCHEMA IF NOT EXISTS trapline_blobs;
CREATE TABLE IF NOT EXISTS trapline_blobs.blobs (
  sha1 text PRIMARY KEY,
  size integer NOT NULL,
  data bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
-- The blobs are not read models: they stay.
