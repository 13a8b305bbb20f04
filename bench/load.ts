import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { realisticEvent } from './events.ts';
import { percentile } from './report.ts';

// The load generator of the ingest benchmarks. It shares the cores with what it measures, so it
// does as little as it can per request: bodies are encoded once, and each request copies one and
// writes its event id in place; connections are kept alive (one undici pool).

/** The peer of the ingest benchmarks (`node -e MINIMAL_RECEIVER <port>`): what any Sentry-protocol receiver must at least do per request. */
export const MINIMAL_RECEIVER = `
require('node:http').createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: event.event_id }));
  });
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

const ID_FIELD = '"event_id":"';

export interface StoreBody {
  bytes: Buffer;
  /** Where the 32 hex digits of the event id start. */
  idOffset: number;
}

/** `count` distinct realistic events of about `eventBytes`, encoded once. */
export function storeBodies(count: number, eventBytes: number): StoreBody[] {
  return Array.from({ length: count }, (_, n) => {
    const text = JSON.stringify(realisticEvent(n, eventBytes));
    return { bytes: Buffer.from(text), idOffset: Buffer.byteLength(text.slice(0, text.indexOf(ID_FIELD))) + ID_FIELD.length };
  });
}

/** A copy of `body` carrying event id `id` (32 hex digits). */
export function withEventId(body: StoreBody, id: string): Buffer {
  const copy = Buffer.from(body.bytes);
  copy.write(id, body.idOffset, 'latin1');
  return copy;
}

/** The n-th event id of a run: distinct per run through `prefix`, one hex digit. */
export const eventId = (n: number, prefix: string) => n.toString(16).padStart(32, prefix);

export interface SustainedResult {
  accepted: number;
  failed: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}

export class LoadGenerator {
  private readonly agent: Agent;

  constructor(readonly connections: number) {
    this.agent = new Agent({ connections, pipelining: 1 });
  }

  async post(target: string, body: Buffer): Promise<{ status: number; ms: number }> {
    const started = process.hrtime.bigint();
    const response = await request(target, { method: 'POST', body, dispatcher: this.agent, headers: { 'content-type': 'application/json' } });
    await response.body.dump();
    return { status: response.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  }

  /** `connections` clients posting `bodies` (fresh ids) as fast as `target` answers, for `seconds`. */
  async sustained(target: string, bodies: StoreBody[], idPrefix: string, seconds: number): Promise<SustainedResult> {
    let sent = 0;
    let failed = 0;
    const latencies: number[] = [];
    const deadline = Date.now() + seconds * 1000;
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: this.connections }, async () => {
      while (Date.now() < deadline) {
        const n = sent++;
        const result = await this.post(target, withEventId(bodies[n % bodies.length]!, eventId(n + 1, idPrefix)));
        if (result.status !== 200) failed += 1;
        latencies.push(result.ms);
      }
    }));
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    latencies.sort((a, b) => a - b);
    return { accepted: sent - failed, failed, perSecond: Math.round((sent - failed) / elapsed), p50ms: +percentile(latencies, 50).toFixed(1), p99ms: +percentile(latencies, 99).toFixed(1) };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every common architecture.
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) process `pid` has used so far, in seconds. */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
}
