import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTrapline, type RunningTrapline } from './harness.ts';
import { sendJavaBurst } from './java-sdk.ts';
import { RawConnection, requestHead } from './raw-http.ts';

// Through the DSN's port (the front door, nginx) to the real services: the official Java SDK's
// burst (it sends `Connection: close`), curl's `Expect: 100-continue` on a large body, and
// generated hostile ingest requests, none of which may get a 5xx.

let trapline: RunningTrapline;
let port: number;
let publicKey: string;

beforeAll(async () => {
  trapline = await startTrapline();
  port = Number(new URL(trapline.publicUrl).port);
  publicKey = new URL(trapline.defaults.dsn).username;
});

afterAll(async () => {
  await trapline?.dispose();
});

const storedEvents = async (prefix: string) =>
  Number((await trapline.pool.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE payload->>'message' LIKE $1 || '%'", [prefix])).rows[0]!.n);

describe('the front door in front of the stack', () => {
  it('stores every event of a burst from the official Java SDK, which sends Connection: close', async () => {
    const prefix = `java burst ${randomBytes(4).toString('hex')}`;
    const ids = await sendJavaBurst(trapline.defaults.dsn, 10, prefix);
    expect(ids).toHaveLength(10);
    await eventually(async () => ((await storedEvents(prefix)) === 10 ? true : undefined), 'all 10 Java SDK events to be stored', 60000);
  });

  it('closes after a Connection: close answer from ingest, so a client reusing its socket never meets a refusal', async () => {
    for (let index = 0; index < 3; index += 1) {
      const connection = await RawConnection.open(port);
      const body = JSON.stringify({ message: `closing ${index}` });
      await connection.write(requestHead('POST', `/api/1/store/?sentry_key=${publicKey}`, { host: 'x', connection: 'close', 'content-type': 'application/json', 'content-length': body.length }) + body);
      const response = await connection.response();
      expect(response.status).toBe(200);
      expect(response.headers.connection).toBe('close');
      expect(response.headers['keep-alive']).toBeUndefined();
      expect(await connection.closedByServer()).toBe(true);
    }
  });

  it('gives a >1 MB body sent with Expect: 100-continue (as curl does) ingest\'s own 413, not a 5xx', async () => {
    const body = JSON.stringify({ message: 'big', extra: { blob: 'x'.repeat(1_500_000) } });
    const connection = await RawConnection.open(port);
    await connection.write(requestHead('POST', `/api/1/store/?sentry_key=${publicKey}`, { host: 'x', expect: '100-continue', 'content-type': 'application/json', 'content-length': body.length }));
    expect((await connection.response()).status).toBe(100);
    await connection.write(body);
    const response = await connection.response();
    connection.close();
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body.toString())).toEqual({ detail: 'event exceeds 1048576 bytes' });
  });

  it('stores zstd store and envelope bodies, and refuses a zstd bomb with 413 as it does a gzip one', async () => {
    const prefix = `zstd ${randomBytes(4).toString('hex')}`;
    const post = (endpoint: string, body: Buffer) =>
      fetch(`${trapline.publicUrl}/api/1/${endpoint}/?sentry_key=${publicKey}`, { method: 'POST', headers: { 'content-encoding': 'zstd' }, body: new Uint8Array(zstdCompressSync(body)) });
    expect((await post('store', Buffer.from(JSON.stringify({ message: `${prefix} store` })))).status).toBe(200);
    const envelope = `{}\n{"type":"event"}\n${JSON.stringify({ event_id: randomBytes(16).toString('hex'), message: `${prefix} envelope` })}\n`;
    expect((await post('envelope', Buffer.from(envelope))).status).toBe(200);
    await eventually(async () => ((await storedEvents(prefix)) === 2 ? true : undefined), 'both zstd events to be stored');
    for (const endpoint of ['store', 'envelope']) {
      const response = await post(endpoint, Buffer.alloc(64 * 1024 * 1024));
      expect(response.status, endpoint).toBe(413);
      expect(await response.json()).toEqual({ detail: `decompressed body exceeds ${trapline.config.MAX_REQUEST_BYTES} bytes` });
    }
  });

  it('answers 1,000 generated hostile ingest requests below 500, every refusal as {"detail": …}', async () => {
    const event = (message: string) => JSON.stringify({ event_id: randomBytes(16).toString('hex'), message });
    const encodings: Record<string, (body: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync, zstd: zstdCompressSync };
    const body = fc.oneof(
      fc.string({ maxLength: 200 }).map((message) => Buffer.from(event(message))),
      fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ maxLength: 300 }).map((text) => Buffer.from(text)),
      fc.constantFrom('{}', '[]', 'null', '{"event_id":"zz"}', '{"sdk":{}}\n{"type":"event","length":999}\n{}', '{}\n{"type":"event"}\n', Buffer.alloc(0).toString()).map((text) => Buffer.from(text)),
    );
    const sample = fc.record({
      method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'OPTIONS', 'DELETE'),
      project: fc.constantFrom('1', '1', '2', '0', '99999999999999999999', '-1'),
      endpoint: fc.constantFrom('store', 'envelope'),
      slash: fc.constantFrom('/', ''),
      key: fc.constantFrom(publicKey, publicKey, 'ab'.repeat(16), '', '%00', "' OR 1=1"),
      auth: fc.option(fc.constantFrom(`Sentry sentry_key=${publicKey}, sentry_version=7`, 'Sentry', 'Sentry sentry_key=', 'Bearer x', 'Sentry sentry_key=\u00ff'), { nil: undefined }),
      encoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'zstd', 'identity', 'x-unknown', 'gzip, br', ''), { nil: undefined }),
      compress: fc.boolean(),
      contentType: fc.option(fc.constantFrom('application/json', 'text/plain', 'application/x-sentry-envelope', 'multipart/form-data; boundary=x', 'application/octet-stream'), { nil: undefined }),
      close: fc.boolean(),
      body,
    });
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(sample, async (input) => {
        const compressor = input.encoding === undefined ? undefined : encodings[input.encoding];
        const payload = input.compress && compressor ? compressor(input.body) : input.body;
        const headers: Record<string, string> = {};
        if (input.auth !== undefined) headers['x-sentry-auth'] = input.auth;
        if (input.encoding !== undefined) headers['content-encoding'] = input.encoding;
        if (input.contentType !== undefined) headers['content-type'] = input.contentType;
        if (input.close) headers.connection = 'close';
        const path = `/api/${input.project}/${input.endpoint}${input.slash}?sentry_key=${encodeURIComponent(input.key)}`;
        const sendsBody = input.method !== 'GET' && input.method !== 'OPTIONS';
        const response = await request(`${trapline.publicUrl}${path}`, { method: input.method as 'POST', headers, ...(sendsBody ? { body: payload } : {}) });
        const text = await response.body.text();
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode, `${input.method} ${path} ${JSON.stringify(headers)}: ${text.slice(0, 300)}`).toBeLessThan(500);
        if (response.statusCode >= 400) {
          expect(response.headers['content-type'], text).toMatch(/^application\/json/);
          expect(Object.keys(JSON.parse(text) as object)).toEqual(['detail']);
        }
      }),
      { numRuns: 1000 },
    );
    for (const status of [200, 400, 401]) expect(statuses.get(status) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0);
  }, 240_000);
});
