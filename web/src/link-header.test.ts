import { describe, expect, it } from 'vitest';
import { parseLinkHeader } from './link-header.ts';

const link = (previous: boolean, next: boolean) =>
  `<http://x/api/0/projects/a/b/issues/?cursor=0:0:1>; rel="previous"; results="${previous}"; cursor="0:0:1", ` +
  `<http://x/api/0/projects/a/b/issues/?cursor=0:25:0>; rel="next"; results="${next}"; cursor="0:25:0"`;

describe("Sentry's Link header", () => {
  it.each([
    [link(false, true), { next: '0:25:0' }],
    [link(true, false), { previous: '0:0:1' }],
    [link(true, true), { previous: '0:0:1', next: '0:25:0' }],
    [link(false, false), {}],
    [null, {}],
  ])('%s offers %j', (header, cursors) => {
    expect(parseLinkHeader(header)).toEqual(cursors);
  });
});
