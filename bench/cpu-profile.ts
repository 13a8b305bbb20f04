import { readFileSync } from 'node:fs';

// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function and per place
// (a package, node's internals, a Trapline file), busiest first: where the process spent its CPU.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (the one process.hrtime reads). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A span of the monotonic clock in microseconds (process.hrtime.bigint() / 1000n). */
export interface Window {
  fromUs: number;
  toUs: number;
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  /** Sampled time the process was busy (not idle), in ms. */
  busyMs: number;
  functions: SelfTime[];
  places: SelfTime[];
  /** Time by stage (see `INGEST_STAGES`), each sample counted once: under the first stage its stack matches. */
  stages: SelfTime[];
}

/** A name and what a sample's stack (`function@url` per frame) must match to count there. */
export type Stage = readonly [name: string, stack: RegExp];

/**
 * Where ingest's time goes, by what a sample's stack holds, first match wins: the Kafka producer
 * (encoding included) before anything that calls it, the stages of the pipeline, then the layers.
 */
export const INGEST_STAGES: readonly Stage[] = [
  ['Kafka producer (librdkafka, the Appender, Avro encoding)', /kafka-javascript|runtime\/src\/kafka\.ts|avsc|schemas\/src\/codec\.ts/],
  ['Redis (dedupe, rate limits)', /ioredis|adapters\/dedupe\.ts|adapters\/rate-limiter\.ts|adapters\/per-turn\.ts/],
  ['JSON parse + normalize (runIngest)', /runIngest@/],
  ['payload serialization (serializeEvent)', /serializeEvent@/],
  ['request metrics (prom-client)', /prom-client|runtime\/src\/metrics\.ts/],
  ['logging (pino)', /pino|logger-factory/],
  ['DSN key cache (Postgres)', /\/pg\/|pg-protocol|pg-pool|key-cache\.ts/],
  ['CORS', /origins\.ts/],
  ['answer write (http outgoing)', /writePayload@|_http_outgoing/],
  ['fastify (routing, hooks, body, reply)', /fastify|find-my-way|fast-querystring/],
  ['Node http (parser, server, sockets)', /_http_|node:net|stream_base_commons|internal\/streams/],
  ['garbage collector', /^\(garbage collector\)/],
];

/** A stack whose innermost frame outside V8 and Node (they count for their caller) is in `places`. */
const innermost = (places: string) => new RegExp(`^(?:[^\\n]*@(?:node:[^\\n]*)?\\n)*[^\\n]*@[^\\n]*(?:${places})`);

/** Where the projector's and the rebuild's time goes, by the innermost frame with a source, first match wins. */
export const PROJECTION_STAGES: readonly Stage[] = [
  ['garbage collector', /^\(garbage collector\)/],
  ['Kafka read (librdkafka binding, range-read.ts, headers)', innermost('kafka-javascript|range-read\\.ts|consume\\.ts')],
  ['Avro decode (avsc, codec.ts)', innermost('avsc|schemas/src/codec\\.ts')],
  ['events.ts (JSON.parse of the payload; the live path\'s statements)', innermost('adapters/events\\.ts')],
  ['read-models.ts, consumer.ts (the live path)', innermost('adapters/read-models\\.ts|adapters/consumer\\.ts')],
  ['grouping (grouping.ts)', innermost('domain/grouping\\.ts')],
  ['issue facts, tags, culprit (issue.ts, culprit.ts, frames)', innermost('domain/issue\\.ts|culprit\\.ts|schemas/src/frames')],
  ['COPY rows (copy-rows.ts)', innermost('copy-rows\\.ts')],
  ['COPY and queries (pg, pg-copy-streams, streams)', innermost('pg-copy-streams|/pg/|pg-protocol|pg-pool')],
  ['bulk loader (bulk.ts, placement.ts, bulk-phase.ts)', innermost('adapters/bulk\\.ts|placement\\.ts|bulk-phase\\.ts')],
  ['profiler', /node:inspector/],
];

/** Where a frame's code lives: `fastify`, `node:internal`, `services/ingest/src/app.ts`, `(gc)`. */
function place(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const project = /\/(services|packages|schemas|bench|test)\/(.*)$/.exec(url);
  return project ? `${project[1]}/${project[2]}` : url;
}

/** Self time per function and place; with `window`, only the samples taken within it (the measured load, not start-up). */
export function summarizeProfile(path: string, top = 25, window?: Window, stageRules: readonly Stage[] = INGEST_STAGES): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const stackOf = (id: number) => {
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) frames.push(`${byId.get(at)!.callFrame.functionName}@${byId.get(at)!.callFrame.url}`);
    return frames.join('\n');
  };
  const selfMs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    selfMs.set(id, (selfMs.get(id) ?? 0) + delta / 1000);
  });
  const functions = new Map<string, number>();
  const places = new Map<string, number>();
  const stages = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    busyMs += ms;
    const where = place(url, functionName);
    const name = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    places.set(where, (places.get(where) ?? 0) + ms);
    const stack = stackOf(id);
    const stage = stageRules.find(([, pattern]) => pattern.test(stack))?.[0] ?? 'other';
    stages.set(stage, (stages.get(stage) ?? 0) + ms);
  }
  const ranked = (totals: Map<string, number>) =>
    [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: +(ms / busyMs).toFixed(3) }));
  return { busyMs: Math.round(busyMs), functions: ranked(functions), places: ranked(places), stages: ranked(stages) };
}

export function formatSummary(summary: ProfileSummary): string {
  const rows = (title: string, entries: SelfTime[]) => [`| ${title} | self ms | share |`, '| --- | --- | --- |', ...entries.map((entry) => `| \`${entry.name}\` | ${entry.ms} | ${(entry.share * 100).toFixed(1)} % |`)].join('\n');
  return `busy ${summary.busyMs} ms sampled\n\n${rows('stage', summary.stages)}\n\n${rows('place', summary.places)}\n\n${rows('function', summary.functions)}\n`;
}

// `npx tsx bench/cpu-profile.ts <file.cpuprofile> [top]`
if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(formatSummary(summarizeProfile(process.argv[2]!, Number(process.argv[3] ?? 25))));
}
