import { describe, expect, it } from 'vitest';
import { compileAllowedOrigins, isOriginAllowed, normalizeAllowedOrigins, parseOriginPattern } from './allowed-origins.ts';

// A project's allowed origins, as Sentry's is_valid_origin reads `allowedDomains`.

describe('an allowed-origins list', () => {
  it.each([
    // pattern, origin, allowed
    ['*', 'https://anything.example', true],
    ['*', 'not a url', true],
    ['https://app.example.com', 'https://app.example.com', true],
    ['https://app.example.com', 'https://APP.Example.com', true],
    ['https://app.example.com/', 'https://app.example.com', true],
    ['HTTPS://App.Example.com', 'https://app.example.com', true],
    ['https://app.example.com', 'https://app.example.com:8443', true],
    ['https://app.example.com', 'http://app.example.com', false],
    ['https://app.example.com', 'https://example.com', false],
    ['https://app.example.com', 'https://evil.app.example.com', false],
    ['https://app.example.com:8443', 'https://app.example.com:8443', true],
    ['https://app.example.com:8443', 'https://app.example.com', false],
    ['https://app.example.com:443', 'https://app.example.com', true],
    ['example.com', 'https://example.com', true],
    ['example.com', 'http://example.com:8080', true],
    ['example.com', 'https://www.example.com', false],
    ['example.com', 'https://notexample.com', false],
    ['example.com', 'https://example.com.evil.test', false],
    ['*.example.com', 'https://example.com', true],
    ['*.example.com', 'https://www.example.com', true],
    ['*.example.com', 'http://a.b.example.com:3000', true],
    ['*.example.com', 'https://evilexample.com', false],
    ['*.example.com', 'https://example.com.evil.test', false],
    ['https://*.example.com', 'http://www.example.com', false],
    ['*://*.example.com', 'http://www.example.com', true],
    ['*:8080', 'http://anything.test:8080', true],
    ['*:8080', 'http://anything.test:8081', false],
    ['localhost:3000', 'http://localhost:3000', true],
    ['localhost:3000', 'http://localhost:3001', false],
    ['127.0.0.1', 'http://127.0.0.1:5173', true],
    ['[::1]:3000', 'http://[::1]:3000', true],
    ['bücher.example', 'https://xn--bcher-kva.example', true],
    ['xn--bcher-kva.example', 'https://bücher.example', true],
    ['chrome-extension://abcdef', 'chrome-extension://abcdef', true],
    ['example.com', 'null', false],
    ['example.com', 'not a url', false],
    ['example.com', '', false],
  ])('%s lets %s post: %s', (pattern, origin, allowed) => {
    expect(isOriginAllowed(origin, compileAllowedOrigins([pattern]))).toBe(allowed);
  });

  it('matches when any of its patterns does, and refuses every origin when empty', () => {
    const list = compileAllowedOrigins(['https://app.example.com', '*.example.org']);
    expect(isOriginAllowed('https://docs.example.org', list)).toBe(true);
    expect(isOriginAllowed('https://other.test', list)).toBe(false);
    expect(isOriginAllowed('https://app.example.com', compileAllowedOrigins([]))).toBe(false);
  });

  it('ignores a stored pattern that does not parse, as Sentry does', () => {
    expect(isOriginAllowed('https://app.example.com', compileAllowedOrigins(['http://', 'app.example.com']))).toBe(true);
  });
});

describe('origin patterns', () => {
  it.each(['*', 'example.com', '*.example.com', 'https://example.com', 'http://example.com:8080', '*:8080', '*://example.com', 'localhost', '[::1]', 'https://example.com/'])('accepts %s', (pattern) => {
    expect(parseOriginPattern(pattern).ok).toBe(true);
  });

  it.each(['', ' ', 'https://', 'https://example.com/path', 'example.com:0', 'example.com:70000', 'exa mple.com', 'ex*ample.com', 'www.*.example.com', 'user@example.com', 'example.com?x=1', '**', '://example.com', 'x'.repeat(400)])(
    'refuses %j with a reason',
    (pattern) => {
      const parsed = parseOriginPattern(pattern);
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.reason).toMatch(/not an origin pattern/);
    },
  );

  it('normalizes a list for storage: lowercase, no trailing slash, no duplicates, order kept', () => {
    expect(normalizeAllowedOrigins([' https://App.example.com/ ', '*.example.org', 'https://app.example.com'])).toEqual({ ok: true, value: ['https://app.example.com', '*.example.org'] });
    expect(normalizeAllowedOrigins([])).toEqual({ ok: true, value: [] });
    expect(normalizeAllowedOrigins(['example.com', 'https://x/y'])).toMatchObject({ ok: false, reason: expect.stringContaining('https://x/y') });
    expect(normalizeAllowedOrigins(Array.from({ length: 201 }, (_, i) => `h${i}.example`))).toMatchObject({ ok: false });
  });
});
