import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import pg from 'pg';
import { Appender, createKafka, createLogger, type Kafka } from '@trapline/runtime';
import { Codec, eventKeys } from '@trapline/schemas';
import { type ServiceSet, serviceSet } from '@trapline/cli/services';
import { rebuild } from '@trapline/projector';
import { normalizeEvent, serializeEvent } from '../services/ingest/src/domain/normalize.ts';
import { isolated, type Isolated } from '../test/harness.ts';
import { realisticEvent } from './events.ts';
import { childrenByParent, cpuSecondsOfTree, machineTicks, schedTimesBetween, schedTimesOf, ThreadSampler } from './load.ts';
import { percentile, until, type Scenario } from './report.ts';

// Projection rate of the live projector and of `trapline rebuild`, with
// the Postgres COPY rate of the same event rows as the ceiling, all in one run. Bounded: a fixed
// number of events, each phase with a time limit.

// BENCH_PROJECTOR_EVENTS=1000000 for the million-event rebuild (BENCH_PROJECTOR_LIVE=0 skips the
// live projector and the per-batch rebuild, which take minutes at that size).
const EVENTS = Number(process.env.BENCH_PROJECTOR_EVENTS ?? 50000);
const WITH_LIVE = process.env.BENCH_PROJECTOR_LIVE !== '0';
// BENCH_PROJECTOR_REBUILD=0 skips both rebuilds: the live projector and its COPY ceiling alone.
const WITH_REBUILD = process.env.BENCH_PROJECTOR_REBUILD !== '0';
/** Ack → visible: single events one at a time once the backlog is done, then a paced stream. */
const QUIET_SAMPLES = 40;
const PACED_RATE = Number(process.env.BENCH_PROJECTOR_PACED_RATE ?? 200);
const PACED_SECONDS = 10;
const EVENT_BYTES = 2048;
const PROJECTS = 6;
const GROUPS = 200;
const PHASE_LIMIT_MS = 5 * 60 * 1000;

/** CPU ticks (1/100 s) of each Postgres backend serving `database`, sampled from /proc (Linux). */
function postgresBackendTicks(database: string): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ') || !title.includes(` ${database} `)) continue;
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/** The bench's event `n`: made again where needed, not held (a million of them would not fit the bench's memory). */
export function benchRecord(n: number, receivedAt: number) {
  const normalized = normalizeEvent({ event: realisticEvent(n, EVENT_BYTES, GROUPS) as Record<string, unknown>, received: receivedAt / 1000, platformFallback: 'node' });
  if (!normalized.ok) throw new Error('the benchmark event does not normalize');
  const projectId = 1 + (n % PROJECTS);
  return { projectId, eventId: normalized.value.event_id, payload: serializeEvent(normalized.value) };
}

/** The log: `events` bench events appended straight to Kafka, eight appends of 500 in flight (the appender keeps each partition's order: idempotent, acks=all). */
export async function appendBenchLog(kafka: Kafka, codec: Codec, topic: string, events: number, receivedAt: number): Promise<void> {
  const appender = await Appender.connect(kafka, codec);
  const sending = new Set<Promise<unknown>>();
  for (let first = 0; first < events; first += 500) {
    const records = Array.from({ length: Math.min(500, events - first) }, (_, i) => benchRecord(first + i, receivedAt)).map((record, i) => ({
      key: eventKeys.event(record.projectId, record.eventId),
      name: 'EventReceived' as const,
      value: { projectId: record.projectId, eventId: record.eventId, receivedAt: receivedAt + first + i, keyId: 'bench', payload: record.payload },
    }));
    const sent = appender.append(topic, records);
    sending.add(sent);
    void sent.finally(() => sending.delete(sent)).catch(() => undefined);
    if (sending.size >= 8) await Promise.race(sending);
  }
  await Promise.all(sending);
  await appender.close();
}

/**
 * How long an event appended to the log (the append acknowledged, as ingest acknowledges its
 * request) takes to be visible in the read model (its row in event_ids, polled every 10 ms), with
 * the projector caught up: `quiet` single events one after the other, `paced` a stream at
 * PACED_RATE events/s for PACED_SECONDS (each event appended alone, as ingest's requests are).
 */
export async function ackToVisible(kafka: Kafka, codec: Codec, topic: string, pool: { query(text: string, values: unknown[]): Promise<{ rows: unknown[] }> }, firstN: number) {
  const appender = await Appender.connect(kafka, codec);
  /** Appended, not visible yet: event id → its project and when its append was acknowledged. */
  const pending = new Map<string, { projectId: number; at: number }>();
  const seen: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling || pending.size > 0) {
      if (pending.size > 0) {
        const ids = [...pending.keys()];
        // By the directory's key (project, event id): an event id alone would scan the whole table every 10 ms.
        const rows = (await pool.query(
          'SELECT e.event_id FROM event_ids e JOIN unnest($1::bigint[], $2::text[]) AS b(project_id, event_id) ON e.project_id = b.project_id AND e.event_id = b.event_id',
          [ids.map((id) => pending.get(id)!.projectId), ids],
        )).rows as { event_id: string }[];
        const now = performance.now();
        for (const row of rows) {
          seen.push(now - pending.get(row.event_id)!.at);
          pending.delete(row.event_id);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const appendOne = async (n: number) => {
    const receivedAt = Date.now();
    const record = benchRecord(n, receivedAt);
    await appender.append(topic, [{ key: eventKeys.event(record.projectId, record.eventId), name: 'EventReceived', value: { projectId: record.projectId, eventId: record.eventId, receivedAt, keyId: 'bench', payload: record.payload } }]);
    pending.set(record.eventId, { projectId: record.projectId, at: performance.now() });
    return record.eventId;
  };
  const summary = () => {
    const sorted = seen.splice(0).sort((a, b) => a - b);
    return { samples: sorted.length, p50ms: Math.round(percentile(sorted, 50)), p99ms: Math.round(percentile(sorted, 99)) };
  };
  try {
    for (let i = 0; i < QUIET_SAMPLES; i += 1) {
      const id = await appendOne(firstN + i);
      await until(`event ${id} visible`, async () => !pending.has(id), 30000, 5);
    }
    const quiet = summary();
    const pacedStart = Date.now();
    const sent: Promise<string>[] = [];
    for (let i = 0; i < PACED_RATE * PACED_SECONDS; i += 1) {
      const wait = pacedStart + (i * 1000) / PACED_RATE - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      sent.push(appendOne(firstN + QUIET_SAMPLES + i));
    }
    await Promise.all(sent);
    await until('the paced events visible', async () => pending.size === 0, 60000, 50);
    return { quiet, paced: summary() };
  } finally {
    polling = false;
    await poller;
    await appender.close();
  }
}

interface LiveCpu {
  /** The projector's processes (its primary and workers), per event. */
  projectorUs: number;
  postgresUs: number;
  machineIdle: number;
  /** Per JavaScript thread (each worker's), on average. */
  javaScriptBusy: number;
  javaScriptWaiting: number;
  /** V8's helper threads of all the projector's processes, summed. */
  v8Helpers: number;
}
const NO_LIVE_CPU: LiveCpu = { projectorUs: NaN, postgresUs: NaN, machineIdle: NaN, javaScriptBusy: NaN, javaScriptWaiting: NaN, v8Helpers: NaN };
interface LiveRun {
  workers: number;
  rate: number;
  cpu: LiveCpu;
  latency: Awaited<ReturnType<typeof ackToVisible>> | undefined;
}

/** The pids of `pid`'s projector workers (PROJECTOR_WORKERS > 1), or `pid` itself (one process). */
function projectorProcesses(pid: number): number[] {
  const workers = (childrenByParent().get(pid) ?? []).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('projector/src/main.ts');
    } catch {
      return false; // gone meanwhile
    }
  });
  return workers.length > 0 ? workers : [pid];
}

/**
 * The projector service (`workers` processes) started on `env`'s backlog of EVENTS events and
 * measured until it has projected them all; then ack → visible (without the rebuilds, which would
 * count those events), and the service stopped.
 */
async function liveProjection(env: Isolated, services: ServiceSet, workers: number): Promise<LiveRun> {
  const key = workers === 1 ? 'projector' : 'projector.workers';
  const database = decodeURIComponent(new URL(env.config.DATABASE_URL).pathname.slice(1));
  // Counted on a connection of its own, left out of the backends' CPU, in the event directory
  // (a fraction of the events table's size: counting it every 100 ms costs little).
  const counter = new pg.Client({ connectionString: env.config.DATABASE_URL });
  counter.on('error', () => {}); // the environment's database goes with its connections
  await counter.connect();
  try {
    const counterPid = ((await counter.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
    const count = async () => ((await counter.query('SELECT count(*)::int AS n FROM event_ids')).rows[0] as { n: number }).n;
    if (workers === 1) await services.start('projector');
    else await services.startInstance('projector', 'workers', { PROJECTOR_WORKERS: String(workers) });
    await until('the first projected event', async () => (await count()) > 0, PHASE_LIMIT_MS);
    const liveStart = process.hrtime.bigint();
    const liveFirst = await count();
    // CPU per event of the projector and of the Postgres backends serving it: on a machine others
    // keep busy, steadier than the rate.
    const pid = services.services.get(key)!.process.pid!;
    const projectorBefore = cpuSecondsOfTree(pid);
    // Whether the two cores are what bounds it: the machine's idle share; how much of the time the
    // projector's JavaScript threads ran, and how much they were ready to run but waited for a core;
    // how much V8's helper threads (GC, compilation) ran.
    const machineBefore = machineTicks();
    const processes = projectorProcesses(pid);
    const threadsBefore = processes.map((member) => schedTimesOf(member));
    const backendsBefore = postgresBackendTicks(database);
    const backends = new Map(backendsBefore);
    const sampler = setInterval(() => {
      for (const [id, ticks] of postgresBackendTicks(database)) backends.set(id, Math.max(ticks, backends.get(id) ?? 0));
    }, 200);
    await until('the live projection', async () => (await count()) === EVENTS, PHASE_LIMIT_MS).finally(() => clearInterval(sampler));
    const liveSeconds = Number(process.hrtime.bigint() - liveStart) / 1e9;
    const rate = (EVENTS - liveFirst) / liveSeconds;
    const machineAfter = machineTicks();
    const machineIdle = +((machineAfter.idle - machineBefore.idle) / (machineAfter.total - machineBefore.total)).toFixed(2);
    const threads = processes.map((member, index) => new Map(schedTimesBetween(threadsBefore[index]!, schedTimesOf(member))));
    // A process without such a thread (a worker whose V8 helpers never ran in the phase) adds nothing.
    const summed = (name: string, field: 'running' | 'waiting') => threads.reduce((sum, times) => sum + (times.get(name)?.[field] ?? 0), 0);
    const share = (seconds: number) => +(seconds / liveSeconds).toFixed(2);
    for (const [id, ticks] of postgresBackendTicks(database)) backends.set(id, Math.max(ticks, backends.get(id) ?? 0));
    backends.delete(counterPid);
    const cpu: LiveCpu = {
      projectorUs: Math.round(((cpuSecondsOfTree(pid) - projectorBefore) * 1e6) / (EVENTS - liveFirst)),
      postgresUs: Math.round(([...backends.entries()].reduce((sum, [id, ticks]) => sum + ticks - (backendsBefore.get(id) ?? 0), 0) / 100) * 1e6 / (EVENTS - liveFirst)),
      machineIdle,
      javaScriptBusy: share(summed('MainThread', 'running') / processes.length),
      javaScriptWaiting: share(summed('MainThread', 'waiting') / processes.length),
      v8Helpers: share(summed('V8Worker', 'running')),
    };
    // Its events join the log: only without the rebuilds, which would count them.
    const kafka = createKafka(env.config.kafkaBrokers, 'bench', createLogger('bench', 'warn'));
    const latency = WITH_REBUILD ? undefined : await ackToVisible(kafka, new Codec(), env.topics.events, env.pool, EVENTS);
    await services.stop(key);
    return { workers, rate, cpu, latency };
  } catch (error) {
    // A phase that timed out says what the projector logged last (its log goes with the environment).
    const log = join(env.config.TRAPLINE_STATE_DIR!, 'logs', `${key}.log`);
    const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-20).join('\n') : '(no log)';
    throw new Error(`${(error as Error).message}; the projector's log ended with:\n${tail}`, { cause: error });
  } finally {
    await counter.end().catch(() => {});
  }
}

/** A live run's rows: its rate and CPU against the COPY's, then its ack → visible if measured. */
function liveRows(label: string, run: LiveRun, copyRate: number, copyCpuUs: number): string[][] {
  const { cpu, latency } = run;
  const threads = run.workers === 1 ? 'the projector\'s JavaScript thread' : 'each worker\'s JavaScript thread';
  return [
    [label, `${Math.round(run.rate)} events/s`, 'COPY', String(+(run.rate / copyRate).toFixed(2)), `a backlog of ${EVENTS} events, ${PROJECTS} projects, ${GROUPS} issues`],
    [`${label}, CPU`, `${cpu.projectorUs + cpu.postgresUs} µs/event`, 'COPY CPU', String(+(copyCpuUs / (cpu.projectorUs + cpu.postgresUs)).toFixed(2)),
      `projector ${cpu.projectorUs} µs, Postgres backends ${cpu.postgresUs} µs per event; meanwhile the machine idle ${Math.round(cpu.machineIdle * 100)} %, ${threads} running ${Math.round(cpu.javaScriptBusy * 100)} % of the time and waiting for a core ${Math.round(cpu.javaScriptWaiting * 100)} %, V8's helper threads running ${Math.round(cpu.v8Helpers * 100)} %`],
    ...(latency ? [
      [`${label}: ack → visible, quiet`, `p50 ${latency.quiet.p50ms} ms, p99 ${latency.quiet.p99ms} ms`, '', '', `${latency.quiet.samples} single events one after the other, event_ids polled every 10 ms`],
      [`${label}: ack → visible, paced`, `p50 ${latency.paced.p50ms} ms, p99 ${latency.paced.p99ms} ms`, '≤ 1 s p99', '', `${latency.paced.samples} events appended one by one at ${PACED_RATE}/s`],
    ] : []),
  ];
}

export async function projectorScenario(): Promise<Scenario> {
  const env = await isolated({ LOG_LEVEL: 'warn' });
  const logger = createLogger('bench', 'warn');
  const kafka = createKafka(env.config.kafkaBrokers, 'bench', logger);
  const codec = new Codec();
  const services = serviceSet(env.env, { logDir: join(env.config.TRAPLINE_STATE_DIR!, 'logs') });
  try {
    const receivedAt = Date.now();
    const recordOf = (n: number) => benchRecord(n, receivedAt);
    await appendBenchLog(kafka, codec, env.topics.events, EVENTS, receivedAt);


    // Live: the projector service consumes the whole backlog, as one process; then, in an
    // environment of its own with the same backlog, as PROJECTOR_WORKERS=2.
    let liveRate = NaN;
    let latency: Awaited<ReturnType<typeof ackToVisible>> | undefined;
    let liveCpu: LiveCpu = NO_LIVE_CPU;
    let twoWorkers: LiveRun | undefined;
    if (WITH_LIVE) {
      const one = await liveProjection(env, services, 1);
      ({ rate: liveRate, cpu: liveCpu, latency } = one);
      const second = await isolated({ LOG_LEVEL: 'warn' });
      const secondServices = serviceSet(second.env, { logDir: join(second.config.TRAPLINE_STATE_DIR!, 'logs') });
      try {
        await appendBenchLog(kafka, codec, second.topics.events, EVENTS, receivedAt);
        twoWorkers = await liveProjection(second, secondServices, 2);
      } finally {
        await secondServices.stopAll();
        await second.dispose();
      }
    }

    // Rebuild: the same log into fresh tables, by the per-batch path (as before the bulk path), then
    // by the bulk path, each measured: the CPU of the bench (the rebuild runs in it) and of the
    // Postgres backends serving this database (from /proc), the bench's peak memory, and the WAL
    // written meanwhile (the whole server's: other work on it counts too). On a machine whose CPUs
    // others keep busy, CPU seconds per event say more than the rates.
    const database = decodeURIComponent(new URL(env.config.DATABASE_URL).pathname.slice(1));
    const wal = async () => BigInt(((await env.pool.query("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn AS bytes")).rows[0] as { bytes: string }).bytes);
    const measured = async <T>(work: () => Promise<T>) => {
      const walBefore = await wal();
      const cpuBefore = process.cpuUsage();
      const heapBefore = process.memoryUsage().heapUsed;
      let peakRss = 0;
      let peakHeap = 0;
      const backendsBefore = postgresBackendTicks(database);
      const backends = new Map(backendsBefore);
      // The sampling's own CPU (reading /proc) is counted apart and taken off the bench's.
      let samplingMicros = 0;
      // Whether the two cores bound it: the machine's idle share, and how long the bench's threads
      // (the rebuild's JavaScript thread, its parse workers, V8's helpers) ran and waited for a core.
      const threads = new ThreadSampler(process.pid);
      const machineBefore = machineTicks();
      const sample = () => {
        const sampleFrom = process.cpuUsage();
        threads.sample();
        const memory = process.memoryUsage();
        peakRss = Math.max(peakRss, memory.rss);
        peakHeap = Math.max(peakHeap, memory.heapUsed);
        for (const [pid, ticks] of postgresBackendTicks(database)) backends.set(pid, Math.max(ticks, backends.get(pid) ?? 0));
        const spent = process.cpuUsage(sampleFrom);
        samplingMicros += spent.user + spent.system;
      };
      const sampler = setInterval(sample, 100);
      const from = process.hrtime.bigint();
      const result = await work().finally(() => {
        clearInterval(sampler);
        sample();
      });
      const cpu = process.cpuUsage(cpuBefore);
      const seconds = Number(process.hrtime.bigint() - from) / 1e9;
      const machineAfter = machineTicks();
      const shares = (name: string) => {
        const times = threads.times().get(name) ?? { running: NaN, waiting: NaN, threads: 0 };
        return { running: +(times.running / seconds).toFixed(2), waiting: +(times.waiting / seconds).toFixed(2), threads: times.threads };
      };
      return {
        result, seconds,
        machineIdle: +((machineAfter.idle - machineBefore.idle) / (machineAfter.total - machineBefore.total)).toFixed(2),
        threads: { javaScript: shares('MainThread'), workers: shares('WorkerThread'), v8Helpers: shares('V8Worker') },
        benchCpuSeconds: +((cpu.user + cpu.system - samplingMicros) / 1e6).toFixed(1), samplingCpuSeconds: +(samplingMicros / 1e6).toFixed(1),
        postgresCpuSeconds: +([...backends.entries()].reduce((sum, [pid, ticks]) => sum + ticks - (backendsBefore.get(pid) ?? 0), 0) / 100).toFixed(1),
        peakRssMB: Math.round(peakRss / 2 ** 20), peakHeapMB: Math.round(peakHeap / 2 ** 20), heapBeforeMB: Math.round(heapBefore / 2 ** 20),
        walMB: Math.round(Number((await wal()) - walBefore) / 2 ** 20),
      };
    };
    // Ceiling: COPY of the same event rows into a table shaped like `events`. The rows are written
    // to a file first (untimed), received a millisecond apart as in the log, then streamed from it
    // in 1 MiB chunks: the timed part is Postgres taking the rows, the client's side next to
    // nothing. Done twice into a fresh table, the faster counting (the higher ceiling: the ratios
    // are if anything low).
    const ceiling = async () => {
      const file = join(env.config.TRAPLINE_STATE_DIR!, 'copy-ceiling.tsv');
      mkdirSync(dirname(file), { recursive: true });
      const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
      const out = openSync(file, 'w');
      try {
        let chunk: string[] = [];
        let size = 0;
        for (let n = 0; n < EVENTS; n += 1) {
          const record = recordOf(n);
          const at = new Date(receivedAt + n).toISOString();
          const line = `${record.projectId}\t${record.eventId}\t1\t${at}\t${at}\terror\tnode\tTypeError\t\tbench@1.0.0\tbench\tid:u1\tf\t${escape(record.payload)}\n`;
          chunk.push(line);
          size += line.length;
          if (size >= 1 << 20 || n === EVENTS - 1) {
            writeSync(out, chunk.join(''));
            chunk = [];
            size = 0;
          }
        }
      } finally {
        closeSync(out);
      }
      try {
        const runs = [];
        for (let run = 0; run < 2; run += 1) {
          await env.pool.query('DROP TABLE IF EXISTS copy_ceiling');
          await env.pool.query('CREATE TABLE copy_ceiling (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING COMPRESSION)');
          const client = await env.pool.connect();
          try {
            runs.push(await measured(() => pipeline(
              createReadStream(file, { highWaterMark: 1 << 20 }),
              client.query(copyFrom('COPY copy_ceiling (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, message, release, environment, user_ident, pending_deletion, payload) FROM STDIN')),
            )));
          } finally {
            client.release();
          }
        }
        await env.pool.query('DROP TABLE copy_ceiling');
        const copyRun = runs.reduce((best, run) => (run.seconds < best.seconds ? run : best));
        return { copyRun, copyRate: EVENTS / copyRun.seconds, copyRates: runs.map((run) => Math.round(EVENTS / run.seconds)) };
      } finally {
        rmSync(file, { force: true });
      }
    };
    // The live projector and its ceiling alone (BENCH_PROJECTOR_REBUILD=0), with ack → visible.
    const liveOnly = async (): Promise<Scenario> => {
      const { copyRun, copyRate, copyRates } = await ceiling();
      const { result: _copied, ...copyCost } = copyRun;
      const ratio = +(liveRate / copyRate).toFixed(2);
      const copyCpuUs = (copyCost.postgresCpuSeconds * 1e6) / EVENTS;
      const one = { workers: 1, rate: liveRate, cpu: liveCpu, latency };
      return {
        name: 'projector',
        figures: {
          events: EVENTS, eventBytes: EVENT_BYTES, projects: PROJECTS, groups: GROUPS, copyCeiling: { perSecond: Math.round(copyRate), runs: copyRates, ...copyCost }, live: { perSecond: Math.round(liveRate), ratioToCopy: ratio, cpu: liveCpu }, latency,
          liveTwoWorkers: twoWorkers ? { perSecond: Math.round(twoWorkers.rate), ratioToCopy: +(twoWorkers.rate / copyRate).toFixed(2), cpu: twoWorkers.cpu, latency: twoWorkers.latency } : null,
        },
        rows: [
          ['Postgres COPY of the event rows', `${Math.round(copyRate)} events/s`, '', '', `ceiling: ${EVENTS} rows of ${EVENT_BYTES} B payload, the faster of two runs (${copyRates.join(' and ')} events/s)`],
          ['Postgres COPY, CPU', `${Math.round(copyCpuUs)} µs/event`, '', '', `Postgres backends ${copyCost.postgresCpuSeconds} s`],
          ...liveRows('live projector', one, copyRate, copyCpuUs),
          ...(twoWorkers ? liveRows('live projector, PROJECTOR_WORKERS=2', twoWorkers, copyRate, copyCpuUs) : []),
        ],
      };
    };
    const perBatchRun = WITH_LIVE && WITH_REBUILD ? await measured(() => rebuild({ config: env.config, kafka, logger, bulk: false })) : undefined;
    const perBatch = perBatchRun?.result;
    const rebuildFrom = Date.now();
    if (!WITH_REBUILD) return await liveOnly();
    const bulkRun = await measured(() => rebuild({ config: env.config, kafka, logger, progress: (line) => process.stderr.write(`rebuild +${((Date.now() - rebuildFrom) / 1000).toFixed(1)} s (RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB, heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB): ${line}\n`) }));
    const rebuilt = bulkRun.result;
    const rebuildRate = rebuilt.records / rebuilt.seconds;

    const { copyRun, copyRate, copyRates } = await ceiling();
    const copyCeiling = { perSecond: Math.round(copyRate), runs: copyRates };
    const live = { perSecond: Math.round(liveRate), ratioToCopy: +(liveRate / copyRate).toFixed(2) };
    const projectingRate = rebuilt.records / rebuilt.projectingSeconds;
    const rebuilding = {
      perSecond: Math.round(rebuildRate), seconds: +rebuilt.seconds.toFixed(1), ratioToCopy: +(rebuildRate / copyRate).toFixed(2),
      projecting: { perSecond: Math.round(projectingRate), seconds: +rebuilt.projectingSeconds.toFixed(1), ratioToCopy: +(projectingRate / copyRate).toFixed(2) },
      bulk: rebuilt.bulk,
      benchCpuSeconds: bulkRun.benchCpuSeconds, postgresCpuSeconds: bulkRun.postgresCpuSeconds,
      peakRssMB: bulkRun.peakRssMB, peakHeapMB: bulkRun.peakHeapMB, heapBeforeMB: bulkRun.heapBeforeMB, walMB: bulkRun.walMB,
      machineIdle: bulkRun.machineIdle, threads: bulkRun.threads,
    };
    const percent = (share: number) => `${Math.round(share * 100)} %`;
    const { javaScript, workers, v8Helpers } = bulkRun.threads;
    const { result: _copied, ...copyCost } = copyRun;
    const { result: _perBatchResult, ...perBatchCost } = perBatchRun ?? { result: undefined };
    // CPU per event (bench + Postgres backends), µs: the COPY's bench side (streaming a file) is not counted.
    const cpuPerEvent = (run: { benchCpuSeconds: number; postgresCpuSeconds: number }, withBench = true) => Math.round(((withBench ? run.benchCpuSeconds : 0) + run.postgresCpuSeconds) * 1e6 / EVENTS);
    const perBatchRate = perBatch ? perBatch.records / perBatch.seconds : NaN;
    return {
      name: 'projector',
      figures: {
        events: EVENTS, eventBytes: EVENT_BYTES, projects: PROJECTS, groups: GROUPS, copyCeiling: { ...copyCeiling, ...copyCost }, live, rebuild: rebuilding,
        liveTwoWorkers: twoWorkers ? { perSecond: Math.round(twoWorkers.rate), ratioToCopy: +(twoWorkers.rate / copyRate).toFixed(2), cpu: twoWorkers.cpu } : null,
        perBatchRebuild: perBatch ? { perSecond: Math.round(perBatchRate), seconds: +perBatch.seconds.toFixed(1), ...perBatchCost } : null,
      },
      rows: [
        ['Postgres COPY of the event rows', `${copyCeiling.perSecond} events/s`, '', '', `ceiling: ${EVENTS} rows of ${EVENT_BYTES} B payload, the faster of two runs (${copyRates.join(' and ')} events/s)`],
        ['live projector', `${live.perSecond} events/s`, 'COPY', String(live.ratioToCopy), `a backlog of ${EVENTS} events, ${PROJECTS} projects, ${GROUPS} issues`],
        ...(twoWorkers ? liveRows('live projector, PROJECTOR_WORKERS=2', twoWorkers, copyRate, cpuPerEvent(copyCost, false)).slice(0, 1) : []),
        ['Postgres COPY, CPU', `${cpuPerEvent(copyCost, false)} µs/event`, '', '', `Postgres backends ${copyCost.postgresCpuSeconds} s, WAL ${copyCost.walMB} MB`],
        ['trapline rebuild, per-batch path only', `${Math.round(perBatchRate)} events/s`, 'COPY', String(+(perBatchRate / copyRate).toFixed(2)), perBatch ? `${perBatch.seconds.toFixed(1)} s, everything included (bulk: false)` : 'not run'],
        ['trapline rebuild, per-batch path only, CPU', perBatchRun ? `${cpuPerEvent(perBatchRun)} µs/event` : 'not run', 'COPY CPU', perBatchRun ? String(+(cpuPerEvent(copyCost, false) / cpuPerEvent(perBatchRun)).toFixed(2)) : '',
          perBatchRun ? `bench ${perBatchRun.benchCpuSeconds} s, Postgres backends ${perBatchRun.postgresCpuSeconds} s, WAL ${perBatchRun.walMB} MB` : ''],
        ['trapline rebuild, CPU', `${cpuPerEvent(bulkRun)} µs/event`, 'COPY CPU', String(+(cpuPerEvent(copyCost, false) / cpuPerEvent(bulkRun)).toFixed(2)), `bench ${bulkRun.benchCpuSeconds} s, Postgres backends ${bulkRun.postgresCpuSeconds} s`],
        ['trapline rebuild, threads', `machine idle ${percent(bulkRun.machineIdle)}`, '', '',
          `of the time, running / ready but waiting for a core: JavaScript thread ${percent(javaScript.running)} / ${percent(javaScript.waiting)}, its ${workers.threads} worker threads (summed) ${percent(workers.running)} / ${percent(workers.waiting)}, V8's helper threads ${percent(v8Helpers.running)}`],
        ['trapline rebuild', `${rebuilding.perSecond} events/s`, 'COPY', String(rebuilding.ratioToCopy),
          `${rebuilding.seconds} s, everything included: loading ${rebuilt.bulk?.loadingSeconds.toFixed(1)} s (read ${rebuilt.bulk?.readingSeconds.toFixed(1)} s, of it taking the records ${rebuilt.bulk?.takingSeconds.toFixed(1)} s, the rest waiting for the readers: Kafka and the parse), indexing ${rebuilt.bulk?.indexingSeconds.toFixed(1)} s; CPU: bench ${rebuilding.benchCpuSeconds} s, Postgres backends ${rebuilding.postgresCpuSeconds} s; peak RSS ${rebuilding.peakRssMB} MB (heap ${rebuilding.heapBeforeMB} → ${rebuilding.peakHeapMB} MB), WAL ${rebuilding.walMB} MB`],
        ['trapline rebuild, projecting', `${rebuilding.projecting.perSecond} events/s`, 'COPY', String(rebuilding.projecting.ratioToCopy), `${rebuilding.projecting.seconds} s, from its consumer's start to the swap`],
      ],
    };
  } finally {
    await services.stopAll();
    await env.dispose();
  }
}

