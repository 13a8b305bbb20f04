import { Agent, request } from 'undici';
import { createKafka, createLogger } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import { readConfig } from '@trapline/runtime';
import { up } from '@trapline/stack';
import { startTrapline } from '../test/harness.ts';
import { realisticEvent } from './events.ts';
import { report } from './report.ts';

// `npm run bench:ingest`: sustained ingest rate and ack latency through the real stack, next to
// the raw Kafka producer rate for the same records (the ceiling), all in one run on loopback.
// Bounded: fixed counts and durations.

const EVENT_BYTES = 4096;
const RAW_RECORDS = 20000;
const SUSTAINED_SECONDS = 15;
const CONCURRENCY = 64;
const PACED_RATE = 1000;
const PACED_SECONDS = 10;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function main() {
  await up(readConfig());
  const trapline = await startTrapline({ LOG_LEVEL: 'warn' });
  const url = new URL(trapline.defaults.dsn);
  const storeUrl = `http://127.0.0.1:${trapline.config.INGEST_PORT}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`;
  const bodies = Array.from({ length: 200 }, (_, n) => JSON.stringify(realisticEvent(n, EVENT_BYTES)));
  try {
    // Ceiling: the same records straight to Kafka with the same producer settings, in batches as
    // large as the appender's (about 200 records of 4 KB per request).
    const codec = new Codec();
    const producer = createKafka(trapline.config.kafkaBrokers, 'bench', createLogger('bench', 'error')).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const rawStart = process.hrtime.bigint();
    for (let first = 0; first < RAW_RECORDS; first += 200) {
      const messages = Array.from({ length: Math.min(200, RAW_RECORDS - first) }, (_, i) => {
        const n = first + i;
        const encoded = codec.encode('EventReceived', { projectId: 9, eventId: `raw${n}`, receivedAt: Date.now(), keyId: 'bench', payload: bodies[n % bodies.length]! });
        return { key: `9/raw${n}`, value: encoded.value, headers: encoded.headers };
      });
      await producer.send({ topic: trapline.topics.events, acks: -1, messages });
    }
    const rawSeconds = Number(process.hrtime.bigint() - rawStart) / 1e9;
    await producer.disconnect();
    const rawRate = RAW_RECORDS / rawSeconds;

    // Sustained: CONCURRENCY clients posting as fast as ingest answers, for SUSTAINED_SECONDS.
    const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 });
    const post = async (body: string) => {
      const started = process.hrtime.bigint();
      const response = await request(storeUrl, { method: 'POST', body, dispatcher: agent, headers: { 'content-type': 'application/json' } });
      await response.body.dump();
      return { status: response.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    };
    let sent = 0;
    let failed = 0;
    const sustainedLatencies: number[] = [];
    const deadline = Date.now() + SUSTAINED_SECONDS * 1000;
    const sustainedStart = process.hrtime.bigint();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        const n = sent++;
        const result = await post(bodies[n % bodies.length]!.replace(/"event_id":"[0-9a-f]{32}"/, `"event_id":"${(n + 1).toString(16).padStart(32, 'a')}"`));
        if (result.status !== 200) failed += 1;
        sustainedLatencies.push(result.ms);
      }
    }));
    const sustainedSeconds = Number(process.hrtime.bigint() - sustainedStart) / 1e9;
    const sustainedRate = (sent - failed) / sustainedSeconds;
    sustainedLatencies.sort((a, b) => a - b);

    // Paced: PACED_RATE events/s for PACED_SECONDS, latency of each.
    const paced: number[] = [];
    const pacedStart = Date.now();
    const inFlight: Promise<void>[] = [];
    for (let n = 0; n < PACED_RATE * PACED_SECONDS; n += 1) {
      const due = pacedStart + (n * 1000) / PACED_RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(post(bodies[n % bodies.length]!.replace(/"event_id":"[0-9a-f]{32}"/, `"event_id":"${(n + 1).toString(16).padStart(32, 'b')}"`)).then((result) => void paced.push(result.ms)));
    }
    await Promise.all(inFlight);
    paced.sort((a, b) => a - b);
    await agent.close();

    const metrics = await (await fetch(`http://127.0.0.1:${trapline.config.INGEST_PORT}/metrics`)).text();
    const rss = Number(/^process_resident_memory_bytes\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0) / 1024 / 1024;

    const rawKafkaProducer = { records: RAW_RECORDS, perSecond: Math.round(rawRate) };
    const ingestSustained = { seconds: SUSTAINED_SECONDS, concurrency: CONCURRENCY, accepted: sent - failed, failed, perSecond: Math.round(sustainedRate), ratioToRawProducer: +(sustainedRate / rawRate).toFixed(2), p50ms: +percentile(sustainedLatencies, 50).toFixed(1), p99ms: +percentile(sustainedLatencies, 99).toFixed(1) };
    const ingestPaced = { perSecond: PACED_RATE, seconds: PACED_SECONDS, p50ms: +percentile(paced, 50).toFixed(1), p99ms: +percentile(paced, 99).toFixed(1) };
    const ingestRssMiB = Math.round(rss);
    report('ingest', { eventBytes: EVENT_BYTES, rawKafkaProducer, ingestSustained, ingestPaced, ingestRssMiB }, ['scenario', 'events/s', 'p50 ms', 'p99 ms', 'note'], [
      ['raw Kafka producer (ceiling)', String(rawKafkaProducer.perSecond), '', '', 'batches of 200, acks=all, idempotent'],
      ['ingest, sustained', String(ingestSustained.perSecond), String(ingestSustained.p50ms), String(ingestSustained.p99ms), `${CONCURRENCY} HTTP clients, ratio ${ingestSustained.ratioToRawProducer} of the ceiling, ${failed} non-200`],
      [`ingest, paced ${PACED_RATE}/s`, String(PACED_RATE), String(ingestPaced.p50ms), String(ingestPaced.p99ms), `ingest RSS ${ingestRssMiB} MiB`],
    ]);
  } finally {
    await trapline.dispose();
  }
}

await main();
process.exit(0);
