import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { Appender, createKafka, createLogger } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { freePort, startTrapline } from '../test/harness.ts';
import { groupLag } from '../test/log.ts';
import { cpuSecondsOfTree, eventId, LoadGenerator, MINIMAL_RECEIVER, storeBodies, withEventId, type SustainedResult } from './load.ts';
import { formatSplit, readSplit, splitBetween } from './ingest-split.ts';
import { percentile, until, type Scenario } from './report.ts';

// Ingest through the real stack: sustained rate and ack latency, next to two ceilings measured in
// the same run on loopback — the raw Kafka producer for the same records, and a minimal
// Sentry-protocol receiver (parse the JSON, answer the id, keep nothing) for the HTTP side. Ingest
// runs the sustained load twice: with the whole stack working (the cores are shared with Kafka, the
// projector and the deleter) and alone (the log's consumers stopped). Then the latency at a paced
// rate once the consumers have caught up, how long an acknowledged event takes to be visible in the
// API, and each service's memory. The same sustained load also goes through the front door (nginx on
// the DSN's port), interleaved with runs straight to ingest, for its cost as a ratio.

const EVENT_BYTES = 4096;
const RAW_RECORDS = 20000;
const SUSTAINED_SECONDS = 15;
/** Each sustained run follows as long a run at the same load that is not counted: a fresh process's code is cold. */
const WARMUP_SECONDS = 3;
const CONCURRENCY = 64;
const PACED_RATE = 1000;
/**
 * Ingest alone is measured with its defaults and with each of these settings, which suit a host
 * where ingest has cores to spare: workers for the machine's two cores, and a shorter linger.
 */
const ALONE_VARIANTS = { default: {}, 'INGEST_WORKERS=2': { INGEST_WORKERS: '2' }, 'INGEST_LINGER_MS=1': { INGEST_LINGER_MS: '1' } } as const;
type AloneVariant = keyof typeof ALONE_VARIANTS;
const PACED_SECONDS = 10;
/**
 * The paced run's own clients, as many as it sends each second: with the sustained run's 64, a
 * mean answer above 64 ms at 1,000/s leaves requests waiting for a free connection, a queue that
 * grows for the whole run, and the latency measured is that queue's (seconds), not ingest's.
 */
const PACED_CONNECTIONS = PACED_RATE;
const VISIBLE_SAMPLES = 100;

const ingestResult = (run: SustainedResult) => `${run.perSecond} events/s, p50 ${run.p50ms} ms, p99 ${run.p99ms} ms`;
const ingestNote = (run: SustainedResult & { cpuSeconds: number; perCpuSecond: number }) =>
  `${CONCURRENCY} HTTP clients, ${SUSTAINED_SECONDS} s after ${WARMUP_SECONDS} s of warm-up, ${run.failed} non-200; ingest ${run.cpuSeconds} CPU-s, ${run.perCpuSecond} events per CPU-second`;

export async function ingestScenario(): Promise<Scenario> {
  const trapline = await startTrapline({ LOG_LEVEL: 'warn' });
  const url = new URL(trapline.defaults.dsn);
  const storePath = `/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`;
  const storeUrl = `http://127.0.0.1:${trapline.config.INGEST_PORT}${storePath}`;
  const doorUrl = `http://127.0.0.1:${trapline.config.GATEWAY_PORT}${storePath}`;
  const bodies = storeBodies(200, EVENT_BYTES);
  const load = new LoadGenerator(CONCURRENCY);
  const post = (target: string, body: Buffer) => load.post(target, body);
  /** Ingest's process now (the runs of ALONE_VARIANTS start others), whose tree holds its workers. */
  const ingestPid = () => [...trapline.services.services.values()].find((service) => service.name === 'ingest')!.process.pid!;
  const peerPort = await freePort();
  const peer = spawn(process.execPath, ['-e', MINIMAL_RECEIVER, String(peerPort)], { stdio: 'ignore' });
  try {
    // Ceiling 1: the same records straight to Kafka through the Appender (ingest's producer), in
    // appends like ingest's own (about 200 records of 4 KB), into a scratch topic shaped like the log.
    const kafka = createKafka(trapline.config.kafkaBrokers, 'bench', createLogger('bench', 'error'));
    const admin = kafka.admin();
    await admin.connect();
    const scratch = `${trapline.config.KAFKA_TOPIC_PREFIX}.bench.raw`;
    await admin.createTopics({ topics: [{ topic: scratch, numPartitions: 6, replicationFactor: 1 }] });
    await admin.disconnect();
    const appender = await Appender.connect(kafka, new Codec());
    const rawStart = process.hrtime.bigint();
    for (let first = 0; first < RAW_RECORDS; first += 200) {
      const records = Array.from({ length: Math.min(200, RAW_RECORDS - first) }, (_, i) => ({
        key: `9/raw${first + i}`,
        name: 'EventReceived' as const,
        value: { projectId: 9, eventId: `raw${first + i}`, receivedAt: Date.now(), keyId: 'bench', payload: bodies[(first + i) % bodies.length]!.bytes.toString() },
      }));
      await appender.append(scratch, records);
    }
    const rawRate = RAW_RECORDS / (Number(process.hrtime.bigint() - rawStart) / 1e9);
    await appender.close();

    // Ceiling 2: the minimal receiver under the same load.
    const peerUrl = `http://127.0.0.1:${peerPort}/api/1/store/`;
    await until('the minimal receiver', async () => (await post(peerUrl, bodies[0]!.bytes).catch(() => ({ status: 0 }))).status === 200, 10000);
    const loadBefore = loadavg()[0]!;
    await load.sustained(peerUrl, bodies, 'e', WARMUP_SECONDS);
    const receiver = await load.sustained(peerUrl, bodies, 'c', SUSTAINED_SECONDS);

    /** The sustained load on ingest after its warm-up, with ingest's CPU time and its ratios to the ceilings. */
    const sustainedIngest = async (warmupPrefix: string, prefix: string, target = storeUrl) => {
      await load.sustained(target, bodies, warmupPrefix, WARMUP_SECONDS);
      const cpuBefore = cpuSecondsOfTree(ingestPid());
      const result = await load.sustained(target, bodies, prefix, SUSTAINED_SECONDS);
      const cpuSeconds = cpuSecondsOfTree(ingestPid()) - cpuBefore;
      return {
        seconds: SUSTAINED_SECONDS,
        concurrency: CONCURRENCY,
        ...result,
        cpuSeconds: +cpuSeconds.toFixed(1),
        perCpuSecond: Math.round(result.accepted / cpuSeconds),
        ratioToRawProducer: +(result.perSecond / rawRate).toFixed(2),
        ratioToMinimalReceiver: +(result.perSecond / receiver.perSecond).toFixed(2),
      };
    };

    // Sustained, the whole stack running: ingest shares the cores with Kafka, the projector and the
    // deleter working through what it appends.
    const sustained = await sustainedIngest('f', 'a');
    const loadAfterSustained = loadavg()[0]!;

    // Through the front door: the same load on the DSN's port, interleaved with runs straight to
    // ingest in the order door, direct, direct, door, so a steady drift of the shared machine meets
    // both alike. nginx's CPU time against ingest's is the cost that does not depend on that load.
    const gatewayPid = trapline.services.services.get('gateway')!.process.pid!;
    const door: (Awaited<ReturnType<typeof sustainedIngest>> & { nginxCpuSeconds: number })[] = [];
    const direct: Awaited<ReturnType<typeof sustainedIngest>>[] = [];
    for (const [via, warmup, counted] of [['door', '1', '2'], ['direct', '3', '4'], ['direct', '5', '6'], ['door', '9', '0']] as const) {
      const nginxBefore = cpuSecondsOfTree(gatewayPid);
      const run = await sustainedIngest(warmup, counted, via === 'door' ? doorUrl : storeUrl);
      if (via === 'door') door.push({ ...run, nginxCpuSeconds: +(cpuSecondsOfTree(gatewayPid) - nginxBefore).toFixed(2) });
      else direct.push(run);
    }
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    const frontDoor = {
      order: ['door', 'direct', 'direct', 'door'],
      doorPerSecond: door.map((run) => run.perSecond),
      directPerSecond: direct.map((run) => run.perSecond),
      ratioToDirect: +(sum(door.map((run) => run.perSecond)) / sum(direct.map((run) => run.perSecond))).toFixed(3),
      nginxCpuSecondsPer1000Events: +((sum(door.map((run) => run.nginxCpuSeconds)) / sum(door.map((run) => run.accepted))) * 1000).toFixed(3),
      nginxCpuToIngestCpu: +(sum(door.map((run) => run.nginxCpuSeconds)) / sum(door.map((run) => run.cpuSeconds))).toFixed(3),
      runs: door,
    };

    // Ingest alone: the same load while the log's consumers (projector, deleter, notifier) are
    // stopped, as when Kafka absorbs a flood the consumers work through later; then they are
    // started again. With the cores to itself, ingest is also measured with ALONE_VARIANTS'
    // settings, in the order default, each variant, each variant again in reverse, default.
    const { config, topics } = trapline;
    const consumers = ['projector', 'deleter', 'notifier'] as const;
    for (const name of consumers) await trapline.services.stop(name);
    const restartIngest = async (variant: AloneVariant) => {
      for (const key of [...trapline.services.services.keys()].filter((key) => key.startsWith('ingest'))) await trapline.services.stop(key);
      if (variant === 'default') await trapline.services.start('ingest');
      else await trapline.services.startInstance('ingest', 'variant', ALONE_VARIANTS[variant]);
    };
    const variants = Object.keys(ALONE_VARIANTS).filter((name) => name !== 'default') as AloneVariant[];
    const order: AloneVariant[] = ['default', ...variants, ...[...variants].reverse(), 'default'];
    const aloneRuns: { variant: AloneVariant; run: Awaited<ReturnType<typeof sustainedIngest>> }[] = [];
    for (const [index, variant] of order.entries()) {
      await restartIngest(variant);
      aloneRuns.push({ variant, run: await sustainedIngest(`7${index}`, `8${index}`) });
    }
    const loadAfterAlone = loadavg()[0]!;
    for (const name of consumers) await trapline.services.start(name);
    /** The runs of one variant together: rates and ratios averaged, CPU per event over all their events. */
    const aloneOf = (variant: AloneVariant) => {
      const runs = aloneRuns.filter((entry) => entry.variant === variant).map((entry) => entry.run);
      const mean = (pick: (run: (typeof runs)[number]) => number, digits: number) => +(sum(runs.map(pick)) / runs.length).toFixed(digits);
      return {
        ...runs[0]!,
        perSecond: mean((run) => run.perSecond, 0),
        p50ms: mean((run) => run.p50ms, 1),
        p99ms: mean((run) => run.p99ms, 1),
        failed: sum(runs.map((run) => run.failed)),
        accepted: sum(runs.map((run) => run.accepted)),
        cpuSeconds: +sum(runs.map((run) => run.cpuSeconds)).toFixed(1),
        perCpuSecond: Math.round(sum(runs.map((run) => run.accepted)) / sum(runs.map((run) => run.cpuSeconds))),
        ratioToRawProducer: mean((run) => run.ratioToRawProducer, 2),
        ratioToMinimalReceiver: mean((run) => run.ratioToMinimalReceiver, 2),
        runs: runs.map((run) => run.perSecond),
      };
    };
    const alone = aloneOf('default');
    const aloneVariants = Object.fromEntries(variants.map((variant) => {
      const figures = aloneOf(variant);
      return [variant, { ...figures, settings: ALONE_VARIANTS[variant], ratioToDefault: +(figures.perSecond / alone.perSecond).toFixed(2) }];
    }));

    // Paced: PACED_RATE events/s for PACED_SECONDS, the latency of each, once the consumers have
    // caught up with the backlog of the runs above (else it measures their contention, not ingest).
    const caughtUp = async () =>
      (await groupLag(config, config.projectorGroup, [topics.events])) === 0 && (await groupLag(config, config.deleterGroup, [topics.events])) === 0;
    await until('the projector and the deleter to catch up', caughtUp, 5 * 60 * 1000, 500);
    const loadBeforePaced = loadavg()[0]!;
    const pacedLoad = new LoadGenerator(PACED_CONNECTIONS);
    const splitBefore = await readSplit(config.INGEST_PORT);
    const paced = await pacedLoad.paced(storeUrl, bodies, 'b', PACED_RATE, PACED_SECONDS);
    await pacedLoad.close();
    // Ingest's own measure of the same requests (arrival to answer sent), beside the client's, and
    // its parts: Kafka's ack, the Redis lookup before it, the Redis mark after it.
    const pacedSplit = splitBetween(splitBefore, await readSplit(config.INGEST_PORT));
    const pacedServedMeanMs = +pacedSplit.request.meanMs.toFixed(1);

    // Ack → visible: once the projector has caught up, single events one at a time, from the
    // ingest's 200 to the API answering the event.
    await until('the projector to catch up', async () => (await groupLag(config, config.projectorGroup, [topics.events])) === 0, 5 * 60 * 1000);
    const visible: number[] = [];
    for (let n = 0; n < VISIBLE_SAMPLES; n += 1) {
      const id = eventId(n + 1, 'd');
      const acked = await post(storeUrl, withEventId(bodies[n % bodies.length]!, id));
      if (acked.status !== 200) continue;
      const started = process.hrtime.bigint();
      await until(`event ${id} visible`, async () => {
        const response = await fetch(`${trapline.publicUrl}/api/0/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/events/${id}/`, { headers: { authorization: `Bearer ${trapline.defaults.token}` } });
        await response.arrayBuffer();
        return response.ok;
      }, 30000, 10);
      visible.push(Number(process.hrtime.bigint() - started) / 1e6 + acked.ms);
    }
    visible.sort((a, b) => a - b);

    const rssMiB: Record<string, number> = {};
    for (const [name, port] of Object.entries({ ingest: config.INGEST_PORT, api: config.API_PORT, projector: config.PROJECTOR_PORT, deleter: config.DELETER_PORT })) {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      rssMiB[name] = Math.round(Number(/^process_resident_memory_bytes(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? 0) / 1024 / 1024);
    }

    const figures = {
      eventBytes: EVENT_BYTES,
      rawKafkaProducer: { records: RAW_RECORDS, perSecond: Math.round(rawRate) },
      minimalReceiver: { seconds: SUSTAINED_SECONDS, concurrency: CONCURRENCY, ...receiver },
      ingestSustained: sustained,
      ingestThroughFrontDoor: frontDoor,
      ingestAlone: { ...alone, stopped: consumers },
      ingestAloneVariants: { order, variants: aloneVariants },
      ingestPaced: { perSecond: PACED_RATE, seconds: PACED_SECONDS, connections: PACED_CONNECTIONS, afterConsumersCaughtUp: true, servedMeanMs: pacedServedMeanMs, split: pacedSplit, p50ms: +percentile(paced, 50).toFixed(1), p99ms: +percentile(paced, 99).toFixed(1) },
      ackToVisible: { samples: visible.length, p50ms: +percentile(visible, 50).toFixed(1), p99ms: +percentile(visible, 99).toFixed(1) },
      rssMiB,
      loadAverage1m: { beforeReceiver: +loadBefore.toFixed(2), afterSustained: +loadAfterSustained.toFixed(2), afterAlone: +loadAfterAlone.toFixed(2), beforePaced: +loadBeforePaced.toFixed(2) },
    };
    return {
      name: 'ingest',
      figures,
      rows: [
        ['raw Kafka producer', `${figures.rawKafkaProducer.perSecond} events/s`, '', '', 'ceiling: the same 4 KB records through the Appender, appends of 200, acks=all, idempotent'],
        ['minimal Sentry receiver', `${receiver.perSecond} events/s, p99 ${receiver.p99ms} ms`, '', '', `ceiling: ${CONCURRENCY} clients, parse and answer only, ${SUSTAINED_SECONDS} s after ${WARMUP_SECONDS} s of warm-up`],
        ['ingest, sustained', ingestResult(sustained), 'raw producer / receiver', `${sustained.ratioToRawProducer} / ${sustained.ratioToMinimalReceiver}`, `whole stack running (projector, deleter, notifier); ${ingestNote(sustained)}`],
        ['ingest through the front door', door.map(ingestResult).join('; '), 'to direct / nginx CPU to ingest CPU', `${frontDoor.ratioToDirect} / ${frontDoor.nginxCpuToIngestCpu}`, `nginx on the DSN's port, the same load, in the order door, direct, direct, door (direct ${frontDoor.directPerSecond.join(', ')} events/s); nginx ${frontDoor.nginxCpuSecondsPer1000Events} CPU-s per 1,000 events`],
        ['ingest alone', ingestResult(alone), 'raw producer / receiver', `${alone.ratioToRawProducer} / ${alone.ratioToMinimalReceiver}`, `projector, deleter and notifier stopped (Kafka absorbs the flood, they catch up after); mean of 2 runs (${alone.runs.join(', ')} events/s), the first and the last of the order below; ${ingestNote(alone)}`],
        ...Object.entries(aloneVariants).map(([variant, run]) => [`ingest alone, ${variant}`, ingestResult(run), 'raw producer / receiver', `${run.ratioToRawProducer} / ${run.ratioToMinimalReceiver}`, `the same, with ${variant}: ${run.ratioToDefault}× the default's rate; runs in the order ${order.join(', ')}; mean of 2 runs (${run.runs.join(', ')} events/s); ${ingestNote(run)} (its processes together)`]),
        [`ingest, paced ${PACED_RATE}/s`, `p50 ${figures.ingestPaced.p50ms} ms, p99 ${figures.ingestPaced.p99ms} ms`, '', '', `${PACED_SECONDS} s on ${PACED_CONNECTIONS} HTTP clients, whole stack running, started once the projector and the deleter had caught up; ingest's own mean, arrival to answer, ${pacedServedMeanMs} ms; in ingest: ${formatSplit(pacedSplit)}`],
        ['ack → visible in the API', `p50 ${figures.ackToVisible.p50ms} ms, p99 ${figures.ackToVisible.p99ms} ms`, '', '', `${visible.length} single events, API polled every 10 ms`],
        ['RSS per service', Object.entries(rssMiB).map(([name, mib]) => `${name} ${mib} MiB`).join(', '), '', '', 'after the load'],
        ['machine', `1-min load average ${Object.values(figures.loadAverage1m).join(' → ')}`, '', '', 'before the receiver ceiling, after sustained ingest, after ingest alone, before the paced run: the machine is shared, so compare ratios'],
      ],
    };
  } finally {
    peer.kill();
    await load.close();
    await trapline.dispose();
  }
}
