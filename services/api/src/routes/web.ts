import type { WebAsset } from '../adapters/web-assets.ts';
import { ApiError, NOT_FOUND, type ZodApp } from './context.ts';

// The web UI on the API's origin: its built files, and index.html for every other page path
// (the app routes in the browser). /api/… stays the API's: what no API route serves is 404
// `{"detail"}` exactly as before, never the page.

// The app is one module script and one stylesheet from this origin; nothing inline, nothing else.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

const isApiPath = (path: string) => path === '/api' || path.startsWith('/api/');

export function webRoutes(app: ZodApp, assets: ReadonlyMap<string, WebAsset>): void {
  const index = assets.get('/index.html')!;
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (isApiPath(path)) throw new ApiError(404, NOT_FOUND);
    // A missing file (a path with an extension) is a 404, not the page under a script's name.
    const asset = assets.get(path) ?? (/\.[a-z0-9]+$/i.test(path) ? undefined : index);
    if (!asset) throw new ApiError(404, NOT_FOUND);
    return reply.headers({ ...PAGE_HEADERS, 'content-type': asset.contentType, 'cache-control': asset.cacheControl }).send(asset.body);
  });
}
