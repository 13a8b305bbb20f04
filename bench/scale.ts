import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { Agent, request } from 'undici';
import { Appender, assignedPartitions, createKafka, createLogger, partitionFor, TransactionalAppender } from '@trapline/runtime';
import { Codec, eventKeys } from '@trapline/schemas';
import { bootstrap } from '@trapline/cli/bootstrap';
import { serviceSet, type ServiceSet } from '@trapline/cli/services';
import { normalizeEvent, serializeEvent } from '../services/ingest/src/domain/normalize.ts';
import { freePort, isolated, type Isolated } from '../test/harness.ts';
import { groupLag } from '../test/log.ts';
import { realisticEvent } from './events.ts';
import { percentile, until, type Scenario } from './report.ts';

// Scale-out on one machine: for N = 1, 2 and 4, a fresh deployment whose events topic has N
// partitions, N ingest instances behind a round-robin load generator and N projectors in one
// consumer group, every one its own process. Two figures per N, each against N = 1 in the same run:
// - ingest: events/s acknowledged for INGEST_SECONDS with CLIENTS_PER_INSTANCE clients per instance
//   (the offered load grows with the instances: ingest batches what waits for Kafka's ack, so fewer
//   clients per instance would mean smaller batches, not more capacity); the projectors run
//   meanwhile, as in production;
// - projection: a backlog of BACKLOG events appended in one Kafka transaction while the group is
//   already stable, so it becomes readable to every member at the commit; events/s from the commit
//   to the last row in Postgres. Group joins and rebalances are left out of the figure.
// Each also as events per CPU-second of the service processes (from /proc), which other work on the
// host changes far less than it changes the wall-clock rates: the per-core figure production sizing
// starts from. On a host with fewer cores than processes the ratios measure what coordination
// costs, not what more cores would give; the report says so, with the load average.

const POINTS = [1, 2, 4];
const INGEST_SECONDS = 15;
const CLIENTS_PER_INSTANCE = 64;
const INGEST_EVENT_BYTES = 4096;
const BACKLOG = 20000;
const BACKLOG_EVENT_BYTES = 2048;
const GROUPS = 200;
const WARMUP_SECONDS = 3;
const PHASE_LIMIT_MS = 3 * 60 * 1000;
// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ) on every common architecture.
const TICKS_PER_SECOND = 100;

/** Four projects on four different partitions of four, hence two on each of two: even load at every N. */
const PROJECT_IDS = (() => {
  const byPartition = new Map<number, number>();
  for (let id = 1; byPartition.size < 4; id += 1) if (!byPartition.has(partitionFor(String(id), 4))) byPartition.set(partitionFor(String(id), 4), id);
  return [...byPartition.values()].sort((a, b) => a - b);
})();

const withEventId = (body: string, id: string) => body.replace(/"event_id":"[0-9a-f]{32}"/, `"event_id":"${id}"`);

/** CPU time (user + system) the processes have used so far, in seconds. */
function cpuSeconds(pids: number[]): number {
  return pids.reduce((total, pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return total + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  }, 0);
}

/** Mean time ingest waited for Kafka's ack, over every instance, from their metrics. */
async function meanAppendMs(ports: number[]): Promise<number> {
  let sum = 0;
  let count = 0;
  for (const port of ports) {
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    sum += Number(/^trapline_ingest_append_seconds_sum\{[^}]*result="acked"[^}]*\} (\S+)/m.exec(metrics)?.[1] ?? 0);
    count += Number(/^trapline_ingest_append_seconds_count\{[^}]*result="acked"[^}]*\} (\S+)/m.exec(metrics)?.[1] ?? 0);
  }
  return count === 0 ? 0 : +((sum / count) * 1000).toFixed(1);
}

const pidsOf = (services: ServiceSet, name: 'ingest' | 'projector') => [...services.services.values()].filter((service) => service.name === name).map((service) => service.process.pid!);

interface Point {
  partitions: number;
  instances: number;
  loadAverage1m: { start: number; end: number };
  ingest: { seconds: number; clients: number; accepted: number; failed: number; perSecond: number; p50ms: number; p99ms: number; cpuSeconds: number; perCpuSecond: number; projectorCpuSeconds: number; meanAppendMs: number };
  projection: { events: number; seconds: number; perSecond: number; cpuSeconds: number; perCpuSecond: number };
}

/** `count` instances of a service, each on a port of its own; returns the ports. */
async function startInstances(services: ServiceSet, name: 'ingest' | 'projector', count: number): Promise<number[]> {
  const portVariable = name === 'ingest' ? 'INGEST_PORT' : 'PROJECTOR_PORT';
  const ports = await Promise.all(Array.from({ length: count }, async () => freePort()));
  await Promise.all(ports.map((port, index) => services.startInstance(name, String(index), { [portVariable]: String(port) })));
  return ports;
}

/** Waits until every one of `count` members of the projector group holds events partitions. */
async function untilGroupStable(env: Isolated, count: number): Promise<void> {
  const admin = createKafka(env.config.kafkaBrokers, 'bench-admin', createLogger('bench', 'error')).admin();
  await admin.connect();
  try {
    await until(`${count} projectors holding events partitions`, async () => {
      const { groups: [group] } = await admin.describeGroups([env.config.projectorGroup]);
      if (group?.state !== 'Stable') return false;
      const holding = group.members.filter((member) => assignedPartitions(member, env.topics.events).length > 0);
      return holding.length === count;
    }, PHASE_LIMIT_MS, 250);
  } finally {
    await admin.disconnect();
  }
}

async function measurePoint(n: number, backlog: { projectId: number; eventId: string; payload: string }[]): Promise<Point> {
  const loadStart = loadavg()[0]!;
  const env = await isolated({ LOG_LEVEL: 'warn', KAFKA_EVENTS_PARTITIONS: String(n) });
  const services = serviceSet(env.env, { logDir: join(env.config.TRAPLINE_STATE_DIR!, 'logs') });
  const kafka = createKafka(env.config.kafkaBrokers, 'bench', createLogger('bench', 'error'));
  const appender = await Appender.connect(kafka, new Codec());
  const agent = new Agent({ connections: CLIENTS_PER_INSTANCE, pipelining: 1 }); // per instance
  try {
    await startInstances(services, 'projector', n);
    const targets: string[] = [];
    for (const projectId of PROJECT_IDS) {
      const { dsn } = await bootstrap({ pool: env.pool, appender, adminTopic: env.topics.admin, publicUrl: env.config.PUBLIC_URL, projectId, projectSlug: `p${projectId}` });
      targets.push(`/api/${projectId}/store/?sentry_key=${new URL(dsn).username}&sentry_version=7`);
    }
    const ingestPorts = await startInstances(services, 'ingest', n);
    await untilGroupStable(env, n);

    // Ingest: request k goes to instance k mod N, the projects taking turns on each instance. A
    // few unmeasured seconds first, so every instance has warmed up (JIT, connections).
    const bodies = Array.from({ length: 200 }, (_, k) => JSON.stringify(realisticEvent(k, INGEST_EVENT_BYTES, GROUPS)));
    let sent = 0;
    const load = async (seconds: number) => {
      let failed = 0;
      const latencies: number[] = [];
      const first = sent;
      const deadline = Date.now() + seconds * 1000;
      await Promise.all(Array.from({ length: CLIENTS_PER_INSTANCE * n }, async () => {
        while (Date.now() < deadline) {
          const k = sent++;
          const url = `http://127.0.0.1:${ingestPorts[k % n]}${targets[Math.floor(k / n) % targets.length]}`;
          const begun = process.hrtime.bigint();
          const status = await request(url, { method: 'POST', body: withEventId(bodies[k % bodies.length]!, (k + 1).toString(16).padStart(32, 'a')), dispatcher: agent, headers: { 'content-type': 'application/json' } })
            .then(async (response) => (await response.body.dump(), response.statusCode), () => 0);
          if (status !== 200) failed += 1;
          latencies.push(Number(process.hrtime.bigint() - begun) / 1e6);
        }
      }));
      return { sent: sent - first, failed, latencies: latencies.sort((a, b) => a - b) };
    };
    await load(WARMUP_SECONDS);
    const ingestCpu = cpuSeconds(pidsOf(services, 'ingest'));
    const projectorCpu = cpuSeconds(pidsOf(services, 'projector'));
    const started = process.hrtime.bigint();
    const measured = await load(INGEST_SECONDS);
    const ingestSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const ingestCpuSeconds = cpuSeconds(pidsOf(services, 'ingest')) - ingestCpu;
    const projectorCpuSeconds = cpuSeconds(pidsOf(services, 'projector')) - projectorCpu;
    const accepted = measured.sent - measured.failed;
    const ingest = {
      seconds: INGEST_SECONDS,
      clients: CLIENTS_PER_INSTANCE * n,
      accepted,
      failed: measured.failed,
      perSecond: Math.round(accepted / ingestSeconds),
      p50ms: +percentile(measured.latencies, 50).toFixed(1),
      p99ms: +percentile(measured.latencies, 99).toFixed(1),
      cpuSeconds: +ingestCpuSeconds.toFixed(1),
      perCpuSecond: Math.round(accepted / ingestCpuSeconds),
      projectorCpuSeconds: +projectorCpuSeconds.toFixed(1),
      meanAppendMs: await meanAppendMs(ingestPorts), // warm-up included
    };
    await Promise.all(ingestPorts.map((_, index) => services.stop(`ingest.${index}`)));
    await until('the projectors to take in what was ingested', async () => (await groupLag(env.config, env.config.projectorGroup, [env.topics.events])) === 0, PHASE_LIMIT_MS, 250);

    // Projection: the backlog becomes readable at the commit, to a group that is already stable.
    await untilGroupStable(env, n);
    const count = async () => ((await env.pool.query('SELECT count(*)::int AS n FROM events')).rows[0] as { n: number }).n;
    const before = await count();
    const codec = new Codec();
    const backlogAppender = await TransactionalAppender.connect(kafka, codec, `${env.config.KAFKA_TOPIC_PREFIX}.bench-backlog`);
    const receivedAt = Date.now();
    const records = backlog.map((record, i) => ({
      key: eventKeys.event(record.projectId, record.eventId),
      name: 'EventReceived' as const,
      value: { projectId: record.projectId, eventId: record.eventId, receivedAt: receivedAt + i, keyId: 'bench', payload: record.payload },
    }));
    await backlogAppender.commit([{ topic: env.topics.events, records }]);
    const committed = process.hrtime.bigint();
    const projectionCpu = cpuSeconds(pidsOf(services, 'projector'));
    await backlogAppender.close();
    await until('the backlog projected', async () => (await count()) === before + backlog.length, PHASE_LIMIT_MS);
    const projectionSeconds = Number(process.hrtime.bigint() - committed) / 1e9;
    const projectionCpuSeconds = cpuSeconds(pidsOf(services, 'projector')) - projectionCpu;
    return {
      partitions: n,
      instances: n,
      loadAverage1m: { start: +loadStart.toFixed(2), end: +loadavg()[0]!.toFixed(2) },
      ingest,
      projection: {
        events: backlog.length,
        seconds: +projectionSeconds.toFixed(1),
        perSecond: Math.round(backlog.length / projectionSeconds),
        cpuSeconds: +projectionCpuSeconds.toFixed(1),
        perCpuSecond: Math.round(backlog.length / projectionCpuSeconds),
      },
    };
  } finally {
    await agent.close();
    await services.stopAll();
    await appender.close();
    await env.dispose();
  }
}

export async function scaleScenario(): Promise<Scenario> {
  const receivedAt = Date.now() / 1000;
  const backlog = Array.from({ length: BACKLOG }, (_, k) => {
    const normalized = normalizeEvent({ event: realisticEvent(k, BACKLOG_EVENT_BYTES, GROUPS) as Record<string, unknown>, received: receivedAt, platformFallback: 'node' });
    if (!normalized.ok) throw new Error('the benchmark event does not normalize');
    return { projectId: PROJECT_IDS[k % PROJECT_IDS.length]!, eventId: normalized.value.event_id, payload: serializeEvent(normalized.value) };
  });
  const loadBefore = loadavg().map((value) => +value.toFixed(2));
  const points: Point[] = [];
  for (const n of POINTS) {
    process.stderr.write(`bench: scale, ${n} partition(s) × ${n} instance(s)\n`);
    points.push(await measurePoint(n, backlog));
  }
  const loadAfter = loadavg().map((value) => +value.toFixed(2));
  const [one] = points;
  const ratio = (value: number, base: number) => +(value / base).toFixed(2);
  const withRatios = points.map((point) => ({
    ...point,
    ingest: { ...point.ingest, ratioToOne: ratio(point.ingest.perSecond, one!.ingest.perSecond), perCpuSecondRatioToOne: ratio(point.ingest.perCpuSecond, one!.ingest.perCpuSecond) },
    projection: { ...point.projection, ratioToOne: ratio(point.projection.perSecond, one!.projection.perSecond), perCpuSecondRatioToOne: ratio(point.projection.perCpuSecond, one!.projection.perCpuSecond) },
  }));
  const cores = cpus().length;
  const processes = (n: number) => `${2 * n} service processes and the load generator on ${cores} cores`;
  return {
    name: 'scale',
    figures: { cores, loadAverage: { before: loadBefore, after: loadAfter }, projectIds: PROJECT_IDS, ingestEventBytes: INGEST_EVENT_BYTES, backlogEventBytes: BACKLOG_EVENT_BYTES, points: withRatios },
    rows: [
      ...withRatios.map((point) => [
        `scale: ingest, ${point.partitions} partition(s) × ${point.instances} instance(s)`,
        `${point.ingest.perSecond} events/s, p50 ${point.ingest.p50ms} ms, p99 ${point.ingest.p99ms} ms (Kafka ack ${point.ingest.meanAppendMs} ms on average); ${point.ingest.perCpuSecond} events per CPU-second`,
        '1 × 1',
        `${point.ingest.ratioToOne} / ${point.ingest.perCpuSecondRatioToOne} per CPU-s`,
        `${point.ingest.clients} clients round-robin over the instances, ${INGEST_SECONDS} s after ${WARMUP_SECONDS} s of warm-up, ${point.ingest.failed} non-200, the projectors meanwhile ${point.ingest.projectorCpuSeconds} CPU-s; ${processes(point.instances)}, 1-min load ${point.loadAverage1m.start} → ${point.loadAverage1m.end}`,
      ]),
      ...withRatios.map((point) => [
        `scale: projection, ${point.partitions} partition(s) × ${point.instances} projector(s)`,
        `${point.projection.perSecond} events/s; ${point.projection.perCpuSecond} events per CPU-second`,
        '1 × 1',
        `${point.projection.ratioToOne} / ${point.projection.perCpuSecondRatioToOne} per CPU-s`,
        `${BACKLOG} events of ${BACKLOG_EVENT_BYTES} B committed at once to a stable group, commit to last row in Postgres`,
      ]),
      ['scale: machine', `${cores} cores, load average ${loadBefore.join(' / ')} before, ${loadAfter.join(' / ')} after`, '', '', 'more processes than cores: the ratios show what coordination costs here, not what more cores would give. CPU-seconds: the service processes only (not Kafka, Postgres or the load generator)'],
    ],
  };
}
