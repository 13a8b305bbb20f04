import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

// What every benchmark shares: bounded waits, and the result written as JSON under bench/results
// with a markdown table on stdout.

/** Polls `check` until it holds; gives up after `limitMs`, so a scenario always stops by itself. */
export async function until(what: string, check: () => Promise<boolean>, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Writes `bench/results/<name>-<date>.json` (date and core count added) and prints the table. */
export function report(name: string, figures: Record<string, unknown>, header: string[], rows: string[][]): void {
  const date = new Date().toISOString();
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}-${date.slice(0, 10)}.json`), `${JSON.stringify({ date, machine: { cores: cpus().length }, ...figures }, null, 2)}\n`);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  process.stdout.write(`${[line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')}\n`);
}
