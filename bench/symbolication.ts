import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { NormalizedEvent, StackFrame } from '@trapline/schemas';
import { parseSourceMap, symbolicateEvent, type SourceLookup } from '@trapline/symbolication';
import { groupHashes } from '../services/projector/src/domain/grouping.ts';
import type { Scenario } from './report.ts';

// Symbolication's CPU cost: a 20-frame stack trace from a real esbuild-minified bundle, grouped as
// the projector groups it, with its frames resolved through the source map first and without. The
// map is parsed once (SourceMaps keeps parsed maps by blob), so this is the per-event cost of
// resolving frames and context lines; the lookups of the map in Postgres (one or two indexed
// queries per file and event) are not in it.

const FRAMES = 20;
const EVENTS = 20_000;

function minifiedTrace(): { event: NormalizedEvent; map: string; minified: string } {
  const dir = mkdtempSync(join(tmpdir(), 'trapline-bench-symbolication-'));
  mkdirSync(join(dir, 'src'));
  const functions = Array.from({ length: FRAMES }, (_, index) =>
    index === FRAMES - 1
      ? `export function step${index}(order) {\n  return order.items.length;\n}\n`
      : `export function step${index}(order) {\n  const next = step${index + 1}(order);\n  return next + ${index};\n}\n`,
  );
  writeFileSync(join(dir, 'src/steps.js'), functions.join('\n'));
  buildSync({ entryPoints: [join(dir, 'src/steps.js')], bundle: true, minify: true, sourcemap: true, platform: 'node', format: 'cjs', outfile: join(dir, 'dist/steps.min.js'), logLevel: 'silent' });
  const file = join(dir, 'dist/steps.min.js');
  // The minified positions as a browser or Node without source map support reports them (tsx turns
  // it on), and every frame (V8 keeps 10 by default).
  process.setSourceMapsEnabled(false);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const steps = createRequire(import.meta.url)(file) as { step0(order: unknown): number };
  let stack = '';
  try {
    steps.step0({});
  } catch (error) {
    stack = (error as Error).stack ?? '';
  }
  Error.stackTraceLimit = limit;
  const frames: StackFrame[] = [...stack.matchAll(/at (?:(\S+) )?\(?(.+steps\.min\.js):(\d+):(\d+)\)?/g)]
    .map((match) => ({ function: match[1], abs_path: match[2], filename: match[2], lineno: Number(match[3]), colno: Number(match[4]), in_app: true }))
    .reverse();
  const event: NormalizedEvent = {
    event_id: 'b'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [], release: 'bench@1',
    exception: { values: [{ type: 'TypeError', value: "Cannot read properties of undefined (reading 'length')", stacktrace: { frames } }] },
  };
  return { event, map: readFileSync(`${file}.map`, 'utf8'), minified: readFileSync(file, 'utf8') };
}

/** Events per CPU-second (user + system) of `work`, run EVENTS times. */
async function perCpuSecond(work: () => Promise<unknown> | unknown): Promise<number> {
  for (let index = 0; index < 500; index += 1) await work(); // warm up
  const start = process.cpuUsage();
  for (let index = 0; index < EVENTS; index += 1) await work();
  const used = process.cpuUsage(start);
  return Math.round(EVENTS / ((used.user + used.system) / 1e6));
}

export async function symbolicationScenario(): Promise<Scenario> {
  const { event, map, minified } = minifiedTrace();
  const parsed = parseSourceMap(map);
  if ('error' in parsed) throw new Error(`the bench map does not parse: ${parsed.error}`);
  const minifiedLines = minified.split('\n');
  const lookup: SourceLookup = async () => ({ ok: true, map: parsed, minifiedLines, mapUrl: '~/steps.min.js.map' });
  const frames = event.exception!.values[0]!.stacktrace!.frames.length;
  const check = await symbolicateEvent(event, lookup);
  const resolved = check.event.exception!.values[0]!.stacktrace!.frames.filter((frame) => frame.data?.symbolicated).length;
  const plain = await perCpuSecond(() => groupHashes(event));
  const symbolicated = await perCpuSecond(async () => groupHashes((await symbolicateEvent(event, lookup)).event));
  const ratio = Math.round((symbolicated / plain) * 100) / 100;
  return {
    name: 'symbolication',
    figures: { frames, resolved, events: EVENTS, plainPerCpuSecond: plain, symbolicatedPerCpuSecond: symbolicated, ratio },
    rows: [
      [`grouping a ${frames}-frame minified trace, symbolicated`, `${symbolicated} events per CPU-second`, `${plain} unsymbolicated`, String(ratio), `${resolved} of ${frames} frames resolved; map parsed once, its Postgres lookups not included`],
    ],
  };
}
