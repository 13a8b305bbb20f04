import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

// The web UI's production build (web/dist), read once at startup: a few hundred kilobytes, and a
// request can only ever name a file that was there (no path from the URL reaches the disk).

export interface WebAsset {
  body: Buffer;
  contentType: string;
  cacheControl: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Vite names what it bundles by content hash under assets/: cached for good. The rest is revalidated. */
const cacheControlFor = (path: string) => (path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

/** URL path → asset, or undefined when there is no build (no index.html) in `root`. */
export function loadWebAssets(root: string): Map<string, WebAsset> | undefined {
  if (!existsSync(join(root, 'index.html'))) return undefined;
  const assets = new Map<string, WebAsset>();
  for (const file of filesUnder(root)) {
    const path = `/${relative(root, file).split(sep).join('/')}`;
    assets.set(path, { body: readFileSync(file), contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', cacheControl: cacheControlFor(path) });
  }
  return assets;
}
