import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { up } from '@trapline/stack';
import { Appender, createKafka, createLogger, readConfig } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { percentile } from './report.ts';

// `npx tsx bench/ack-latency.ts`: Kafka's ack time alone, through the Appender (ingest's producer)
// with the stack's broker, for producer settings given as JSON (EXPERIMENT_PRODUCER_CONFIG),
// interleaved: appends of one 4 KB record, one at a time (the floor) and 64 at once in a closed
// loop (the bench's clients), into a scratch topic of one partition (the bench's one project).

const variants: [string, Record<string, unknown>][] = JSON.parse(process.argv[2] ?? '[["default",{}],["linger.ms=0",{"linger.ms":0}]]');
const ROUNDS = Number(process.argv[3] ?? 2);
const config = readConfig();
await up(config);
const kafka = createKafka(config.kafkaBrokers, 'bench-ack', createLogger('bench', 'error'));
const admin = kafka.admin();
await admin.connect();
const topic = `bench-ack-${randomBytes(3).toString('hex')}`;
await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
const payload = randomBytes(2048).toString('hex');
const record = (n: number) => ({ key: `1/${n}`, name: 'EventReceived' as const, value: { projectId: 1, eventId: String(n), receivedAt: Date.now(), keyId: 'bench', payload } });
const timed = async (appender: Appender, n: number) => {
  const started = process.hrtime.bigint();
  await appender.append(topic, [record(n)]);
  return Number(process.hrtime.bigint() - started) / 1e6;
};
const summary = (ms: number[]) => {
  ms.sort((a, b) => a - b);
  return `p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms`;
};
let n = 0;
try {
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, settings] of round % 2 === 0 ? variants : [...variants].reverse()) {
      process.env.EXPERIMENT_PRODUCER_CONFIG = JSON.stringify(settings);
      const appender = await Appender.connect(kafka, new Codec());
      for (let warm = 0; warm < 50; warm += 1) await timed(appender, n++);
      const serial: number[] = [];
      for (let i = 0; i < 500; i += 1) serial.push(await timed(appender, n++));
      const concurrent: number[] = [];
      const deadline = Date.now() + 5000;
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (Date.now() < deadline) concurrent.push(await timed(appender, n++));
      }));
      await appender.close();
      process.stdout.write(`| ${round + 1} | ${name} | ${summary(serial)} | ${Math.round(concurrent.length / 5)}/s, ${summary(concurrent)} | ${loadavg()[0]!.toFixed(1)} |\n`);
    }
  }
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}
process.exit(0);
