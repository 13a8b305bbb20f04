import { gunzipSync } from 'node:zlib';
import { strFromU8, unzipSync } from 'fflate';

// sentry-cli's chunk-upload protocol and artifact bundles, as pure decisions: the options the
// server offers, a chunk checked against its SHA-1, and a bundle (symbolic's source bundle: a
// ZIP, after a small header, with a manifest.json naming each file's URL, type and headers) read
// into the files to keep.

export const CHUNK_SIZE = 8 * 1024 * 1024;
export const CHUNKS_PER_REQUEST = 64;
export const MAX_REQUEST_SIZE = 32 * 1024 * 1024;
/** Largest assembled bundle: beyond it assembly is refused with 413. */
export const MAX_BUNDLE_SIZE = 256 * 1024 * 1024;

export function chunkUploadOptions(url: string) {
  return {
    url,
    chunkSize: CHUNK_SIZE,
    chunksPerRequest: CHUNKS_PER_REQUEST,
    maxFileSize: MAX_BUNDLE_SIZE,
    maxRequestSize: MAX_REQUEST_SIZE,
    concurrency: 1,
    maxWait: 60,
    hashAlgorithm: 'sha1',
    compression: ['gzip'],
    accept: ['artifact_bundles', 'artifact_bundles_v2', 'sources', 'release_files'],
  };
}

export type ChunkResult = { ok: true; sha1: string; data: Buffer } | { ok: false; status: 400 | 413; detail: string };

/** One uploaded chunk: gunzipped when its field says so, no larger than a chunk, and its bytes must hash to its name. */
export function readChunk(field: string, name: string, body: Buffer, sha1Of: (data: Buffer) => string): ChunkResult {
  if (!/^[0-9a-f]{40}$/.test(name)) return { ok: false, status: 400, detail: `chunk name ${JSON.stringify(name.slice(0, 60))} is not a SHA-1` };
  let data = body;
  if (field === 'file_gzip') {
    try {
      data = gunzipSync(body, { maxOutputLength: CHUNK_SIZE + 1 });
    } catch (error) {
      const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || /too large|maxOutputLength/i.test((error as Error).message);
      return tooLarge ? { ok: false, status: 413, detail: `chunk ${name} is larger than ${CHUNK_SIZE} bytes` } : { ok: false, status: 400, detail: `chunk ${name} is not valid gzip` };
    }
  } else if (field !== 'file') {
    return { ok: false, status: 400, detail: `unknown form field ${JSON.stringify(field.slice(0, 60))}: chunks go in file or file_gzip` };
  }
  if (data.length > CHUNK_SIZE) return { ok: false, status: 413, detail: `chunk ${name} is larger than ${CHUNK_SIZE} bytes` };
  if (sha1Of(data) !== name) return { ok: false, status: 400, detail: `chunk ${name} is corrupt: its bytes do not hash to its name` };
  return { ok: true, sha1: name, data };
}

export interface BundleFile {
  url: string;
  type: string;
  debugId: string | null;
  sourceMap: string | null;
  data: Buffer;
}

export type BundleResult = { ok: true; files: BundleFile[]; release: string | null; dist: string | null } | { ok: false; detail: string };

interface Manifest {
  files?: Record<string, { url?: unknown; type?: unknown; headers?: Record<string, unknown> }>;
  attributes?: Record<string, unknown>;
}

const ZIP_MAGIC = Buffer.from('PK\u0003\u0004', 'latin1');

/** Reads an artifact bundle: every file the manifest names with its URL, type, debug id and source map reference. */
export function readArtifactBundle(bundle: Buffer): BundleResult {
  const start = bundle.indexOf(ZIP_MAGIC);
  if (start < 0 || start > 64) return { ok: false, detail: 'the bundle is not a ZIP archive' };
  let entries: Record<string, Uint8Array>;
  try {
    // The source bundle header comes before the ZIP, whose offsets count from the start of the file.
    entries = unzipSync(new Uint8Array(bundle.buffer, bundle.byteOffset, bundle.length));
  } catch (error) {
    return { ok: false, detail: `the bundle is not a readable ZIP archive: ${(error as Error).message}` };
  }
  const manifestBytes = entries['manifest.json'];
  if (!manifestBytes) return { ok: false, detail: 'the bundle has no manifest.json' };
  let manifest: Manifest;
  try {
    manifest = JSON.parse(strFromU8(manifestBytes)) as Manifest;
  } catch {
    return { ok: false, detail: 'the bundle manifest is not JSON' };
  }
  const files: BundleFile[] = [];
  for (const [path, info] of Object.entries(manifest.files ?? {})) {
    const bytes = entries[path];
    if (!bytes || typeof info.url !== 'string') return { ok: false, detail: `the manifest names ${path}, which the bundle lacks` };
    const headers = Object.fromEntries(Object.entries(info.headers ?? {}).map(([key, value]) => [key.toLowerCase(), typeof value === 'string' ? value : null]));
    files.push({
      url: info.url,
      type: typeof info.type === 'string' ? info.type : 'source',
      debugId: headers['debug-id']?.toLowerCase() ?? null,
      sourceMap: headers.sourcemap ?? headers['x-sourcemap'] ?? null,
      data: Buffer.from(bytes),
    });
  }
  const attribute = (name: string) => (typeof manifest.attributes?.[name] === 'string' ? (manifest.attributes[name] as string) : null);
  return { ok: true, files, release: attribute('release'), dist: attribute('dist') };
}
