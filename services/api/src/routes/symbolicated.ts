import type { EventRow, Pool, ProjectRow } from '@trapline/runtime';
import type { EventError } from '@trapline/schemas';
import { SourceMaps } from '@trapline/symbolication';
import { serializeListedEvent } from '../domain/serialize.ts';

/** One per process: its caches of parsed maps serve every route. */
const sourceMaps = new SourceMaps();

/**
 * An event's row as the API shows it in full: its frames through the source maps uploaded so far
 * (so an event that came before its maps reads as the source once they are), with Sentry's
 * `errors` for frames whose map failed. Done at read time from the stored event, so nothing here
 * is a read model a rebuild must reproduce.
 */
export async function symbolicated(pool: Pool, row: EventRow): Promise<{ row: EventRow; errors: EventError[] }> {
  const { event, errors } = await sourceMaps.symbolicate(pool, row.project_id, row.payload);
  return { row: { ...row, payload: event }, errors };
}

/** An event in a `?full=true` list, symbolicated as its detail is. */
export async function listedSymbolicatedEvent(pool: Pool, row: EventRow, project: ProjectRow) {
  const shown = await symbolicated(pool, row);
  return { ...serializeListedEvent(shown.row, project), errors: shown.errors };
}
