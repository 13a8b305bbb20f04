import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS } from '@trapline/cli/services';
import { createKafka, createLogger, readConfig } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { up } from '@trapline/stack';
import { isolated } from '../test/harness.ts';
import { formatSummary, PROJECTION_STAGES, summarizeProfile } from './cpu-profile.ts';
import { cpuSecondsOf } from './load.ts';
import { appendBenchLog } from './projector.ts';
import { until } from './report.ts';

// `npx tsx bench/profile-projector.ts [events]`: the projector bench's log (default 50,000 events)
// appended, then the live projector started under `node --cpu-prof` to consume the backlog, and
// its busiest stages and functions by self time printed (the samples from its first projected
// event to the last; start-up left out).
// PROFILE_NODE_FLAGS adds Node flags to the projector's, its output then shown (e.g. `--trace-gc`).

const events = Number(process.argv[2] ?? 50000);
await up(readConfig());
const env = await isolated({ LOG_LEVEL: 'warn' });
const kafka = createKafka(env.config.kafkaBrokers, 'bench', createLogger('bench', 'warn'));
const profileDir = mkdtempSync(join(tmpdir(), 'trapline-projector-profile-'));
try {
  await appendBenchLog(kafka, new Codec(), env.topics.events, events, Date.now());
  const count = async () => ((await env.pool.query('SELECT count(*)::int AS n FROM events')).rows[0] as { n: number }).n;
  const entry = join(import.meta.dirname, '..', 'services', 'projector', 'src', 'main.ts');
  const projector = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...(NODE_FLAGS.projector ?? []), ...(process.env.PROFILE_NODE_FLAGS ? process.env.PROFILE_NODE_FLAGS.split(' ') : []), '--import', 'tsx', entry], { cwd: join(import.meta.dirname, '..'), env: env.env, stdio: ['ignore', process.env.PROFILE_NODE_FLAGS ? 'inherit' : 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => projector.once('exit', resolve));
  await until('the first projected event', async () => (await count()) > 0, 300000, 100);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const first = await count();
  const cpuBefore = cpuSecondsOf(projector.pid!);
  const load = loadavg()[0]!.toFixed(1);
  await until('the live projection', async () => (await count()) === events, 600000, 200);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const cpu = cpuSecondsOf(projector.pid!) - cpuBefore;
  projector.kill('SIGTERM');
  await exited;
  const file = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(profileDir, name)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  const seconds = (toUs - fromUs) / 1e6;
  process.stdout.write(`${events - first} events in ${seconds.toFixed(1)} s (${Math.round((events - first) / seconds)} events/s), projector CPU ${cpu.toFixed(1)} s (${Math.round((cpu * 1e6) / (events - first))} µs/event), load ${load}\nprofile ${file}\n\n`);
  process.stdout.write(formatSummary(summarizeProfile(file, 40, { fromUs, toUs }, PROJECTION_STAGES)));
} finally {
  await env.dispose();
}
process.exit(0);
