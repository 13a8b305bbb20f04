import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceSet, type ServiceSet } from '@trapline/cli/services';
import { freePort } from './harness.ts';
import { RawConnection, requestHead } from './raw-http.ts';

// The front door (port 9000) is nginx running deploy/nginx.conf.template, as docker-compose runs
// it. Here it stands in front of a recording upstream, so what it forwards can be seen: hop-by-hop
// headers stay on their connection either way, `Connection: close` closes, `Expect: 100-continue`
// is answered at the door, bodies stream, and its own refusals are 4xx/503 with {"detail"}.

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect', 'transfer-encoding'];

interface Seen {
  headers: IncomingHttpHeaders;
  /** Body bytes received so far. */
  bytes: number;
}

let upstream: Server;
let seen: Seen[] = [];
let set: ServiceSet;
let port: number;
let deadPort: number;

/** Answers every request with what it received, once the whole body is in, with hop-by-hop headers of its own. */
function recordingUpstream(): Server {
  return createServer((request, response) => {
    const record: Seen = { headers: request.headers, bytes: 0 };
    seen.push(record);
    request.on('data', (chunk: Buffer) => (record.bytes += chunk.length));
    request.on('end', () => {
      const body = JSON.stringify({ headers: request.headers, bytes: record.bytes });
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'keep-alive': 'timeout=600',
        'proxy-authenticate': 'Basic realm="upstream"',
        upgrade: 'h2c',
      });
      response.end(body);
    });
  });
}

beforeAll(async () => {
  upstream = recordingUpstream();
  const upstreamPort = await freePort();
  await new Promise<void>((resolve) => upstream.listen(upstreamPort, '127.0.0.1', resolve));
  port = await freePort();
  deadPort = await freePort();
  const env = {
    ...process.env,
    GATEWAY_PORT: String(port),
    INGEST_URL: `http://127.0.0.1:${upstreamPort}`,
    API_URL: `http://127.0.0.1:${upstreamPort}`,
    MAX_REQUEST_BYTES: String(4 * 1024 * 1024),
    TRAPLINE_STATE_DIR: join(tmpdir(), `trapline-door-${randomBytes(4).toString('hex')}`),
  };
  set = serviceSet(env);
  await set.start('gateway');
});

afterAll(async () => {
  await set?.stopAll();
  upstream?.close();
});

const STORE = '/api/1/store/';

describe('the front door', () => {
  it('forwards none of the client\'s hop-by-hop headers, and answers with none of the upstream\'s', async () => {
    seen = [];
    const connection = await RawConnection.open(port);
    const body = '{"message":"hop"}';
    await connection.write(requestHead('POST', STORE, {
      host: 'trapline.test', connection: 'keep-alive, x-private', 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', 'proxy-authorization': 'Basic eDp5',
      te: 'trailers', trailer: 'x-checksum', 'content-type': 'application/json', 'content-length': body.length, 'x-sentry-auth': 'Sentry sentry_key=abc',
    }) + body);
    const response = await connection.response();
    connection.close();
    expect(response.status).toBe(200);
    const forwarded = (JSON.parse(response.body.toString()) as { headers: IncomingHttpHeaders }).headers;
    for (const name of HOP_BY_HOP) expect(forwarded[name], `forwarded ${name}`).toBeUndefined();
    expect(forwarded).toMatchObject({ host: 'trapline.test', 'x-sentry-auth': 'Sentry sentry_key=abc', 'content-length': String(body.length) });
    for (const name of ['keep-alive', 'proxy-authenticate', 'trailer', 'upgrade', 'transfer-encoding']) expect(response.headers[name], `answered ${name}`).toBeUndefined();
  });

  it('closes the connection after answering a request with Connection: close, and keeps it open otherwise', async () => {
    const closing = await RawConnection.open(port);
    await closing.write(requestHead('POST', STORE, { host: 'x', connection: 'close', 'content-length': 2 }) + '{}');
    const answer = await closing.response();
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(await closing.closedByServer()).toBe(true);

    // Without it, the connection carries request after request.
    const kept = await RawConnection.open(port);
    for (let index = 0; index < 3; index += 1) {
      await kept.write(requestHead('POST', STORE, { host: 'x', 'content-length': 2 }) + '{}');
      expect((await kept.response()).status).toBe(200);
    }
    expect(await kept.closedByServer(300)).toBe(false);
    kept.close();
  });

  it('answers Expect: 100-continue itself before the body is sent, and forwards the body without the header', async () => {
    seen = [];
    const body = Buffer.alloc(1_500_000, 'a');
    const connection = await RawConnection.open(port);
    await connection.write(requestHead('POST', STORE, { host: 'x', expect: '100-continue', 'content-length': body.length }));
    const interim = await connection.response();
    expect(interim.status).toBe(100);
    await connection.write(body);
    const response = await connection.response();
    connection.close();
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toMatchObject({ bytes: body.length });
    expect(seen[0]?.headers.expect).toBeUndefined();
  });

  it('streams a chunked body to the upstream as it arrives instead of buffering it whole', async () => {
    seen = [];
    const connection = await RawConnection.open(port);
    await connection.write(requestHead('POST', '/api/1/envelope/', { host: 'x', 'transfer-encoding': 'chunked' }));
    const first = Buffer.alloc(64 * 1024, 'b');
    await connection.write(`${first.length.toString(16)}\r\n`);
    await connection.write(first);
    await connection.write('\r\n');
    // The upstream has the first chunk while the client has not finished: nothing waits for the end.
    const deadline = Date.now() + 10000;
    while ((seen[0]?.bytes ?? 0) < first.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen[0]?.bytes).toBe(first.length);
    await connection.write('3\r\nend\r\n0\r\n\r\n');
    const response = await connection.response();
    connection.close();
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toMatchObject({ bytes: first.length + 3 });
  });

  it.each([
    ['Content-Length', (length: number) => ({ 'content-length': length })],
    ['chunked', () => ({ 'transfer-encoding': 'chunked' })],
  ])('refuses a body above MAX_REQUEST_BYTES (%s) with 413 and {"detail"}', async (_, framing) => {
    const size = 4 * 1024 * 1024 + 1;
    const connection = await RawConnection.open(port);
    await connection.write(requestHead('POST', STORE, { host: 'x', expect: '100-continue', ...framing(size) }));
    if ('content-length' in framing(size)) {
      const response = await connection.response();
      expect(response.status).toBe(413);
      expect(JSON.parse(response.body.toString())).toEqual({ detail: 'request body too large' });
    } else {
      expect((await connection.response()).status).toBe(100);
      const chunk = Buffer.alloc(1024 * 1024, 'c');
      for (let sent = 0; sent < size + chunk.length; sent += chunk.length) await connection.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])).catch(() => undefined);
      const response = await connection.response();
      expect(response.status).toBe(413);
      expect(JSON.parse(response.body.toString())).toEqual({ detail: 'request body too large' });
    }
    connection.close();
  });

  it('answers 503 with Retry-After and {"detail"} while an upstream is down, never 502', async () => {
    const env = { ...process.env, GATEWAY_PORT: String(await freePort()), API_URL: `http://127.0.0.1:${deadPort}`, INGEST_URL: `http://127.0.0.1:${deadPort}`, TRAPLINE_STATE_DIR: join(tmpdir(), `trapline-door-${randomBytes(4).toString('hex')}`) };
    const down = serviceSet(env);
    try {
      await down.start('gateway');
      for (const path of [STORE, '/api/0/organizations/']) {
        const response = await fetch(`http://127.0.0.1:${env.GATEWAY_PORT}${path}`, { method: path === STORE ? 'POST' : 'GET', ...(path === STORE ? { body: '{}' } : {}) });
        expect(response.status, path).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(await response.json()).toEqual({ detail: 'service unavailable, try again later' });
      }
    } finally {
      await down.stopAll();
    }
  });
});
