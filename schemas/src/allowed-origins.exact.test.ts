import { describe, expect, it } from 'vitest';
import { ALLOW_ANY_ORIGIN, compileAllowedOrigins, DEFAULT_ALLOWED_ORIGINS, isOriginAllowed, MAX_ALLOWED_ORIGINS, MAX_ORIGIN_PATTERN_LENGTH, normalizeAllowedOrigins, parseOriginPattern } from './allowed-origins.ts';

// Allowed origins read exactly: what each pattern means, the limits at their edges, the reason an
// API client reads when a pattern is refused, and the default ports an origin compares with.

describe('what a pattern means', () => {
  it.each([
    ['*', { scheme: null, host: null, subdomains: false, port: null }],
    [' * ', { scheme: null, host: null, subdomains: false, port: null }],
    ['*/', { scheme: null, host: null, subdomains: false, port: null }],
    ['example.com', { scheme: null, host: 'example.com', subdomains: false, port: null }],
    ['*.Example.com//', { scheme: null, host: 'example.com', subdomains: true, port: null }],
    ['https://app.example.com:08443', { scheme: 'https', host: 'app.example.com', subdomains: false, port: '8443' }],
    ['*://example.com:1', { scheme: null, host: 'example.com', subdomains: false, port: '1' }],
    ['*:65535', { scheme: null, host: null, subdomains: false, port: '65535' }],
    ['0x7f.1', { scheme: null, host: '127.0.0.1', subdomains: false, port: null }],
    ['bücher.example', { scheme: null, host: 'xn--bcher-kva.example', subdomains: false, port: null }],
    ['[::1]', { scheme: null, host: '[::1]', subdomains: false, port: null }],
  ])('%j is %j', (text, pattern) => {
    expect(parseOriginPattern(text)).toEqual({ ok: true, value: pattern });
  });

  it.each([['example.com:0'], ['example.com:65536'], ['a\\b'], ['1.2.3.256'], ['ex%20ample.com']])('refuses %j and says how to write one', (text) => {
    expect(parseOriginPattern(text)).toEqual({ ok: false, reason: `${JSON.stringify(text)} is not an origin pattern: use *, example.com, *.example.com or https://example.com[:port] (no path)` });
  });

  it('holds a pattern to 300 characters, and quotes only the first 100 of one refused', () => {
    const host = (length: number) => `${'a'.repeat(length - 4)}.com`;
    expect(MAX_ORIGIN_PATTERN_LENGTH).toBe(300);
    expect(parseOriginPattern(host(300))).toMatchObject({ ok: true, value: { host: host(300) } });
    const long = host(301);
    expect(parseOriginPattern(long)).toEqual({ ok: false, reason: `${JSON.stringify(long.slice(0, 100))} is not an origin pattern: use *, example.com, *.example.com or https://example.com[:port] (no path)` });
  });
});

describe('a stored list', () => {
  it('takes up to 200 patterns', () => {
    expect(MAX_ALLOWED_ORIGINS).toBe(200);
    const patterns = (count: number) => Array.from({ length: count }, (_, n) => `h${n}.example`);
    expect(normalizeAllowedOrigins(patterns(200))).toEqual({ ok: true, value: patterns(200) });
    expect(normalizeAllowedOrigins(patterns(201))).toEqual({ ok: false, reason: 'at most 200 allowed origins' });
  });

  it('is * until a project sets its own', () => {
    expect(DEFAULT_ALLOWED_ORIGINS).toEqual(['*']);
    expect(compileAllowedOrigins(DEFAULT_ALLOWED_ORIGINS)).toBe(ALLOW_ANY_ORIGIN);
  });

  it('compiles to its valid patterns, or to any origin when one of them is *', () => {
    expect(compileAllowedOrigins(['nope/path', 'https://app.example.com'])).toEqual({ any: false, patterns: [{ scheme: 'https', host: 'app.example.com', subdomains: false, port: null }] });
    expect(compileAllowedOrigins(['https://app.example.com', '*'])).toEqual({ any: true });
    expect(compileAllowedOrigins(['*:8080', 'https://*', 'example.com'])).toEqual({
      any: false,
      patterns: [
        { scheme: null, host: null, subdomains: false, port: '8080' },
        { scheme: 'https', host: null, subdomains: false, port: null },
        { scheme: null, host: 'example.com', subdomains: false, port: null },
      ],
    });
  });
});

describe('an origin against a pattern', () => {
  it.each([
    ['*:443', 'https://app.example.com', true],
    ['*:80', 'http://app.example.com', true],
    ['*:80', 'ws://app.example.com', true],
    ['*:443', 'wss://app.example.com', true],
    ['*:443', 'http://app.example.com', false],
    ['*:80', 'chrome-extension://abcdef', false],
    ['https://*', 'https://anything.test:1234', true],
    ['https://*', 'http://anything.test', false],
    ['*.example.com', 'https://sub.example.com', true],
    ['example.com', 'https://sub.example.com', false],
    ['*:8080', 'file:///etc/passwd', false],
  ])('%s lets %s post: %s', (pattern, origin, allowed) => {
    expect(isOriginAllowed(origin, compileAllowedOrigins([pattern]))).toBe(allowed);
  });
});

// An origin without a host: what ingest reads from the Referer of a page opened from disk
// (`file:///home/me/index.html`; Sentry's origin_from_url makes it `file://`), or `about:blank`.
// Sentry's is_valid_origin (src/sentry/utils/http.py) takes its host as '' and goes on matching:
// a pattern of any host on that scheme (`file://*`: domain `*`, path `*`) lets it post, a pattern
// naming a host, a subdomain or a port does not.
describe('an origin without a host, as Sentry matches it', () => {
  it.each([
    ['file://*', 'file://', true],
    ['file://*', 'file:///home/me/index.html', true],
    ['FILE://*/', 'file://', true],
    ['about://*', 'about:blank', true],
    ['https://*', 'file://', false],
    ['example.com', 'file://', false],
    ['*.example.com', 'file:///home/me/index.html', false],
    ['*:8080', 'file://', false],
    ['file://localhost', 'file://', false],
    ['file://*', 'file://localhost/etc/hosts', true],
  ])('%s lets %s post: %s', (pattern, origin, allowed) => {
    expect(isOriginAllowed(origin, compileAllowedOrigins([pattern]))).toBe(allowed);
  });

  it('still refuses what is no URL at all, or an http origin without its host', () => {
    const anyFile = compileAllowedOrigins(['file://*', 'https://*']);
    expect(isOriginAllowed('http://', anyFile)).toBe(false);
    expect(isOriginAllowed('file', anyFile)).toBe(false);
    expect(isOriginAllowed('', anyFile)).toBe(false);
  });
});
