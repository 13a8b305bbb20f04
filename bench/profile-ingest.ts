import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS } from '@trapline/cli/services';
import { up } from '@trapline/stack';
import { readConfig } from '@trapline/runtime';
import { startTrapline } from '../test/harness.ts';
import { until } from './report.ts';
import { formatSummary, summarizeProfile } from './cpu-profile.ts';
import { cpuSecondsOf, LoadGenerator, pidOf, schedTimesBetween, schedTimesOf, schedTotal, storeBodies } from './load.ts';

// `npx tsx bench/profile-ingest.ts [label]`: the ingest benchmark's sustained load against an
// ingest process running under `node --cpu-prof`, then its busiest functions by self time, into
// bench/results/<date>-ingest-profile[-label].md (and the raw profile's path). The tables count the
// samples of the measured seconds only: start-up (tsx compiling the code) and warm-up are left out.

const WARMUP_SECONDS = 3;
const SECONDS = 15;
const CONCURRENCY = 64;

/** Sum and count of a histogram's series matching `labels` in ingest's metrics now. */
async function histogram(port: number, name: string, labels: RegExp): Promise<{ sum: number; count: number }> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const total = (suffix: string) =>
    metrics
      .split('\n')
      .filter((line) => line.startsWith(`${name}_${suffix}{`) && labels.test(line))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return { sum: total('sum'), count: total('count') };
}

/** User and system (kernel: syscalls, the loopback TCP stack a send runs) CPU seconds of process `pid` so far. */
function userSystemOf(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** Mean of a histogram over the time between two readings, in ms. */
const meanMs = (before: { sum: number; count: number }, after: { sum: number; count: number }) =>
  after.count === before.count ? 0 : +(((after.sum - before.sum) / (after.count - before.count)) * 1000).toFixed(1);

const label = process.argv[2];
await up(readConfig());
const trapline = await startTrapline({ LOG_LEVEL: 'warn' });
const profileDir = mkdtempSync(join(tmpdir(), 'trapline-ingest-profile-'));
const load = new LoadGenerator(CONCURRENCY);
try {
  await trapline.services.stop('ingest');
  // Node 20 refuses --cpu-prof in NODE_OPTIONS, so this one ingest is started here, not by the service set.
  const entry = join(import.meta.dirname, '..', 'services', 'ingest', 'src', 'main.ts');
  const ingest = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...(NODE_FLAGS.ingest ?? []), '--import', 'tsx', entry], { cwd: join(import.meta.dirname, '..'), env: trapline.env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => ingest.once('exit', resolve));
  await until('the profiled ingest', () => fetch(`http://127.0.0.1:${trapline.config.INGEST_PORT}/health`).then((response) => response.ok, () => false), 60000, 200);
  const url = new URL(trapline.defaults.dsn);
  const storeUrl = `http://127.0.0.1:${trapline.config.INGEST_PORT}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`;
  const bodies = storeBodies(200, 4096);
  await load.sustained(storeUrl, bodies, 'e', WARMUP_SECONDS);
  const loadBefore = loadavg()[0]!.toFixed(2);
  const port = trapline.config.INGEST_PORT;
  const appendBefore = await histogram(port, 'trapline_ingest_append_seconds', /result="acked"/);
  const handledBefore = await histogram(port, 'trapline_http_request_duration_seconds', /route="\/api\/:projectId\/store\/"/);
  const checkBefore = await histogram(port, 'trapline_ingest_redis_seconds', /step="check"/);
  const markBefore = await histogram(port, 'trapline_ingest_redis_seconds', /step="mark"/);
  const cpuBefore = cpuSecondsOf(ingest.pid!);
  const splitCpuBefore = userSystemOf(ingest.pid!);
  // Each thread's time on a CPU and time runnable but waiting for one: on a shared machine the
  // second is what a request's latency is made of. The shared stack's broker and Redis too (other
  // sessions' load included: only indicative).
  const peers = { 'Kafka broker': pidOf(/kafka\.Kafka/), Redis: pidOf(/^redis-server/) };
  const schedBefore = [ingest.pid!, ...Object.values(peers)].map((pid) => (pid === undefined ? undefined : schedTimesOf(pid)));
  const generatorBefore = process.cpuUsage();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await load.sustained(storeUrl, bodies, 'a', SECONDS);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const ingestCpu = cpuSecondsOf(ingest.pid!) - cpuBefore;
  const splitCpuAfter = userSystemOf(ingest.pid!);
  const [userCpu, systemCpu] = [splitCpuAfter.user - splitCpuBefore.user, splitCpuAfter.system - splitCpuBefore.system];
  const [threads, ...peerTimes] = [ingest.pid!, ...Object.values(peers)].map((pid, index) => (pid === undefined ? [] : schedTimesBetween(schedBefore[index]!, schedTimesOf(pid))));
  const times = (name: string, { running, waiting }: { running: number; waiting: number }) => `${name} ${running} s on a CPU, ${waiting} s waiting for one`;
  const generator = process.cpuUsage(generatorBefore);
  const generatorCpu = (generator.user + generator.system) / 1e6;
  const loadAfter = loadavg()[0]!.toFixed(2);
  const appendMs = meanMs(appendBefore, await histogram(port, 'trapline_ingest_append_seconds', /result="acked"/));
  const handledMs = meanMs(handledBefore, await histogram(port, 'trapline_http_request_duration_seconds', /route="\/api\/:projectId\/store\/"/));
  const checkMs = meanMs(checkBefore, await histogram(port, 'trapline_ingest_redis_seconds', /step="check"/));
  const markMs = meanMs(markBefore, await histogram(port, 'trapline_ingest_redis_seconds', /step="mark"/));
  ingest.kill('SIGTERM');
  await exited;
  // The main thread's profile is the largest; tsx's module loader thread writes a small one too.
  const file = readdirSync(profileDir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(profileDir, name))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  const summary = summarizeProfile(file, 25, { fromUs, toUs });
  const figures =
    `${result.perSecond} events/s sustained (${CONCURRENCY} clients, ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up, ${result.failed} non-200), p50 ${result.p50ms} ms, p99 ${result.p99ms} ms; ` +
    `in ingest ${handledMs} ms per request on average, of which ${appendMs} ms waiting for Kafka's ack, ${checkMs} ms for Redis' dedupe lookup before it and ${markMs} ms for the dedupe mark after it; ` +
    `ingest ${ingestCpu.toFixed(1)} CPU-s (${Math.round(result.accepted / ingestCpu)} events per CPU-second; ${userCpu.toFixed(1)} s user, ${systemCpu.toFixed(1)} s system), load generator ${generatorCpu.toFixed(1)} CPU-s; 1-min load ${loadBefore} → ${loadAfter}\n\n` +
    `ingest's threads: ${threads!.map(([name, entry]) => times(name, entry)).join('; ')}. ` +
    `Meanwhile (everyone's use of them): ${Object.keys(peers).map((name, index) => times(name, schedTotal(peerTimes[index]!))).join('; ')}`;
  const date = new Date().toISOString();
  const report = `# Ingest CPU profile${label ? ` (${label})` : ''}, ${date}\n\n${figures}\n\nProfile: \`${file}\` (node --cpu-prof; the tables count only the samples of the measured ${SECONDS} s)\n\n${formatSummary(summary)}`;
  const path = join(import.meta.dirname, 'results', `${date.slice(0, 10)}-ingest-profile${label ? `-${label}` : ''}.md`);
  writeFileSync(path, report);
  process.stdout.write(`${report}\nwritten to ${path}\nmeasured window (µs, monotonic): ${fromUs} ${toUs}\n`);
} finally {
  await load.close();
  await trapline.dispose();
}
process.exit(0);
