import type { BlobStore, Pool } from '@trapline/runtime';
import type { EventError, NormalizedEvent } from '@trapline/schemas';
import { candidateUrls, parseSourceMap, resolveReference, sourceMappingUrl, symbolicateEvent, type ParsedMap, type SourceLookup, type SourceResolution } from '@trapline/symbolication';

// Where a project's source maps are: the artifact files the projector recorded (by debug id, or by
// release and URL), their bytes in the blob store. Parsed maps are kept for the next events.

interface FileRow {
  url: string;
  type: string;
  blob: string;
  source_map: string | null;
}

const PARSED_KEPT = 200;

export class SourceMaps {
  private readonly parsed = new Map<string, ParsedMap | { error: string }>();
  private readonly texts = new Map<string, string>();

  constructor(
    private readonly pool: Pool,
    private readonly blobs: BlobStore,
  ) {}

  /** The event as the source reads (frames with a map resolved) and why some frames could not be. */
  symbolicate(projectId: number, event: NormalizedEvent): Promise<{ event: NormalizedEvent; errors: EventError[] }> {
    return symbolicateEvent(event, this.lookup(projectId, event.release ?? null));
  }

  lookup(projectId: number, release: string | null): SourceLookup {
    return async ({ absPath, debugId }) => {
      const files = debugId ? await this.byDebugId(projectId, debugId) : release ? await this.byRelease(projectId, release, absPath) : undefined;
      if (!files?.map) return undefined;
      return this.resolution(files.map, files.minified);
    };
  }

  private async byDebugId(projectId: number, debugId: string) {
    const rows = await this.pool.query<FileRow>(
      `SELECT url, type, blob, source_map FROM artifact_files WHERE project_id = $1 AND debug_id = $2 AND type IN ('source_map', 'minified_source') ORDER BY assembled_at DESC`,
      [projectId, debugId.toLowerCase()],
    );
    return { map: rows.rows.find((row) => row.type === 'source_map'), minified: rows.rows.find((row) => row.type === 'minified_source') };
  }

  private async byRelease(projectId: number, release: string, absPath: string) {
    const candidates = candidateUrls(absPath);
    const rows = await this.pool.query<FileRow>(
      `SELECT url, type, blob, source_map FROM artifact_files WHERE project_id = $1 AND release = $2 AND url = ANY($3) AND type <> 'source_map' ORDER BY assembled_at DESC`,
      [projectId, release, candidates],
    );
    const minified = candidates.map((url) => rows.rows.find((row) => row.url === url)).find((row) => row !== undefined);
    if (!minified) return undefined;
    const reference = minified.source_map ?? sourceMappingUrl(await this.text(minified.blob));
    if (!reference) return undefined;
    const mapUrl = resolveReference(minified.url, reference);
    const map = await this.pool.query<FileRow>('SELECT url, type, blob, source_map FROM artifact_files WHERE project_id = $1 AND release = $2 AND url = $3 ORDER BY assembled_at DESC LIMIT 1', [projectId, release, mapUrl]);
    return { map: map.rows[0], minified };
  }

  private async text(blob: string): Promise<string> {
    const kept = this.texts.get(blob);
    if (kept !== undefined) return kept;
    const text = (await this.blobs.get(blob))?.toString('utf8') ?? '';
    this.keep(this.texts, blob, text);
    return text;
  }

  private async resolution(map: FileRow, minified: FileRow | undefined): Promise<SourceResolution> {
    let parsed = this.parsed.get(map.blob);
    if (!parsed) {
      parsed = parseSourceMap(await this.text(map.blob));
      this.keep(this.parsed, map.blob, parsed);
    }
    if ('error' in parsed) return { ok: false, error: { type: 'js_invalid_source', url: map.url, reason: `the source map does not parse: ${parsed.error}` } };
    return { ok: true, map: parsed, minified: minified ? await this.text(minified.blob) : undefined, mapUrl: map.url };
  }

  private keep<T>(cache: Map<string, T>, key: string, value: T): void {
    if (cache.size >= PARSED_KEPT) cache.delete(cache.keys().next().value!);
    cache.set(key, value);
  }
}

const shared = new WeakMap<Pool, SourceMaps>();

/** One SourceMaps (and so one cache of parsed maps) per database pool, whichever routes ask. */
export function sourceMapsFor(pool: Pool, blobs: BlobStore): SourceMaps {
  let sourceMaps = shared.get(pool);
  if (!sourceMaps) shared.set(pool, (sourceMaps = new SourceMaps(pool, blobs)));
  return sourceMaps;
}
