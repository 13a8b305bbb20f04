import { readdirSync, readFileSync } from 'node:fs';
import { createKafka, createLogger, readConfig } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { up } from '@trapline/stack';
import { rebuild } from '@trapline/projector';
import { isolated } from '../test/harness.ts';
import { appendBenchLog } from './projector.ts';
import { machineTicks } from './load.ts';

const events = Number(process.argv[2] ?? 300000);
await up(readConfig());
const env = await isolated({ LOG_LEVEL: 'warn' });
const logger = createLogger('bench', 'warn');
const kafka = createKafka(env.config.kafkaBrokers, 'bench', logger);
const last = new Map<string, { name: string; running: number; waiting: number }>();
const first = new Map<string, { running: number; waiting: number }>();
const sample = () => {
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${process.pid}/task/${task}/comm`, 'utf8').trim().replace(/\d+$/, '');
      const f = readFileSync(`/proc/${process.pid}/task/${task}/schedstat`, 'utf8').trim().split(' ');
      const t = { name, running: Number(f[0]) / 1e9, waiting: Number(f[1]) / 1e9 };
      if (!first.has(task)) first.set(task, t);
      last.set(task, t);
    } catch { /* gone */ }
  }
};
try {
  await appendBenchLog(kafka, new Codec(), env.topics.events, events, Date.now());
  for (let run = 0; run < 2; run += 1) {
    first.clear(); last.clear();
    sample();
    const m0 = machineTicks();
    const timer = setInterval(sample, 50);
    const started = Date.now();
    let loadingEnd = 0;
    const result = await rebuild({ config: env.config, kafka, logger, progress: (line) => { if (line.includes('indexing') && !loadingEnd) loadingEnd = Date.now(); } });
    clearInterval(timer); sample();
    const m1 = machineTicks();
    const secs = (Date.now() - started) / 1000;
    const by = new Map<string, { running: number; waiting: number; n: number }>();
    for (const [task, t] of last) {
      const f = first.get(task)!;
      const s = by.get(t.name) ?? { running: 0, waiting: 0, n: 0 };
      s.running += t.running - f.running; s.waiting += t.waiting - f.waiting; s.n += 1;
      by.set(t.name, s);
    }
    process.stdout.write(`run ${run}: ${result.records} in ${secs.toFixed(1)} s (loading ${((loadingEnd - started) / 1000).toFixed(1)} s), machine idle ${((m1.idle - m0.idle) / (m1.total - m0.total) * 100).toFixed(0)} %\n`);
    for (const [name, s] of [...by].sort((a, b) => b[1].running - a[1].running)) if (s.running > 0.05) process.stdout.write(`  ${name.padEnd(18)} x${s.n} running ${(s.running / secs * 100).toFixed(0)} % waiting ${(s.waiting / secs * 100).toFixed(0)} %\n`);
  }
} finally {
  await env.dispose();
}
process.exit(0);
