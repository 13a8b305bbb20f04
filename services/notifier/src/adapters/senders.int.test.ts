import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '@trapline/runtime';
import { ACTION, type AlertDelivery } from '@trapline/schemas';
import { Senders } from './senders.ts';

// A receiver that keeps connections alive after its first answer on each, and closes a connection
// as the next request on it arrives: what a receiver whose idle timeout ran out does when a kept-alive
// connection is used again at that moment (the client sees ECONNRESET before any answer).
let server: Server;
let url: string;
const requests: { connection: number; answered: boolean }[] = [];

/** Calls `onRequest` once per complete request (headers and Content-Length body) on the socket. */
function readRequests(socket: Socket, onRequest: () => void): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/content-length: *(\d+)/i.exec(buffered.subarray(0, end).toString())?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      buffered = buffered.subarray(end + 4 + length);
      onRequest();
    }
  });
}

beforeAll(async () => {
  let connections = 0;
  server = createServer((socket) => {
    const connection = ++connections;
    let served = 0;
    socket.on('error', () => undefined);
    readRequests(socket, () => {
      const first = served++ === 0;
      requests.push({ connection, answered: first });
      if (first) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      else socket.resetAndDestroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const slackDelivery = (webhookUrl: string): AlertDelivery => ({
  deliveryId: '0-7-1-0', projectId: 1, organizationSlug: 'acme', projectSlug: 'web', groupId: 42, ruleId: '1', ruleName: 'new issues', trigger: 'first_seen', kind: 'slack',
  action: JSON.stringify({ id: ACTION.slack, webhookUrl }), decidedAt: 0, attempt: 0, dueAt: 0, lastError: null,
  issue: JSON.stringify({ id: '42', title: 'TypeError', culprit: 'load(app/user.js)', level: 'error', count: 3, firstSeen: '2026-01-01T00:00:00.000Z', link: 'http://trapline.test/' }),
  event: JSON.stringify({ event_id: 'e'.repeat(32), message: '', title: 'TypeError', level: 'error', platform: 'node', environment: null, release: null, tags: [], timestamp: 1, url: 'http://trapline.test/' }),
});

describe('webhook sends over kept-alive connections', () => {
  it('send a request again on a new connection when the receiver closed the kept-alive one it went out on', async () => {
    // Slack sends read nothing from Postgres.
    const senders = new Senders(undefined as unknown as Pool, { timeoutMs: 5000, smtpUrl: undefined, emailFrom: 'trapline@example.test' });
    try {
      expect(await senders.send(slackDelivery(url))).toEqual({ status: 'sent', target: expect.any(String) });
      // The second goes out on the kept-alive connection, which the receiver closes at once.
      expect(await senders.send(slackDelivery(url))).toEqual({ status: 'sent', target: expect.any(String) });
      expect(requests).toEqual([
        { connection: 1, answered: true },
        { connection: 1, answered: false },
        { connection: 2, answered: true },
      ]);
    } finally {
      senders.close();
    }
  });
});
