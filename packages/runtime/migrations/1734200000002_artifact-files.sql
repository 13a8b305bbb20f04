-- Up Migration
-- The files of each project's artifact bundles (from ArtifactBundleAssembled records on the events
-- topic): where a minified file's source map is, by debug id or by release and URL. The bytes are
-- blobs (trapline_blobs.blobs), addressed by SHA-1.
CREATE TABLE artifact_files (
  project_id bigint NOT NULL,
  bundle_id text NOT NULL,
  url text NOT NULL,
  type text NOT NULL,
  debug_id text,
  source_map text,
  blob text NOT NULL,
  size bigint NOT NULL,
  release text,
  dist text,
  assembled_at timestamptz NOT NULL,
  PRIMARY KEY (project_id, bundle_id, url)
);
CREATE INDEX artifact_files_debug_id ON artifact_files (project_id, debug_id, type) WHERE debug_id IS NOT NULL;
CREATE INDEX artifact_files_release_url ON artifact_files (project_id, release, url);

-- Down Migration
DROP TABLE artifact_files;
