import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { createKafka, createLogger, projectPartitioner } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { serviceSet } from '@trapline/cli/services';
import { rebuild } from '../packages/cli/src/rebuild.ts';
import { normalizeEvent, serializeEvent } from '../services/ingest/src/domain/normalize.ts';
import { isolated } from '../test/harness.ts';
import { realisticEvent } from './events.ts';
import { until, type Scenario } from './report.ts';

// Projection rate of the live projector and of `trapline rebuild`, with
// the Postgres COPY rate of the same event rows as the ceiling, all in one run. Bounded: a fixed
// number of events, each phase with a time limit.

// BENCH_PROJECTOR_EVENTS=1000000 for the million-event rebuild (BENCH_PROJECTOR_LIVE=0 skips the
// live projector and the per-batch rebuild, which take minutes at that size).
const EVENTS = Number(process.env.BENCH_PROJECTOR_EVENTS ?? 50000);
const WITH_LIVE = process.env.BENCH_PROJECTOR_LIVE !== '0';
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

export async function projectorScenario(): Promise<Scenario> {
  const env = await isolated({ LOG_LEVEL: 'warn' });
  const logger = createLogger('bench', 'warn');
  const kafka = createKafka(env.config.kafkaBrokers, 'bench', logger);
  const codec = new Codec();
  const services = serviceSet(env.env, { logDir: join(env.config.TRAPLINE_STATE_DIR!, 'logs') });
  try {
    const receivedAt = Date.now();
    // Made again where needed, not held: a million of them would not fit the bench's memory.
    const recordOf = (n: number) => {
      const normalized = normalizeEvent({ event: realisticEvent(n, EVENT_BYTES, GROUPS) as Record<string, unknown>, received: receivedAt / 1000, platformFallback: 'node' });
      if (!normalized.ok) throw new Error('the benchmark event does not normalize');
      const projectId = 1 + (n % PROJECTS);
      return { projectId, eventId: normalized.value.event_id, payload: serializeEvent(normalized.value) };
    };

    // The log: every event appended straight to Kafka.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: projectPartitioner });
    await producer.connect();
    for (let first = 0; first < EVENTS; first += 500) {
      const messages = Array.from({ length: Math.min(500, EVENTS - first) }, (_, i) => recordOf(first + i)).map((record, i) => {
        const encoded = codec.encode('EventReceived', { projectId: record.projectId, eventId: record.eventId, receivedAt: receivedAt + first + i, keyId: 'bench', payload: record.payload });
        return { key: `${record.projectId}/${record.eventId}`, value: encoded.value, headers: encoded.headers };
      });
      await producer.send({ topic: env.topics.events, acks: -1, messages });
    }
    await producer.disconnect();

    const count = async () => ((await env.pool.query('SELECT count(*)::int AS n FROM events')).rows[0] as { n: number }).n;

    // Live: the projector service consumes the whole backlog.
    let liveRate = NaN;
    if (WITH_LIVE) {
      await services.start('projector');
      await until('the first projected event', async () => (await count()) > 0, PHASE_LIMIT_MS);
      const liveStart = process.hrtime.bigint();
      const liveFirst = await count();
      await until('the live projection', async () => (await count()) === EVENTS, PHASE_LIMIT_MS);
      liveRate = (EVENTS - liveFirst) / (Number(process.hrtime.bigint() - liveStart) / 1e9);
      await services.stop('projector');
    }

    // Rebuild: the same log into fresh tables, by the per-batch path (as before the bulk path), then
    // by the bulk path, measured: the bench's own CPU (the rebuild runs in it), its peak memory, and
    // the WAL Postgres wrote meanwhile (the whole server's: other work on it counts too).
    const perBatch = WITH_LIVE ? await rebuild({ config: env.config, kafka, logger, bulk: false }) : undefined;
    const wal = async () => BigInt(((await env.pool.query('SELECT pg_current_wal_lsn() - \'0/0\'::pg_lsn AS bytes')).rows[0] as { bytes: string }).bytes);
    const walBefore = await wal();
    const cpuBefore = process.cpuUsage();
    const heapBefore = process.memoryUsage().heapUsed;
    let peakRss = 0;
    let peakHeap = 0;
    const database = decodeURIComponent(new URL(env.config.DATABASE_URL).pathname.slice(1));
    const backendsBefore = postgresBackendTicks(database);
    const backends = new Map(backendsBefore);
    const sampler = setInterval(() => {
      const memory = process.memoryUsage();
      peakRss = Math.max(peakRss, memory.rss);
      peakHeap = Math.max(peakHeap, memory.heapUsed);
      for (const [pid, ticks] of postgresBackendTicks(database)) backends.set(pid, Math.max(ticks, backends.get(pid) ?? 0));
    }, 100);
    const rebuildFrom = Date.now();
    const rebuilt = await rebuild({ config: env.config, kafka, logger, progress: (line) => process.stderr.write(`rebuild +${((Date.now() - rebuildFrom) / 1000).toFixed(1)} s: ${line}\n`) }).finally(() => clearInterval(sampler));
    const cpu = process.cpuUsage(cpuBefore);
    const postgresCpuSeconds = [...backends.entries()].reduce((sum, [pid, ticks]) => sum + ticks - (backendsBefore.get(pid) ?? 0), 0) / 100;
    const walBytes = Number((await wal()) - walBefore);
    const rebuildRate = rebuilt.records / rebuilt.seconds;

    // Ceiling: COPY of the same event rows into a table shaped like `events`.
    await env.pool.query('CREATE TABLE copy_ceiling (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING COMPRESSION)');
    const client = await env.pool.connect();
    const copyStart = process.hrtime.bigint();
    try {
      const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
      const at = new Date(receivedAt).toISOString();
      const lines = function* () {
        for (let n = 0; n < EVENTS; n += 1) {
          const record = recordOf(n);
          yield `${record.projectId}\t${record.eventId}\t1\t${at}\t${at}\terror\tnode\tTypeError\t\tbench@1.0.0\tbench\tid:u1\tf\t${escape(record.payload)}\n`;
        }
      };
      await pipeline(
        Readable.from(lines()),
        client.query(copyFrom('COPY copy_ceiling (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, message, release, environment, user_ident, pending_deletion, payload) FROM STDIN')),
      );
    } finally {
      client.release();
    }
    const copySeconds = Number(process.hrtime.bigint() - copyStart) / 1e9;
    // Making the rows again is the bench's work, not Postgres': timed apart and taken off.
    const makeStart = process.hrtime.bigint();
    for (let n = 0; n < EVENTS; n += 1) recordOf(n);
    const makeSeconds = Number(process.hrtime.bigint() - makeStart) / 1e9;
    // (So the ceiling is if anything higher than Postgres gave: the bench makes rows while Postgres reads them.)
    const copyRate = EVENTS / Math.max(0.001, copySeconds - makeSeconds);

    const copyCeiling = { perSecond: Math.round(copyRate) };
    const live = { perSecond: Math.round(liveRate), ratioToCopy: +(liveRate / copyRate).toFixed(2) };
    const projectingRate = rebuilt.records / rebuilt.projectingSeconds;
    const rebuilding = {
      perSecond: Math.round(rebuildRate), seconds: +rebuilt.seconds.toFixed(1), ratioToCopy: +(rebuildRate / copyRate).toFixed(2),
      projecting: { perSecond: Math.round(projectingRate), seconds: +rebuilt.projectingSeconds.toFixed(1), ratioToCopy: +(projectingRate / copyRate).toFixed(2) },
      bulk: rebuilt.bulk,
      benchCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
      peakRssMB: Math.round(peakRss / 2 ** 20), peakHeapMB: Math.round(peakHeap / 2 ** 20), heapBeforeMB: Math.round(heapBefore / 2 ** 20),
      walMB: Math.round(walBytes / 2 ** 20), postgresCpuSeconds: +postgresCpuSeconds.toFixed(1),
    };
    const perBatchRate = perBatch ? perBatch.records / perBatch.seconds : NaN;
    return {
      name: 'projector',
      figures: { events: EVENTS, eventBytes: EVENT_BYTES, projects: PROJECTS, groups: GROUPS, copyCeiling, live, rebuild: rebuilding, perBatchRebuild: perBatch ? { perSecond: Math.round(perBatchRate), seconds: +perBatch.seconds.toFixed(1) } : null },
      rows: [
        ['Postgres COPY of the event rows', `${copyCeiling.perSecond} events/s`, '', '', `ceiling: ${EVENTS} rows of ${EVENT_BYTES} B payload`],
        ['live projector', `${live.perSecond} events/s`, 'COPY', String(live.ratioToCopy), `a backlog of ${EVENTS} events, ${PROJECTS} projects, ${GROUPS} issues`],
        ['trapline rebuild, per-batch path only', `${Math.round(perBatchRate)} events/s`, 'COPY', String(+(perBatchRate / copyRate).toFixed(2)), perBatch ? `${perBatch.seconds.toFixed(1)} s, everything included (bulk: false)` : 'not run'],
        ['trapline rebuild', `${rebuilding.perSecond} events/s`, 'COPY', String(rebuilding.ratioToCopy),
          `${rebuilding.seconds} s, everything included: loading ${rebuilt.bulk?.loadingSeconds.toFixed(1)} s, indexing ${rebuilt.bulk?.indexingSeconds.toFixed(1)} s; CPU: bench ${rebuilding.benchCpuSeconds} s, Postgres backends ${rebuilding.postgresCpuSeconds} s; peak RSS ${rebuilding.peakRssMB} MB (heap ${rebuilding.heapBeforeMB} → ${rebuilding.peakHeapMB} MB), WAL ${rebuilding.walMB} MB`],
        ['trapline rebuild, projecting', `${rebuilding.projecting.perSecond} events/s`, 'COPY', String(rebuilding.projecting.ratioToCopy), `${rebuilding.projecting.seconds} s, from its consumer's start to the swap`],
      ],
    };
  } finally {
    await services.stopAll();
    await env.dispose();
  }
}

