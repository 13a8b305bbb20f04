import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createLogger } from '@trapline/runtime';
import { alive, eventually, startTrapline, type RunningTrapline, workersOf as workersOfService } from './harness.ts';
import { projection, store } from './load.ts';

// PROJECTOR_WORKERS=2: the projector as a primary and two workers (packages/runtime/src/workers.ts),
// each a member of the projector's consumer group with its own share of the partitions. Events
// sent through the DSN's port are projected once whichever worker holds their partition, /metrics
// on PROJECTOR_PORT counts both workers, a worker killed outright is replaced and the group
// rebalanced onto the new one, and SIGTERM stops them all.

let trapline: RunningTrapline;

beforeAll(async () => {
  // A short session: a killed worker's partitions are reassigned within seconds.
  trapline = await startTrapline({ PROJECTOR_WORKERS: '2', KAFKA_SESSION_TIMEOUT_MS: '6000' });
}, 120_000);

afterAll(async () => {
  await trapline?.dispose();
});

const projector = () => trapline.services.services.get('projector')!.process;
const workersOf = (pid: number) => workersOfService(pid, 'projector');

/** Per member of the projector's group, how many partitions it holds. */
async function partitionsPerMember(): Promise<number[]> {
  const admin = createKafka(trapline.config.kafkaBrokers, 'test-admin', createLogger('test', 'error')).admin();
  await admin.connect();
  try {
    const { groups: [group] } = await admin.describeGroups([trapline.config.projectorGroup]);
    return (group?.members ?? []).map((member) => member.assignment.length);
  } finally {
    await admin.disconnect();
  }
}
const bothMembersHoldPartitions = async () => {
  const members = await partitionsPerMember();
  return members.length === 2 && members.every((count) => count > 0) ? true : undefined;
};

/** The projected-events counter in one scrape, on a connection of its own (so scrapes land on different workers). */
const projectedInScrape = async () => {
  const text = await (await fetch(`http://127.0.0.1:${trapline.config.PROJECTOR_PORT}/metrics`, { headers: { connection: 'close' } })).text();
  const line = text.split('\n').find((entry) => entry.startsWith('trapline_projector_records_total{') && entry.includes('record="EventReceived"'));
  return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? 0);
};

async function sendAll(tag: string, count: number): Promise<string[]> {
  const ids = await Promise.all(Array.from({ length: count }, (_, i) => store(trapline, `projector workers ${tag} ${i % 4}`)));
  expect(ids.filter((id) => id === undefined)).toHaveLength(0);
  return ids as string[];
}

describe('the projector with PROJECTOR_WORKERS=2', () => {
  it('runs two workers, each a group member holding partitions; events through the DSN are projected once, and each scrape of /metrics counts both workers', async () => {
    expect(workersOf(projector().pid!)).toHaveLength(2);
    await eventually(bothMembersHoldPartitions, 'two members of the projector group, each with partitions', 60000);
    const ids = await sendAll(randomBytes(3).toString('hex'), 40);
    await eventually(async () => ((await projection(trapline, ids)).present === 40 ? true : undefined), 'the 40 events projected');
    const state = await projection(trapline, ids);
    expect(state).toMatchObject({ distinct_ids: state.events, counted: state.events, miscounted: 0, tags_miscounted: 0 });
    // Connections go to the workers in turn; each scrape must count every event (one worker's own registry would count its share, or none).
    const scrapes = [];
    for (let i = 0; i < 8; i += 1) scrapes.push(await projectedInScrape());
    expect(scrapes).toEqual(Array(8).fill(state.events));
  });

  it('replaces a worker killed with SIGKILL; the group rebalances onto the new one and every event is projected once', async () => {
    const primary = projector().pid!;
    const [victim, survivor] = workersOf(primary);
    process.kill(victim!, 'SIGKILL');
    const during = await sendAll(randomBytes(3).toString('hex'), 20);
    await eventually(async () => {
      const now = workersOf(primary);
      return now.length === 2 && !now.includes(victim!) && now.includes(survivor!) ? now : undefined;
    }, 'a new worker in place of the killed one');
    expect(alive(primary)).toBe(true);
    await eventually(bothMembersHoldPartitions, 'the new worker holding partitions', 60000);
    const after = await sendAll(randomBytes(3).toString('hex'), 20);
    const ids = [...during, ...after];
    await eventually(async () => ((await projection(trapline, ids)).present === ids.length ? true : undefined), 'the events sent during and after the replacement projected', 60000);
    const state = await projection(trapline, ids);
    expect(state).toMatchObject({ distinct_ids: state.events, counted: state.events, miscounted: 0, tags_miscounted: 0 });
  }, 120_000);

  it('stops both workers on SIGTERM, the primary exiting 0', async () => {
    const primary = projector();
    const workers = workersOf(primary.pid!);
    expect(workers).toHaveLength(2);
    const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    await trapline.services.stop('projector');
    expect(await exited).toBe(0);
    expect(workers.filter(alive)).toEqual([]);
    await trapline.services.start('projector'); // for dispose
  }, 90_000);
});
