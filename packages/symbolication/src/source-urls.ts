// How a frame's abs_path names an uploaded file: sentry-cli uploads `~/path` (any origin), so
// `https://cdn.example.com/static/app.min.js` and `app:///static/app.min.js` both match
// `~/static/app.min.js`, as in Sentry.

/** The uploaded names a frame's abs_path may be stored under, most specific first. */
export function candidateUrls(absPath: string): string[] {
  const candidates = [absPath];
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/[^?#]*)/i.exec(absPath);
  const path = match ? match[1]! : absPath.startsWith('/') ? absPath : undefined;
  if (path) candidates.push(`~${path}`);
  return [...new Set(candidates)];
}

/** The `//# sourceMappingURL=` of a minified file, if any (the last one wins, as in browsers). */
export function sourceMappingUrl(source: string): string | undefined {
  const matches = [...source.slice(-4096).matchAll(/\/\/[#@]\s*sourceMappingURL=(\S+)\s*$/gm)];
  return matches.at(-1)?.[1];
}

/** A reference (the map of a minified file) resolved against the file's own URL, `~/` kept. */
export function resolveReference(fileUrl: string, reference: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(reference) || reference.startsWith('~/')) return reference;
  const base = fileUrl.startsWith('~/') ? `http://tilde${fileUrl.slice(1)}` : fileUrl;
  try {
    const resolved = new URL(reference, base).toString();
    return fileUrl.startsWith('~/') ? `~${resolved.slice('http://tilde'.length)}` : resolved;
  } catch {
    return reference;
  }
}

/** A map's source as a file name: bundler prefixes (webpack://, ../) go. */
export function cleanSourcePath(source: string): string {
  return source.replace(/^webpack:\/\/[^/]*\//, '').replace(/^(\.\.?\/)+/, '');
}
