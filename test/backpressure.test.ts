import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '@trapline/runtime';
import { stackPaths, startKafka, stopKafka, type KafkaNode } from '@trapline/stack';
import { eventually, freePort, startTrapline, type RunningTrapline } from './harness.ts';

// Kafka goes away and comes back, under a Trapline of its own (a private broker, so the shared
// one stays up for the other tests). Ingest must answer 503 with Retry-After within its append
// timeout instead of hanging or claiming success, say so in /health, and recover by itself; every
// event it acknowledged reaches the API.

const say = () => undefined;
let node: KafkaNode;
let trapline: RunningTrapline;

/** Runs one step of the set-up or clean-up and prints how long it took, so a hook that times out shows which step held it. */
async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const began = Date.now();
  try {
    return await step();
  } finally {
    console.log(`backpressure: ${what} took ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trapline-broker-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  node = { host: '127.0.0.1', port, controllerPort: await freePort(), dir };
  await timed('starting the broker', () => startKafka(node, stackPaths(readConfig()).cache, say));
  trapline = await timed('starting the services', () => startTrapline({ KAFKA_BROKERS: `127.0.0.1:${port}`, APPEND_TIMEOUT_MS: '2000' }));
}, 240000);

afterAll(async () => {
  await timed('stopping the services and their environment', async () => trapline?.dispose());
  await timed('stopping the broker', () => stopKafka(node.dir));
  rmSync(node.dir, { recursive: true, force: true });
});

const store = (message: string) => {
  const url = new URL(trapline.defaults.dsn);
  return fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message }) });
};
const ingestHealth = async () => (await fetch(`http://127.0.0.1:${trapline.config.INGEST_PORT}/health`)).status;
const eventVisible = async (id: string) =>
  (await fetch(`${trapline.publicUrl}/api/0/projects/${trapline.defaults.organizationSlug}/${trapline.defaults.projectSlug}/events/${id}/`, { headers: { authorization: `Bearer ${trapline.defaults.token}` } })).status === 200 ? true : undefined;

describe('ingest when Kafka is unavailable', () => {
  it('answers 503 with Retry-After, reports it in /health, recovers, and loses no acknowledged event', async () => {
    const before = await store('before the outage');
    expect(before.status).toBe(200);
    const { id: beforeId } = (await before.json()) as { id: string };

    await stopKafka(node.dir);
    const started = Date.now();
    const during = await store('during the outage');
    expect(during.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(10000);
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await during.json()).toHaveProperty('detail');
    expect(await ingestHealth()).toBe(503);

    await startKafka(node, stackPaths(readConfig()).cache, say);
    const after = await eventually(async () => {
      const response = await store('after the outage');
      return response.status === 200 ? response : undefined;
    }, 'ingest accepting again', 90000);
    const { id: afterId } = (await after.json()) as { id: string };
    expect(await ingestHealth()).toBe(200);
    // The projector's consumer comes back by itself, but not at once: librdkafka reconnects with
    // backoff when the broker returns, and a member whose session lapsed meanwhile joins again,
    // after the broker's own start and the 30 s session timeout. Its /health says whether the
    // consumer is in its group or rejoining, so a consumer that stays down fails here with its
    // state, not as a missing event.
    let projectorState = '';
    await eventually(async () => {
      const response = await fetch(`http://127.0.0.1:${trapline.config.PROJECTOR_PORT}/health`);
      projectorState = JSON.stringify(((await response.json()) as { checks?: unknown }).checks);
      return response.status === 200 ? true : undefined;
    }, 'the projector back in its consumer group', 150000).catch((error: Error) => {
      throw new Error(`${error.message}; projector health: ${projectorState}`);
    });
    await eventually(() => eventVisible(beforeId), 'the event acknowledged before the outage', 90000);
    await eventually(() => eventVisible(afterId), 'the event acknowledged after the outage', 90000);
  }, 360000);
});
