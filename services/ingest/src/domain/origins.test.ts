import { describe, expect, it } from 'vitest';
import { compileAllowedOrigins } from '@trapline/schemas';
import { decideCors, requestOrigin } from './origins.ts';

// What ingest answers a browser about CORS, by the project's allowed origins.

describe("a request's origin", () => {
  it.each([
    ['https://app.example.com', undefined, 'https://app.example.com'],
    ['https://app.example.com', 'https://other.test/page', 'https://app.example.com'],
    [undefined, 'https://app.example.com:8443/some/page?q=1', 'https://app.example.com:8443'],
    ['null', 'https://app.example.com/page', 'https://app.example.com'],
    ['null', undefined, undefined],
    ['', undefined, undefined],
    [undefined, undefined, undefined],
    [undefined, 'garbage', 'garbage'],
    [undefined, '', undefined],
    [undefined, 'file:///home/me/index.html', 'file://'],
  ])('Origin %s, Referer %s: %s', (origin, referer, expected) => {
    expect(requestOrigin(origin, referer)).toBe(expected);
  });
});

describe('the CORS answer', () => {
  const list = compileAllowedOrigins(['https://app.example.com']);

  it.each([
    ['the default list, any origin', compileAllowedOrigins(['*']), 'https://elsewhere.test', undefined, { allowed: true, headers: { 'access-control-allow-origin': '*', vary: 'Origin' } }],
    ['a list, an allowed origin', list, 'https://app.example.com', undefined, { allowed: true, headers: { 'access-control-allow-origin': 'https://app.example.com', vary: 'Origin' } }],
    ['a list, an allowed Referer', list, undefined, 'https://app.example.com/page', { allowed: true, headers: { 'access-control-allow-origin': 'https://app.example.com', vary: 'Origin' } }],
    ['a list, another origin', list, 'https://elsewhere.test', undefined, { allowed: false, origin: 'https://elsewhere.test', headers: { vary: 'Origin' } }],
    ['a list, an allowed Referer but another Origin', list, 'https://elsewhere.test', 'https://app.example.com/', { allowed: false, origin: 'https://elsewhere.test', headers: { vary: 'Origin' } }],
    ['a list, no origin (a server SDK)', list, undefined, undefined, { allowed: true, headers: { vary: 'Origin' } }],
    ['an empty list, no origin', compileAllowedOrigins([]), undefined, undefined, { allowed: true, headers: { vary: 'Origin' } }],
  ])('%s', (_case, allowed, origin, referer, expected) => {
    expect(decideCors(allowed, origin, referer)).toEqual(expected);
  });
});
