import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeLegacyStoreBody, decompress, parseJsonObject } from './body.ts';

// The decode stage with plain bodies: the Content-Encoding an SDK or proxy sends, the size limit
// at its edge, the legacy Raven store body, and what counts as an event object.

const body = Buffer.from(JSON.stringify({ message: 'compressed' }));

describe('Content-Encoding', () => {
  it.each([[''], ['identity'], [' Identity '], [undefined]])('takes %j as the body itself', (encoding) => {
    expect(decompress(body, encoding, 1024)).toEqual({ ok: true, value: body });
  });

  it.each([
    ['gzip', gzipSync(body)],
    [' GZIP ', gzipSync(body)],
    ['x-gzip', gzipSync(body)],
    ['Deflate', deflateSync(body)],
    ['deflate', deflateRawSync(body)],
    ['br', brotliCompressSync(body)],
    [' BR', brotliCompressSync(body)],
    ['zstd', zstdCompressSync(body)],
  ])('inflates %j', (encoding, raw) => {
    expect(decompress(raw, encoding, 1024)).toEqual({ ok: true, value: body });
  });

  it('holds an uncompressed body to the limit, the limit itself allowed', () => {
    expect(decompress(body, 'identity', body.length)).toEqual({ ok: true, value: body });
    expect(decompress(body, 'identity', body.length - 1)).toEqual({ ok: false, rejection: { reason: 'too_large' } });
  });

  it('holds a compressed body to the limit once inflated, and says so', () => {
    const max = body.length - 1;
    for (const [encoding, raw] of [['gzip', gzipSync(body)], ['deflate', deflateSync(body)], ['deflate', deflateRawSync(body)], ['br', brotliCompressSync(body)], ['zstd', zstdCompressSync(body)]] as const) {
      expect(decompress(raw, encoding, max)).toEqual({ ok: false, rejection: { reason: 'too_large', detail: `decompressed body exceeds ${max} bytes` } });
      expect(decompress(raw, encoding, body.length)).toEqual({ ok: true, value: body });
    }
  });

  it.each([
    ['compress', body, 'unsupported_encoding'],
    ['gzip, br', body, 'unsupported_encoding'],
    ['gzip', body, 'invalid_compression'],
    ['deflate', Buffer.from([0x78, 0x00, 0x01]), 'invalid_compression'],
    ['deflate', Buffer.from('not deflate'), 'invalid_compression'],
    ['br', Buffer.from('not brotli at all, no'), 'invalid_compression'],
  ])('refuses %j of %s as %s', (encoding, raw, reason) => {
    expect(decompress(raw, encoding, 1024)).toEqual({ ok: false, rejection: { reason } });
  });
});

describe('legacy Raven store bodies', () => {
  it.each([
    ['an object', body],
    ['a list', Buffer.from('[1]')],
    ['text after a space', Buffer.from(' {"a":1}')],
    ['nothing', Buffer.alloc(0)],
    ['text that is not base64', Buffer.from('message: hello')],
    ['a newline then JSON', Buffer.from('\n{"a":1}')],
    // A body starting with a space is text, even when base64 follows: it then fails as JSON.
    ['base64 after a space', Buffer.from(` ${deflateSync(body).toString('base64')}`)],
  ])('passes %s through as it came', (_case, raw) => {
    expect(decodeLegacyStoreBody(raw, 1024)).toEqual({ ok: true, value: raw });
  });

  it('decodes base64 of zlib-compressed JSON, line-wrapped or not', () => {
    const encoded = deflateSync(body).toString('base64');
    expect(decodeLegacyStoreBody(Buffer.from(encoded), 1024)).toEqual({ ok: true, value: body });
    const wrapped = `${encoded.slice(0, 10)}\r\n${encoded.slice(10)}\n`;
    expect(decodeLegacyStoreBody(Buffer.from(wrapped), 1024)).toEqual({ ok: true, value: body });
    // Blanks around it are trimmed (a space before it is not: see above).
    expect(decodeLegacyStoreBody(Buffer.from(`\t${encoded} \t`), 1024)).toEqual({ ok: true, value: body });
  });

  it('decodes base64 of uncompressed JSON', () => {
    expect(decodeLegacyStoreBody(Buffer.from(body.toString('base64')), 1024)).toEqual({ ok: true, value: body });
  });

  it('holds the decoded body to the limit', () => {
    expect(decodeLegacyStoreBody(Buffer.from(body.toString('base64')), body.length - 1)).toEqual({ ok: false, rejection: { reason: 'too_large' } });
    expect(decodeLegacyStoreBody(Buffer.from(deflateSync(body).toString('base64')), body.length - 1)).toMatchObject({ ok: false, rejection: { reason: 'too_large' } });
  });
});

describe('the event object', () => {
  it('parses a JSON object, UTF-8', () => {
    expect(parseJsonObject(Buffer.from('{"message":"café"}'))).toEqual({ ok: true, value: { message: 'café' } });
  });

  it.each([['{nope'], [''], ['{"a":1']])('refuses %j as not JSON', (text) => {
    expect(parseJsonObject(Buffer.from(text))).toEqual({ ok: false, rejection: { reason: 'invalid_json' } });
  });

  it.each([['null'], ['[1,2]'], ['3'], ['"event"'], ['true']])('refuses %s as not an event object', (text) => {
    expect(parseJsonObject(Buffer.from(text))).toEqual({ ok: false, rejection: { reason: 'invalid_event' } });
  });
});
