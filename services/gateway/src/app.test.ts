import { describe, expect, it } from 'vitest';
import { upstreamFor } from './app.ts';

describe('the gateway', () => {
  it.each([
    ['/api/1/store/', 'ingest'],
    ['/api/42/envelope/?sentry_key=abc&sentry_version=7', 'ingest'],
    ['/api/42/envelope', 'ingest'],
    ['/api/0/projects/o/p/issues/', 'api'],
    ['/api/0/', 'api'],
    ['/api/1/store/extra', 'api'],
    ['/api/abc/store/', 'api'],
    ['/health', 'api'],
  ])('sends %s to %s', (url, expected) => {
    expect(upstreamFor(url, 'ingest', 'api')).toBe(expected);
  });
});
