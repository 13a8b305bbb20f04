import { connect, type Socket } from 'node:net';

// HTTP/1.1 on a bare socket, for what fetch and undici hide: what a server does with a socket
// after `Connection: close`, `Expect: 100-continue`, and the hop-by-hop headers it answers with.

export interface RawResponse {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export class RawConnection {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
  }

  private async more(deadline: number): Promise<void> {
    if (this.ended) throw new Error(`the server closed the connection (unread: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 200))})`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('timed out waiting for the server');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** The next response (an interim 1xx too), its body read by Content-Length or chunked coding. */
  async response(timeoutMs = 15000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    let end: number;
    while ((end = this.buffer.indexOf('\r\n\r\n')) < 0) await this.more(deadline);
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const status = Number(statusLine!.split(' ')[1]);
    this.buffer = this.buffer.subarray(end + 4);
    if (status < 200) return { status, headers, body: Buffer.alloc(0) };
    if (headers['transfer-encoding']?.includes('chunked')) return { status, headers, body: await this.chunkedBody(deadline) };
    const length = Number(headers['content-length'] ?? 0);
    while (this.buffer.length < length) await this.more(deadline);
    const body = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return { status, headers, body };
  }

  private async chunkedBody(deadline: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      let lineEnd: number;
      while ((lineEnd = this.buffer.indexOf('\r\n')) < 0) await this.more(deadline);
      const size = parseInt(this.buffer.subarray(0, lineEnd).toString('latin1'), 16);
      while (this.buffer.length < lineEnd + 2 + size + 2) await this.more(deadline);
      parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2);
      if (size === 0) return Buffer.concat(parts);
    }
  }

  /** Whether the server closes the connection within `timeoutMs`. */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() >= deadline) return false;
      await this.more(deadline).catch(() => undefined);
    }
    return true;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A request's head: request line, headers, blank line. */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): string {
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}
