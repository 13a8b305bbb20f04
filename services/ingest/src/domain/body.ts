import { brotliDecompressSync, inflateSync, gunzipSync, inflateRawSync, zstdDecompressSync } from 'node:zlib';
import { ok, reject, type Result } from './rejections.ts';

// Decode stage: bytes on the wire → the uncompressed body, refusing decompression bombs early
// (zlib stops at maxOutputLength instead of inflating everything first).

export function decompress(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Result<Buffer> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  try {
    switch (encoding) {
      case '':
      case 'identity':
        return body.length > maxBytes ? reject('too_large') : ok(body);
      case 'gzip':
      case 'x-gzip':
        return ok(gunzipSync(body, { maxOutputLength: maxBytes }));
      case 'deflate':
        // Some clients send raw deflate without the zlib wrapper.
        return ok(body[0] === 0x78 ? inflateSync(body, { maxOutputLength: maxBytes }) : inflateRawSync(body, { maxOutputLength: maxBytes }));
      case 'br':
        return ok(brotliDecompressSync(body, { maxOutputLength: maxBytes }));
      case 'zstd':
        // Relay takes it too; Node's own zlib has it since Node 22.15 / 23.8.
        return ok(zstdDecompressSync(body, { maxOutputLength: maxBytes }));
      default:
        return reject('unsupported_encoding');
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|exceeds/.test(String(error))) return reject('too_large', `decompressed body exceeds ${maxBytes} bytes`);
    return reject('invalid_compression');
  }
}

/** Legacy Raven store bodies: base64 of zlib-compressed JSON. */
export function decodeLegacyStoreBody(body: Buffer, maxBytes: number): Result<Buffer> {
  const first = body.subarray(0, 1).toString();
  if (first === '{' || first === '[' || first === ' ' || body.length === 0) return ok(body);
  const text = body.toString('latin1').trim();
  if (!/^[A-Za-z0-9+/=\r\n]+$/.test(text)) return ok(body);
  const raw = Buffer.from(text, 'base64');
  return decompress(raw, raw[0] === 0x78 ? 'deflate' : 'identity', maxBytes);
}

export function parseJsonObject(body: Buffer): Result<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return reject('invalid_json');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return reject('invalid_event');
  return ok(parsed as Record<string, unknown>);
}
