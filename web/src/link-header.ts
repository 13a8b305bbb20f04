// Sentry's Link header: `<url>; rel="previous"; results="false"; cursor="0:0:1", <url>; rel="next"; …`.
// A direction is only offered when its results="true".

export interface PageCursors {
  previous?: string;
  next?: string;
}

export function parseLinkHeader(header: string | null): PageCursors {
  const cursors: PageCursors = {};
  for (const part of (header ?? '').split(/,\s*(?=<)/)) {
    const attribute = (name: string) => new RegExp(`;\\s*${name}="([^"]*)"`).exec(part)?.[1];
    const rel = attribute('rel');
    const cursor = attribute('cursor');
    if ((rel === 'previous' || rel === 'next') && attribute('results') === 'true' && cursor !== undefined) cursors[rel] = cursor;
  }
  return cursors;
}
