import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka, createLogger, readConfig } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { up } from '@trapline/stack';
import { rebuild } from '@trapline/projector';
import { isolated } from '../test/harness.ts';
import { formatSummary, PROJECTION_STAGES, summarizeProfile } from './cpu-profile.ts';
import { appendBenchLog } from './projector.ts';

// `npx tsx bench/profile-rebuild.ts [events] [runs]`: the projector bench's log (default 50,000
// events) appended once, then `trapline rebuild` run on it `runs` times (default 2: the first
// warms the code up) with the V8 profiler on for the last run only, and its busiest stages and
// functions by self time printed. The profile is written to the temp directory.


const events = Number(process.argv[2] ?? 50000);
const runs = Number(process.argv[3] ?? 2);
await up(readConfig());
const env = await isolated({ LOG_LEVEL: 'warn' });
const logger = createLogger('bench', 'warn');
const kafka = createKafka(env.config.kafkaBrokers, 'bench', logger);
try {
  const appendFrom = Date.now();
  await appendBenchLog(kafka, new Codec(), env.topics.events, events, Date.now());
  process.stderr.write(`appended ${events} events in ${((Date.now() - appendFrom) / 1000).toFixed(1)} s\n`);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  for (let run = 1; run <= runs; run += 1) {
    const last = run === runs;
    if (last) await session.post('Profiler.start');
    const cpu = process.cpuUsage();
    const load = loadavg()[0]!.toFixed(1);
    const started = Date.now();
    const result = await rebuild({ config: env.config, kafka, logger, progress: (line) => process.stderr.write(`  +${((Date.now() - started) / 1000).toFixed(1)} s ${line}\n`) });
    const spent = process.cpuUsage(cpu);
    process.stderr.write(`run ${run}: ${result.records} records in ${result.seconds.toFixed(1)} s, CPU ${((spent.user + spent.system) / 1e6).toFixed(1)} s, load ${load}; bulk ${JSON.stringify(result.bulk)}\n`);
    if (last) {
      const { profile } = await session.post('Profiler.stop');
      const file = join(tmpdir(), `rebuild-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stdout.write(`profile ${file}\n\n${formatSummary(summarizeProfile(file, 40, undefined, PROJECTION_STAGES))}`);
    }
  }
} finally {
  await env.dispose();
}
process.exit(0);
