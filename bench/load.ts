import { readdirSync, readFileSync } from 'node:fs';
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

  /**
   * `rate` posts a second to `target` for `seconds`, each sent on time whether or not earlier ones
   * were answered (give the generator about `rate` connections, so none waits for a free one):
   * each post's latency, sorted.
   */
  async paced(target: string, bodies: StoreBody[], idPrefix: string, rate: number, seconds: number): Promise<number[]> {
    const latencies: number[] = [];
    const started = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let n = 0; n < rate * seconds; n += 1) {
      const wait = started + (n * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(this.post(target, withEventId(bodies[n % bodies.length]!, eventId(n + 1, idPrefix))).then((result) => void latencies.push(result.ms)));
    }
    await Promise.all(inFlight);
    return latencies.sort((a, b) => a - b);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every common architecture.
const TICKS_PER_SECOND = 100;

/** A process's /proc stat fields after its name (field 3 on is index 0 on). */
const statOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');

/** CPU time (user + system) process `pid` has used so far, in seconds. */
export function cpuSecondsOf(pid: number): number {
  const fields = statOf(pid);
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
}

/** Every process's children now, by parent pid (/proc). */
export function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parent = Number(statOf(Number(entry))[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

/**
 * CPU time of process `pid` and every process below it now, in seconds: a service of several
 * processes (ingest's workers, nginx's) is one figure. A child that exited since the last reading
 * takes its time with it, so read a tree whose processes live through the measurement.
 */
export function cpuSecondsOfTree(pid: number): number {
  const children = childrenByParent();
  const tree = [pid];
  for (let i = 0; i < tree.length; i += 1) tree.push(...(children.get(tree[i]!) ?? []));
  return tree.reduce((sum, member) => {
    try {
      return sum + cpuSecondsOf(member);
    } catch {
      return sum; // exited meanwhile
    }
  }, 0);
}

/** The whole machine's CPU time so far, every core, and the part of it idle (idle and iowait), in ticks (/proc/stat). */
export function machineTicks(): { total: number; idle: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((sum, ticks) => sum + ticks, 0), idle: fields[3]! + fields[4]! };
}

/** A thread's time on a CPU and time runnable but waiting for one, in seconds (the kernel's schedstat). */
export interface SchedTimes {
  running: number;
  waiting: number;
}

/** Per thread of process `pid`, by thread id: its name (a trailing number dropped) and its times so far. */
function threadTimesOf(pid: number): Map<string, SchedTimes & { name: string }> {
  const threads = new Map<string, SchedTimes & { name: string }>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim().replace(/\d+$/, '');
      const fields = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').trim().split(' ');
      threads.set(task, { name, running: Number(fields[0]) / 1e9, waiting: Number(fields[1]) / 1e9 });
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}

/** Time on a CPU and time waiting in the run queue so far, per thread name of process `pid` (threads of one name summed). */
export function schedTimesOf(pid: number): Map<string, SchedTimes> {
  const byName = new Map<string, SchedTimes>();
  for (const { name, running, waiting } of threadTimesOf(pid).values()) {
    const times = byName.get(name) ?? { running: 0, waiting: 0 };
    times.running += running;
    times.waiting += waiting;
    byName.set(name, times);
  }
  return byName;
}

/**
 * The times of a process' threads over a measurement in which some of them start and end (a
 * rebuild's parse workers): sampled by thread id, so a thread gone by the end still counts up to
 * its last sample; one started meanwhile counts from zero.
 */
export class ThreadSampler {
  private readonly first = new Map<string, SchedTimes>();
  private readonly last = new Map<string, SchedTimes & { name: string }>();

  constructor(private readonly pid: number) {
    for (const [task, times] of threadTimesOf(pid)) this.first.set(task, times);
  }

  sample(): void {
    for (const [task, times] of threadTimesOf(this.pid)) this.last.set(task, times);
  }

  /**
   * Per thread name since the sampler was made: times summed, and how many threads had the name
   * (those that ran at all meanwhile: a process keeps idle threads of the same names, e.g. the
   * module loader's).
   */
  times(): Map<string, SchedTimes & { threads: number }> {
    const byName = new Map<string, SchedTimes & { threads: number }>();
    for (const [task, { name, running, waiting }] of this.last) {
      const from = this.first.get(task) ?? { running: 0, waiting: 0 };
      if (running - from.running < 0.01) continue;
      const times = byName.get(name) ?? { running: 0, waiting: 0, threads: 0 };
      times.running += running - from.running;
      times.waiting += waiting - from.waiting;
      times.threads += 1;
      byName.set(name, times);
    }
    return byName;
  }
}

/** Between two readings of `schedTimesOf`, per thread name, most waiting first. */
export function schedTimesBetween(before: Map<string, SchedTimes>, after: Map<string, SchedTimes>): [string, SchedTimes][] {
  return [...after]
    .map(([name, times]): [string, SchedTimes] => [name, { running: +(times.running - (before.get(name)?.running ?? 0)).toFixed(2), waiting: +(times.waiting - (before.get(name)?.waiting ?? 0)).toFixed(2) }])
    .filter(([, times]) => times.running > 0 || times.waiting > 0)
    .sort((a, b) => b[1].waiting - a[1].waiting);
}

/** The whole process's times between two readings of `schedTimesOf`. */
export function schedTotal(between: [string, SchedTimes][]): SchedTimes {
  return between.reduce((sum, [, times]) => ({ running: +(sum.running + times.running).toFixed(2), waiting: +(sum.waiting + times.waiting).toFixed(2) }), { running: 0, waiting: 0 });
}

/** The pid of the process whose command line matches `pattern` (the stack's broker, Redis), if one runs. */
export function pidOf(pattern: RegExp): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (pattern.test(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '))) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}
