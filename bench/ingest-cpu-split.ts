import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { startTrapline } from '../test/harness.ts';
import { formatSplit, readSplit, splitBetween } from './ingest-split.ts';
import { cpuSecondsOf, cpuSecondsOfTree, LoadGenerator, schedTimesBetween, schedTimesOf, storeBodies } from './load.ts';

// `node --import tsx bench/ingest-cpu-split.ts [--whole]`: where the CPU of one accepted event goes,
// process by process (each with the processes below it), with ingest alone (the log's consumers
// stopped, as bench:ingest's "ingest alone") or the whole stack (--whole): the broker, Redis,
// Postgres and the load generator share the two cores with ingest, so a ratio to the minimal
// receiver is bounded by their share too. Also the broker's CPU by thread, and where ingest's
// requests spent their time (bench/ingest-split.ts). SPLIT_SECONDS (default 15) is the counted
// run; INGEST_WORKERS and EXPERIMENT_PRODUCER_CONFIG are passed on to the services.
const SECONDS = Number(process.env.SPLIT_SECONDS ?? 15);
const whole = process.argv.includes('--whole');
const stopped = ['projector', 'deleter', 'notifier'] as const;

/** The processes whose command line matches (pgrep run without a shell, whose own command line would match too). */
const pidsOf = (pattern: string) => spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
const sumCpu = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSecondsOfTree(pid), 0);

const passed = Object.fromEntries((['INGEST_WORKERS', 'EXPERIMENT_PRODUCER_CONFIG'] as const).flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
const trapline = await startTrapline({ LOG_LEVEL: 'warn', ...passed });
const url = new URL(trapline.defaults.dsn);
const storeUrl = `http://127.0.0.1:${trapline.config.INGEST_PORT}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`;
const bodies = storeBodies(200, 4096);
const load = new LoadGenerator(64);
try {
  if (!whole) for (const name of stopped) await trapline.services.stop(name);
  await load.sustained(storeUrl, bodies, 'a', 3);
  // Each group's CPU now: a server with the processes it forked (Postgres' backends); this process
  // alone (the services are its children).
  const groups: Record<string, () => number> = {
    broker: () => sumCpu(pidsOf('kafka.Kafka')),
    redis: () => sumCpu(pidsOf('redis-server')),
    postgres: () => sumCpu(pidsOf('bin/postgres -D')),
    'load generator': () => cpuSecondsOf(process.pid),
  };
  for (const [name, service] of trapline.services.services) groups[name] = () => cpuSecondsOfTree(service.process.pid!);
  const before = Object.fromEntries(Object.entries(groups).map(([name, cpu]) => [name, cpu()]));
  const brokerPid = pidsOf('kafka.Kafka')[0]!;
  const brokerBefore = schedTimesOf(brokerPid);
  const splitBefore = await readSplit(trapline.config.INGEST_PORT);
  const load1 = loadavg()[0]!;
  const run = await load.sustained(storeUrl, bodies, 'b', SECONDS);
  const after = Object.fromEntries(Object.entries(groups).map(([name, cpu]) => [name, cpu()]));
  const split = splitBetween(splitBefore, await readSplit(trapline.config.INGEST_PORT));
  const brokerRows = schedTimesBetween(brokerBefore, schedTimesOf(brokerPid)).map(([name, times]) => [name, times.running] as const).filter(([, cpu]) => cpu >= 0.05).sort((a, b) => b[1] - a[1]);
  const rows = Object.keys(groups).map((name) => [name, after[name]! - before[name]!] as const).sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, cpu]) => sum + cpu, 0);
  console.log(`${whole ? 'whole stack' : 'ingest alone'}: ${run.perSecond} events/s over ${SECONDS} s (${run.accepted} accepted, ${run.failed} non-200), load ${load1.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
  console.log('| process | CPU-s | µs per event | share |\n| --- | --- | --- | --- |');
  for (const [name, cpu] of rows) console.log(`| ${name} | ${cpu.toFixed(2)} | ${Math.round((cpu / run.accepted) * 1e6)} | ${((cpu / total) * 100).toFixed(1)} % |`);
  console.log(`| all | ${total.toFixed(2)} | ${Math.round((total / run.accepted) * 1e6)} | of ${(2 * SECONDS).toFixed(0)} CPU-s on 2 cores |`);
  console.log(`client p50 ${run.p50ms} ms, p99 ${run.p99ms} ms; in ingest: ${formatSplit(split)}`);
  console.log(`broker threads: ${brokerRows.map(([name, cpu]) => `${name} ${cpu.toFixed(2)}`).join(', ')}`);
} finally {
  await load.close();
  await trapline.dispose();
}
