import type { PoolClient } from '@trapline/runtime';
import type { NormalizedEvent } from '@trapline/schemas';
import { SourceMaps } from '@trapline/symbolication';
import { groupHashes } from '../domain/grouping.ts';
import { describeIssue } from '../domain/issue.ts';
import type { Parsed } from '../domain/received.ts';

// Events whose frames have source maps group by the resolved frames, so the same bug in two builds
// (different minified names and files) is one issue. The maps are those the log holds before the
// event: a project's bundles (ArtifactBundleAssembled) and events share its partition, so a replay
// groups every event as live did. An event that came before its maps keeps the issue it got (as in
// Sentry); the API still shows it through the maps uploaded since (read-time symbolication).

const sourceMaps = new SourceMaps();

export async function groupOnResolvedFrames(db: PoolClient, events: Parsed[]): Promise<void> {
  const candidates = events.filter((entry) => entry.fields.mayHaveSourceMaps);
  if (candidates.length === 0) return;
  const withMaps = await db.query<{ project_id: number }>('SELECT DISTINCT project_id FROM artifact_files WHERE project_id = ANY($1::bigint[])', [[...new Set(candidates.map((entry) => entry.record.projectId))]]);
  const projects = new Set(withMaps.rows.map((row) => row.project_id));
  for (const entry of candidates) {
    if (!projects.has(entry.record.projectId)) continue;
    // The parse kept no tree (domain/received.ts): the frames are read again.
    const { event } = await sourceMaps.symbolicate(db, entry.record.projectId, JSON.parse(entry.payload.toString()) as NormalizedEvent);
    const grouping = groupHashes(event);
    entry.hash = grouping.hashes[0]!;
    entry.facts = describeIssue(event);
  }
}
