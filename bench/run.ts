import { readConfig } from '@trapline/runtime';
import { up } from '@trapline/stack';
import { deletionScenario } from './deletion.ts';
import { ingestScenario } from './ingest.ts';
import { projectorScenario } from './projector.ts';
import { readsScenario } from './reads.ts';
import { retentionScenario } from './retention.ts';
import { scaleScenario } from './scale.ts';
import { writeReport, type Scenario } from './report.ts';

// `npm run bench [ingest|projector|deletion|retention|scale|reads]`: the scenarios on the real stack, one after the other
// (each on its own isolated Trapline), into one report under bench/results.

const SCENARIOS: Record<string, () => Promise<Scenario>> = { ingest: ingestScenario, projector: projectorScenario, deletion: deletionScenario, retention: retentionScenario, scale: scaleScenario, reads: readsScenario };

const which = process.argv[2];
if (which !== undefined && !(which in SCENARIOS)) {
  process.stderr.write(`unknown scenario ${which} (known: ${Object.keys(SCENARIOS).join(', ')})\n`);
  process.exit(2);
}
await up(readConfig());
const results: Scenario[] = [];
for (const [name, run] of Object.entries(SCENARIOS)) {
  if (which !== undefined && name !== which) continue;
  process.stderr.write(`bench: ${name}\n`);
  results.push(await run());
}
process.stdout.write(`${writeReport(results, which)}\n`);
process.exit(0);
