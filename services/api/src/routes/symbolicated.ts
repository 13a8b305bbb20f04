import type { Pool } from '@trapline/runtime';
import { SourceMaps } from '@trapline/symbolication';
import { serializeEvent, type EventRow, type ProjectRow } from '../domain/serialize.ts';

/** One per process: its caches of parsed maps serve every route. */
const sourceMaps = new SourceMaps();

/**
 * An event as the API shows it in full: its frames through the source maps uploaded so far (so an
 * event that came before its maps reads as the source once they are), with Sentry's `errors` for
 * frames whose map failed. Done at read time from the stored event, so nothing here is a read
 * model a rebuild must reproduce.
 */
export async function serializeSymbolicatedEvent(pool: Pool, row: EventRow, project: ProjectRow) {
  const { event, errors } = await sourceMaps.symbolicate(pool, row.project_id, row.payload);
  return { ...serializeEvent({ ...row, payload: event }, project), errors };
}
