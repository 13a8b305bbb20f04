import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { up } from '@trapline/stack';
import { readConfig } from '@trapline/runtime';
import { freePort, startTrapline } from '../test/harness.ts';
import { formatSummary, summarizeProfile, type ProfileSummary } from './cpu-profile.ts';
import { formatSplit, readSplit, splitBetween } from './ingest-split.ts';
import { percentile, until } from './report.ts';
import { cpuSecondsOf, cpuSecondsOfTree, LoadGenerator, MINIMAL_RECEIVER, storeBodies } from './load.ts';

// `npx tsx bench/compare-ingest.ts <other checkout> [--profile] [--this-flags=<node flags>]`: the ingest of another checkout (e.g.
// main, with its node_modules installed) against this one's, on one running stack, in the order
// other, this, this, other, so a steady drift of a shared machine meets
// both alike; each run is the benchmark's sustained load (64 clients, 3 s of warm-up, 15 s counted)
// with the ingest's CPU time, and the minimal receiver's rate before and after as the ceiling.
// Prints one table: events/s, events per CPU-second, and this checkout's ratios to the other's.
// With --profile each ingest runs under node --cpu-prof (which costs CPU too: take the ratios from
// a run without it) and each run's profile is summarized over its counted seconds. --this-flags
// gives this checkout's ingest Node flags (e.g. --max-semi-space-size=32), to weigh a flag against
// its absence with the same checkout as the other; --flags=<node flags> gives both ingests flags;
// --rounds=N repeats the four runs N times; --this-env=NAME=value and --other-env=NAME=value
// (repeatable) set their environments (with the same checkout as the other, an A/B of a setting);
// --paced=S adds to each run S seconds at 1,000 events/s on 1,000 connections, after the
// sustained load: its latency, and in both phases where ingest's time went (bench/ingest-split.ts).

const WARMUP_SECONDS = 3;
const SECONDS = 15;
const CONCURRENCY = 64;

const other = process.argv[2];
if (!other) {
  process.stderr.write('usage: npx tsx bench/compare-ingest.ts <other checkout>\n');
  process.exit(2);
}
const roots = { other: resolve(other), this: resolve(import.meta.dirname, '..') };
const thisFlags = process.argv.find((arg) => arg.startsWith('--this-flags='))?.slice('--this-flags='.length).split(' ').filter(Boolean) ?? [];
const bothFlags = process.argv.find((arg) => arg.startsWith('--flags='))?.slice('--flags='.length).split(' ').filter(Boolean) ?? [];
const rounds = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length) ?? 1);
const envOf = (flag: string) => Object.fromEntries(process.argv.filter((arg) => arg.startsWith(flag)).map((arg) => { const [name, ...value] = arg.slice(flag.length).split('='); return [name!, value.join('=')]; }));
const thisEnv = envOf('--this-env=');
const otherEnv = envOf('--other-env=');
/** Each run also posts PACED_RATE events a second for PACED_SECONDS (0: no paced phase). */
const pacedSeconds = Number(process.argv.find((arg) => arg.startsWith('--paced='))?.slice('--paced='.length) ?? 0);
const PACED_RATE = 1000;
const profileDir = process.argv.includes('--profile') ? mkdtempSync(join(tmpdir(), 'trapline-compare-ingest-')) : undefined;

await up(readConfig());
const trapline = await startTrapline({ LOG_LEVEL: 'warn' });
const load = new LoadGenerator(CONCURRENCY);
const peerPort = await freePort();
const peer = spawn(process.execPath, ['-e', MINIMAL_RECEIVER, String(peerPort)], { stdio: 'ignore' });
try {
  await trapline.services.stop('ingest');
  const url = new URL(trapline.defaults.dsn);
  const port = trapline.config.INGEST_PORT;
  const storeUrl = `http://127.0.0.1:${port}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`;
  const peerUrl = `http://127.0.0.1:${peerPort}/api/1/store/`;
  const bodies = storeBodies(200, 4096);
  // Every ingest run posts fresh event ids (dedupe would answer a repeated one without an append);
  // the receiver keeps none, so its runs reuse '0'.
  let prefix = 0;
  const nextPrefix = () => (++prefix).toString(16);

  /** The receiver's rate, and its CPU time per request (what the same work costs the cheapest peer). */
  const receiverCpu = { seconds: 0, requests: 0 };
  const receiver = async () => {
    await load.sustained(peerUrl, bodies, '0', WARMUP_SECONDS);
    const before = cpuSecondsOf(peer.pid!);
    const result = await load.sustained(peerUrl, bodies, '0', SECONDS);
    receiverCpu.seconds += cpuSecondsOf(peer.pid!) - before;
    receiverCpu.requests += result.accepted;
    return result.perSecond;
  };
  await until('the minimal receiver', async () => (await load.post(peerUrl, bodies[0]!.bytes).catch(() => ({ status: 0 }))).status === 200, 10000, 100);

  const run = async (which: keyof typeof roots, index: number) => {
    const root = roots[which];
    const dir = profileDir && join(profileDir, `${index}-${which}`);
    const flags = [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), ...bothFlags, ...(which === 'this' ? thisFlags : [])];
    const ingest: ChildProcess = spawn(process.execPath, [...flags, '--import', 'tsx', join(root, 'services', 'ingest', 'src', 'main.ts')], { cwd: root, env: { ...trapline.env, ...(which === 'this' ? thisEnv : otherEnv) }, stdio: ['ignore', 'ignore', 'inherit'] });
    let window: { fromUs: number; toUs: number } | undefined;
    const exited = new Promise((done) => ingest.once('exit', done));
    try {
      await until(`the ${which} ingest`, () => fetch(`http://127.0.0.1:${port}/health`).then((response) => response.ok, () => false), 60000, 200);
      await load.sustained(storeUrl, bodies, nextPrefix(), WARMUP_SECONDS);
      const cpuBefore = cpuSecondsOfTree(ingest.pid!);
      const splitBefore = await readSplit(port);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const result = await load.sustained(storeUrl, bodies, nextPrefix(), SECONDS);
      window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
      const cpuSeconds = cpuSecondsOfTree(ingest.pid!) - cpuBefore;
      const split = splitBetween(splitBefore, await readSplit(port));
      const sustainedLoad = +loadavg()[0]!.toFixed(1);
      let paced: { p50ms: number; p99ms: number; cpuSeconds: number; perCpuSecond: number; split: ReturnType<typeof splitBetween> } | undefined;
      if (pacedSeconds > 0) {
        const pacedLoad = new LoadGenerator(PACED_RATE);
        const before = await readSplit(port);
        const pacedCpuBefore = cpuSecondsOfTree(ingest.pid!);
        const latencies = await pacedLoad.paced(storeUrl, bodies, nextPrefix(), PACED_RATE, pacedSeconds);
        // At a fixed rate the CPU an event costs is read without the feedback of a saturated run
        // (where ingest takes the share of the cores it gets, and its rate follows the others' load).
        const pacedCpu = cpuSecondsOfTree(ingest.pid!) - pacedCpuBefore;
        await pacedLoad.close();
        paced = { p50ms: +percentile(latencies, 50).toFixed(1), p99ms: +percentile(latencies, 99).toFixed(1), cpuSeconds: +pacedCpu.toFixed(2), perCpuSecond: Math.round(latencies.length / pacedCpu), split: splitBetween(before, await readSplit(port)) };
      }
      return { which, ...result, cpuSeconds: +cpuSeconds.toFixed(2), perCpuSecond: Math.round(result.accepted / cpuSeconds), load: sustainedLoad, split, paced, profile: undefined as ProfileSummary | undefined, window };
    } finally {
      ingest.kill('SIGTERM');
      await exited;
    }
  };
  /** The main thread's profile (the largest; tsx's loader thread writes a small one too), over the counted seconds. */
  const profileOf = (index: number, which: string, window: { fromUs: number; toUs: number }) => {
    const dir = join(profileDir!, `${index}-${which}`);
    const file = readdirSync(dir).map((name) => join(dir, name)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    return summarizeProfile(file, 15, window);
  };

  const receiverBefore = await receiver();
  const runs: Awaited<ReturnType<typeof run>>[] = [];
  for (const which of Array.from({ length: rounds }, () => ['other', 'this', 'this', 'other'] as const).flat()) {
    const index = runs.length + 1;
    const result = await run(which, index);
    runs.push({ ...result, profile: profileDir ? profileOf(index, which, result.window) : undefined });
    // Each run as it ends, so a run cut short still tells what it measured.
    process.stderr.write(`run ${index} ${which}: ${result.perSecond} events/s, p50 ${result.p50ms} ms, p99 ${result.p99ms} ms, load ${result.load}${result.paced ? `; paced p50 ${result.paced.p50ms} ms, p99 ${result.paced.p99ms} ms` : ''}\n  sustained: ${formatSplit(result.split)}\n${result.paced ? `  paced: ${formatSplit(result.paced.split)}\n` : ''}`);
  }
  const receiverAfter = await receiver();

  const sum = (which: string, pick: (entry: (typeof runs)[number]) => number) => runs.filter((entry) => entry.which === which).reduce((total, entry) => total + pick(entry), 0);
  const perSecond = (which: string) => sum(which, (entry) => entry.perSecond) / (2 * rounds);
  const perCpuSecond = (which: string) => sum(which, (entry) => entry.accepted) / sum(which, (entry) => entry.cpuSeconds);
  const receiverRate = (receiverBefore + receiverAfter) / 2;
  const pacedPerCpuSecond = (which: string) => (PACED_RATE * pacedSeconds * 2 * rounds) / sum(which, (entry) => entry.paced?.cpuSeconds ?? 0);
  const lines = [
    `| run | ingest | events/s | p50 ms | p99 ms | non-200 | ingest CPU-s | events per CPU-second | 1-min load after |${pacedSeconds > 0 ? ' paced 1,000/s p50 / p99 ms | paced CPU-s | paced events per CPU-second |' : ''}`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- |${pacedSeconds > 0 ? ' --- | --- | --- |' : ''}`,
    ...runs.map((entry, index) => `| ${index + 1} | ${entry.which} | ${entry.perSecond} | ${entry.p50ms} | ${entry.p99ms} | ${entry.failed} | ${entry.cpuSeconds} | ${entry.perCpuSecond} | ${entry.load} |${entry.paced ? ` ${entry.paced.p50ms} / ${entry.paced.p99ms} | ${entry.paced.cpuSeconds} | ${entry.paced.perCpuSecond} |` : ''}`),
    '',
    'In ingest (its histograms: mean, and the bucket bounds holding p50 and p99):',
    '',
    ...runs.flatMap((entry, index) => [`- run ${index + 1}, ${entry.which}, sustained: ${formatSplit(entry.split)}`, ...(entry.paced ? [`- run ${index + 1}, ${entry.which}, paced: ${formatSplit(entry.paced.split)}`] : [])]),
    '',
    `minimal receiver: ${receiverBefore} events/s before, ${receiverAfter} after; ${Math.round(receiverCpu.requests / receiverCpu.seconds)} requests per CPU-second`,
    `other (${roots.other}${Object.keys(otherEnv).length > 0 ? `, ${Object.entries(otherEnv).map(([key, value]) => `${key}=${value}`).join(' ')}` : ''}): ${Math.round(perSecond('other'))} events/s (${(perSecond('other') / receiverRate).toFixed(2)} of the receiver), ${Math.round(perCpuSecond('other'))} events per CPU-second`,
    `this (${roots.this}${thisFlags.length > 0 ? `, node ${thisFlags.join(' ')}` : ''}${Object.keys(thisEnv).length > 0 ? `, ${Object.entries(thisEnv).map(([key, value]) => `${key}=${value}`).join(' ')}` : ''}): ${Math.round(perSecond('this'))} events/s (${(perSecond('this') / receiverRate).toFixed(2)} of the receiver), ${Math.round(perCpuSecond('this'))} events per CPU-second`,
    `this / other: ${(perSecond('this') / perSecond('other')).toFixed(2)}× events/s, ${(perCpuSecond('this') / perCpuSecond('other')).toFixed(2)}× events per CPU-second`,
    ...(pacedSeconds > 0
      ? [`paced ${PACED_RATE}/s, events per CPU-second (all runs' events over all their CPU-seconds): other ${Math.round(pacedPerCpuSecond('other'))}, this ${Math.round(pacedPerCpuSecond('this'))}, this / other ${(pacedPerCpuSecond('this') / pacedPerCpuSecond('other')).toFixed(2)}×`]
      : []),
  ];
  for (const [index, entry] of runs.entries()) if (entry.profile) lines.push('', `### run ${index + 1}, ${entry.which}: ${entry.perSecond} events/s, ${entry.perCpuSecond} events per CPU-second (profiled)`, '', formatSummary(entry.profile));
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  peer.kill();
  await load.close();
  await trapline.dispose();
}
process.exit(0);
