import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

// What every benchmark shares: bounded waits, percentiles, and one report — the figures as JSON and
// a markdown table — under bench/results.

/** One scenario's figures (for the JSON) and its rows: what, result, ceiling, ratio, note. */
export interface Scenario {
  name: string;
  figures: Record<string, unknown>;
  rows: string[][];
  /** Markdown after the table (what bounds a figure, e.g. query plans). */
  notes?: string;
}

/** Polls `check` until it holds; gives up after `limitMs`, so a scenario always stops by itself. */
export async function until(what: string, check: () => Promise<boolean>, limitMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * Writes `bench/results/<date>[-<which>].json` and `.md`, and prints the table. A later run of the
 * same day and scenario gets `-2`, `-3` … rather than overwriting a report that may be cited.
 */
export function writeReport(scenarios: Scenario[], which: string | undefined): string {
  const date = new Date().toISOString();
  const named = join(import.meta.dirname, 'results', `${date.slice(0, 10)}${which ? `-${which}` : ''}`);
  let base = named;
  for (let n = 2; existsSync(`${base}.json`) || existsSync(`${base}.md`); n += 1) base = `${named}-${n}`;
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(`${base}.json`, `${JSON.stringify({ date, machine: { cores: cpus().length }, scenarios: Object.fromEntries(scenarios.map((scenario) => [scenario.name, scenario.figures])) }, null, 2)}\n`);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const header = ['scenario', 'result', 'ceiling', 'ratio', 'note'];
  const table = [line(header), line(header.map(() => '---')), ...scenarios.flatMap((scenario) => scenario.rows.map(line))].join('\n');
  const notes = scenarios.flatMap((scenario) => (scenario.notes ? [scenario.notes] : [])).join('\n\n');
  writeFileSync(`${base}.md`, `# Trapline benchmark, ${date}\n\n${cpus().length} cores, everything on loopback.\n\n${table}\n${notes ? `\n${notes}\n` : ''}`);
  return table;
}
