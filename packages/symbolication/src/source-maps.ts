import { PostgresBlobStore, type BlobStore, type Pool, type PoolClient } from '@trapline/runtime';
import type { EventError, NormalizedEvent } from '@trapline/schemas';
import { candidateUrls, resolveReference, sourceMappingUrl } from './source-urls.ts';
import { parseSourceMap, symbolicateEvent, type ParsedMap, type SourceLookup, type SourceResolution } from './symbolicate.ts';

// Where a project's source maps are: the artifact files the projector recorded (by debug id, or by
// release and URL) read through `db` (the API's pool, or the projector's transaction, which sees
// the bundles of its own batch), their bytes in the blob store. Blobs are content-addressed, so
// their texts and parsed maps are kept across calls.

/** What queries the read models: a pool or a transaction's client. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

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
  private readonly lines = new Map<string, string[]>();

  /** `blobs`: the blob store reached through `db` (Postgres by default). */
  constructor(private readonly blobsOf: (db: Queryable) => BlobStore = (db) => new PostgresBlobStore(db as Pool)) {}

  /** The event as the source reads (frames with a map resolved) and why some frames could not be. */
  symbolicate(db: Queryable, projectId: number, event: NormalizedEvent): Promise<{ event: NormalizedEvent; errors: EventError[] }> {
    return symbolicateEvent(event, this.lookup(db, projectId, event.release ?? null));
  }

  lookup(db: Queryable, projectId: number, release: string | null): SourceLookup {
    const blobs = this.blobsOf(db);
    return async ({ absPath, debugId }) => {
      const files = debugId ? await this.byDebugId(db, projectId, debugId) : release ? await this.byRelease(db, blobs, projectId, release, absPath) : undefined;
      if (!files?.map) return undefined;
      return this.resolution(blobs, files.map, files.minified);
    };
  }

  private async byDebugId(db: Queryable, projectId: number, debugId: string) {
    const rows = await db.query<FileRow>(
      `SELECT url, type, blob, source_map FROM artifact_files WHERE project_id = $1 AND debug_id = $2 AND type IN ('source_map', 'minified_source') ORDER BY assembled_at DESC`,
      [projectId, debugId.toLowerCase()],
    );
    return { map: rows.rows.find((row) => row.type === 'source_map'), minified: rows.rows.find((row) => row.type === 'minified_source') };
  }

  private async byRelease(db: Queryable, blobs: BlobStore, projectId: number, release: string, absPath: string) {
    const candidates = candidateUrls(absPath);
    const rows = await db.query<FileRow>(
      `SELECT url, type, blob, source_map FROM artifact_files WHERE project_id = $1 AND release = $2 AND url = ANY($3) AND type <> 'source_map' ORDER BY assembled_at DESC`,
      [projectId, release, candidates],
    );
    const minified = candidates.map((url) => rows.rows.find((row) => row.url === url)).find((row) => row !== undefined);
    if (!minified) return undefined;
    const reference = minified.source_map ?? sourceMappingUrl(await this.text(blobs, minified.blob));
    if (!reference) return undefined;
    const mapUrl = resolveReference(minified.url, reference);
    const map = await db.query<FileRow>('SELECT url, type, blob, source_map FROM artifact_files WHERE project_id = $1 AND release = $2 AND url = $3 ORDER BY assembled_at DESC LIMIT 1', [projectId, release, mapUrl]);
    return { map: map.rows[0], minified };
  }

  private async text(blobs: BlobStore, blob: string): Promise<string> {
    const kept = this.texts.get(blob);
    if (kept !== undefined) return kept;
    const text = (await blobs.get(blob))?.toString('utf8') ?? '';
    this.keep(this.texts, blob, text);
    return text;
  }

  private async resolution(blobs: BlobStore, map: FileRow, minified: FileRow | undefined): Promise<SourceResolution> {
    let parsed = this.parsed.get(map.blob);
    if (!parsed) {
      parsed = parseSourceMap(await this.text(blobs, map.blob));
      this.keep(this.parsed, map.blob, parsed);
    }
    if ('error' in parsed) return { ok: false, error: { type: 'js_invalid_source', url: map.url, reason: `the source map does not parse: ${parsed.error}` } };
    return { ok: true, map: parsed, minifiedLines: minified ? await this.linesOf(blobs, minified.blob) : undefined, mapUrl: map.url };
  }

  private async linesOf(blobs: BlobStore, blob: string): Promise<string[]> {
    const kept = this.lines.get(blob);
    if (kept) return kept;
    const lines = (await this.text(blobs, blob)).split('\n');
    this.keep(this.lines, blob, lines);
    return lines;
  }

  private keep<T>(cache: Map<string, T>, key: string, value: T): void {
    if (cache.size >= PARSED_KEPT) cache.delete(cache.keys().next().value!);
    cache.set(key, value);
  }
}
