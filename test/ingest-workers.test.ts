import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, eventually, startTrapline, type RunningTrapline, workersOf as workersOfService } from './harness.ts';
import { store } from './load.ts';

// INGEST_WORKERS=2: ingest as a primary and two workers on one port (packages/runtime/src/workers.ts).
// Events go in through the DSN's port, every scrape of /metrics counts every worker's events, a
// worker that dies is replaced, SIGTERM stops them all, and a primary killed outright leaves no
// worker behind; a worker that cannot start stops the service.

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline({ INGEST_WORKERS: '2' });
}, 120_000);

afterAll(async () => {
  await trapline?.dispose();
});

const ingest = () => trapline.services.services.get('ingest')!.process;
const workersOf = (pid: number) => workersOfService(pid, 'ingest');
/** The accepted-events counter in one scrape, on a connection of its own (so scrapes land on different workers). */
const acceptedInScrape = async () => {
  const text = await (await fetch(`http://127.0.0.1:${trapline.config.INGEST_PORT}/metrics`, { headers: { connection: 'close' } })).text();
  const line = text.split('\n').find((entry) => entry.startsWith('trapline_ingest_outcomes_total{') && entry.includes('outcome="accepted"'));
  return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? 0);
};
const sendAll = async (tag: string, count: number) => {
  const ids = await Promise.all(Array.from({ length: count }, (_, i) => store(trapline, `workers ${tag} ${i}`)));
  expect(ids.filter((id) => id === undefined)).toHaveLength(0);
};
const storedWith = async (tag: string) => Number((await trapline.pool.query(`SELECT count(*) AS n FROM events WHERE payload->>'message' LIKE $1`, [`workers ${tag} %`])).rows[0].n);

describe('ingest with INGEST_WORKERS=2', () => {
  it('runs two workers behind one port; events through the DSN are stored, and each scrape of /metrics counts all of them', async () => {
    expect(workersOf(ingest().pid!)).toHaveLength(2);
    const tag = randomBytes(3).toString('hex');
    await sendAll(tag, 40);
    await eventually(async () => ((await storedWith(tag)) === 40 ? true : undefined), 'the 40 events in the read model');
    // Connections go to the workers in turn: of eight scrapes, some are answered by each worker,
    // and each must say 40 (a worker's own registry would say its share).
    const scrapes = [];
    for (let i = 0; i < 8; i += 1) scrapes.push(await acceptedInScrape());
    expect(scrapes).toEqual(Array(8).fill(40));
  });

  it('replaces a worker killed with SIGKILL and keeps acknowledging', async () => {
    const primary = ingest().pid!;
    const [victim, survivor] = workersOf(primary);
    process.kill(victim!, 'SIGKILL');
    const replaced = await eventually(async () => {
      const now = workersOf(primary);
      return now.length === 2 && !now.includes(victim!) && now.includes(survivor!) ? now : undefined;
    }, 'a new worker in place of the killed one');
    expect(alive(primary)).toBe(true);
    // The new worker listens: the next scrapes are answered by both, and events go through.
    await eventually(async () => ((await fetch(`http://127.0.0.1:${trapline.config.INGEST_PORT}/health`, { headers: { connection: 'close' } })).ok ? true : undefined), 'ingest healthy');
    const tag = randomBytes(3).toString('hex');
    await sendAll(tag, 20);
    await eventually(async () => ((await storedWith(tag)) === 20 ? true : undefined), 'the 20 events after the replacement');
    expect(workersOf(primary)).toEqual(replaced);
  });

  it('leaves no worker behind when the primary is killed with SIGKILL, and stops every worker on SIGTERM', async () => {
    const killed = workersOf(ingest().pid!);
    await trapline.services.stop('ingest', 'SIGKILL');
    await eventually(async () => (killed.every((pid) => !alive(pid)) ? true : undefined), 'the workers of the killed primary to exit', 10000);

    await trapline.services.start('ingest');
    const primary = ingest();
    const workers = workersOf(primary.pid!);
    expect(workers).toHaveLength(2);
    const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    await trapline.services.stop('ingest');
    expect(await exited).toBe(0);
    expect(workers.filter(alive)).toEqual([]);
    await trapline.services.start('ingest'); // for dispose and the next test
  }, 90_000);

  it('exits 1 when a worker cannot start (its port taken), instead of forking workers that fail forever', async () => {
    const taken = new URL(trapline.config.REDIS_URL).port;
    await expect(trapline.services.startInstance('ingest', 'doomed', { INGEST_PORT: taken, INGEST_WORKERS: '2' })).rejects.toThrow(/exited with code 1/);
  }, 90_000);
});
