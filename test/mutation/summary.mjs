// Scores of the mutation reports in test/mutation/reports/: one line per report (or per file with
// --files), and with --survivors every surviving or uncovered mutant, for the list of equivalents
// in docs/mutation-checks.md. Each line gives the score over all valid mutants and, after `static`,
// how many of them are static (module-level: run once per load) and the score without them.
// Usage: node test/mutation/summary.mjs [--files] [--survivors] [report ...]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('./reports/', import.meta.url).pathname;
const args = process.argv.slice(2);
const flags = new Set(args.filter((arg) => arg.startsWith('--')));
const names = args.filter((arg) => !arg.startsWith('--'));
const reports = names.length > 0 ? names : readdirSync(dir).filter((file) => file.endsWith('.json') && !file.endsWith('-incremental.json')).map((file) => file.slice(0, -5));

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function tally(mutants) {
  const count = (statuses) => mutants.filter((mutant) => statuses.has(mutant.status)).length;
  const detected = count(DETECTED);
  const undetected = count(UNDETECTED);
  const valid = detected + undetected;
  return {
    mutants: mutants.length,
    valid,
    killed: detected,
    survived: count(new Set(['Survived'])),
    noCoverage: count(new Set(['NoCoverage'])),
    ignored: count(new Set(['Ignored'])),
    errors: count(new Set(['CompileError', 'RuntimeError'])),
    score: valid === 0 ? 100 : (100 * detected) / valid,
    static: mutants.filter((mutant) => mutant.static).length,
    dynamicScore: score(mutants.filter((mutant) => !mutant.static)),
  };
}

function score(mutants) {
  const detected = mutants.filter((mutant) => DETECTED.has(mutant.status)).length;
  const valid = detected + mutants.filter((mutant) => UNDETECTED.has(mutant.status)).length;
  return valid === 0 ? 100 : (100 * detected) / valid;
}

const line = (label, t) => `${label.padEnd(48)} ${String(t.mutants).padStart(5)} mutants  ${t.score.toFixed(1).padStart(5)} %  survived ${t.survived}  no coverage ${t.noCoverage}  ignored ${t.ignored}  errors ${t.errors}  static ${t.static} (without: ${t.dynamicScore.toFixed(1)} %)`;

const all = [];
for (const name of reports) {
  const report = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  const files = Object.entries(report.files);
  const mutants = files.flatMap(([, file]) => file.mutants);
  all.push(...mutants);
  console.log(line(name, tally(mutants)));
  if (flags.has('--files')) for (const [path, file] of files) console.log(line(`  ${path}`, tally(file.mutants)));
  if (flags.has('--survivors')) {
    for (const [path, file] of files) {
      const lines = file.source.split('\n');
      for (const mutant of file.mutants.filter((m) => UNDETECTED.has(m.status))) {
        const { line: at, column } = mutant.location.start;
        console.log(`    ${path}:${at}:${column} ${mutant.status}${mutant.static ? ' static' : ''} ${mutant.mutatorName} → ${JSON.stringify((mutant.replacement ?? '').slice(0, 80))}  | ${lines[at - 1].trim().slice(0, 100)}`);
      }
    }
  }
}
if (reports.length > 1) console.log(line('all', tally(all)));
