import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka, createLogger, readConfig } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { up } from '@trapline/stack';
import { rebuild } from '../packages/cli/src/rebuild.ts';
import { isolated } from '../test/harness.ts';
import { formatSummary, summarizeProfile, type Stage } from './cpu-profile.ts';
import { appendBenchLog } from './projector.ts';

// `npx tsx bench/profile-rebuild.ts [events] [runs]`: the projector bench's log (default 50,000
// events) appended once, then `trapline rebuild` run on it `runs` times (default 2: the first
// warms the code up) with the V8 profiler on for the last run only, and its busiest stages and
// functions by self time printed. The profile is written to the temp directory.

/** A stack whose innermost frame outside V8 and Node (they count for their caller) is in `places`. */
const innermost = (places: string) => new RegExp(`^(?:[^\\n]*@(?:node:[^\\n]*)?\\n)*[^\\n]*@[^\\n]*(?:${places})`);

/** Where a rebuild's time goes, by the innermost frame with a source, first match wins. */
export const REBUILD_STAGES: readonly Stage[] = [
  ['garbage collector', /^\(garbage collector\)/],
  ['Kafka read (librdkafka binding, range-read.ts, headers)', innermost('kafka-javascript|range-read\\.ts|consume\\.ts')],
  ['Avro decode (avsc, codec.ts)', innermost('avsc|schemas/src/codec\\.ts')],
  ['JSON.parse of the payload (events.ts)', innermost('adapters/events\\.ts')],
  ['grouping (grouping.ts)', innermost('domain/grouping\\.ts')],
  ['issue facts, tags, culprit (issue.ts, culprit.ts, frames)', innermost('domain/issue\\.ts|culprit\\.ts|schemas/src/frames')],
  ['COPY rows (copy-rows.ts)', innermost('copy-rows\\.ts')],
  ['COPY and queries (pg, pg-copy-streams, streams)', innermost('pg-copy-streams|/pg/|pg-protocol|pg-pool')],
  ['bulk loader (bulk.ts, placement.ts, rebuild-bulk.ts)', innermost('adapters/bulk\\.ts|placement\\.ts|rebuild-bulk\\.ts')],
  ['profiler', /node:inspector/],
];

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
      process.stdout.write(`profile ${file}\n\n${formatSummary(summarizeProfile(file, 40, undefined, REBUILD_STAGES))}`);
    }
  }
} finally {
  await env.dispose();
}
process.exit(0);
