import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createLogger } from '@trapline/runtime';
import { PROJECTED_TOPICS } from '@trapline/schemas';
import { eventually, runCli, startInstance, startTrapline, type RunningTrapline } from './harness.ts';
import { groupLag, readTopic } from './log.ts';
import { projection, steadyLoad, store } from './load.ts';

// Scale-out: two projectors and two deleters share their consumer groups, under steady load through
// the gateway, with issue deletions running.
// 1. A rebalance in the middle of a step: with the projects table locked, a deleter's step has read
//    what it needs but one query, and waits; that deleter is frozen (SIGSTOP) and the lock let go.
//    Its session times out, the other deleter takes its partitions and does the step itself; then
//    the frozen one goes on (SIGCONT) and tries to commit the step: its offsets go with its old group
//    membership (KIP-447), which the group coordinator refuses, so the step is in the log once.
// 2. One projector and one deleter are killed with SIGKILL while a deletion runs, and not restarted;
//    the survivors take their partitions over after the session timeout.
// Then every acknowledged event is in the read model exactly once, the audit topic (read committed)
// holds every record once, every deletion completes, both groups have no lag, and a rebuild
// reproduces the tables.

const LOAD = { clients: 3, perClientPerSecond: 10, maxEvents: 3000, maxMs: 90000, messages: ['disk full', 'socket hang up', 'token expired', 'lock timeout'] };
// The issues deleted: the first two across the rebalance mid-step, the last while instances are killed (words only: grouping strips numbers).
const DOOMED = ['doomed alpha', 'doomed beta', 'doomed gamma'];
const EVENTS_PER_DOOMED_ISSUE = 20;

let trapline: RunningTrapline;

beforeAll(async () => {
  // A deleter whose step runs past the poll interval leaves its group (librdkafka's max.poll.interval.ms).
  trapline = await startTrapline({ DELETION_DELAY_SECONDS: '2', DELETION_CHUNK_SIZE: '4', DELETION_RETRY_BACKOFF_MS: '500', KAFKA_SESSION_TIMEOUT_MS: '10000' });
  // The second deleter names itself to Postgres, so a test can tell which deleter waits on a lock.
  const url = new URL(trapline.config.DATABASE_URL);
  url.searchParams.set('application_name', 'deleter-b');
  await Promise.all([startInstance(trapline, 'projector', 'b'), startInstance(trapline, 'deleter', 'b', { DATABASE_URL: url.toString() })]);
}, 180000);

afterAll(async () => {
  await trapline?.dispose();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const query = async <T>(sql: string, params: unknown[] = []) => (await trapline.pool.query(sql, params)).rows as T[];

async function doomedIssue(message: string): Promise<string> {
  const ids = (await Promise.all(Array.from({ length: EVENTS_PER_DOOMED_ISSUE }, () => store(trapline, message)))).filter((id) => id !== undefined);
  expect(ids).toHaveLength(EVENTS_PER_DOOMED_ISSUE);
  return eventually(async () => {
    const [row] = await query<{ group_id: number; times_seen: number }>('SELECT e.group_id, g.times_seen FROM events e JOIN groups g ON g.id = e.group_id WHERE e.event_id = $1', [ids[0]]);
    return row && row.times_seen === EVENTS_PER_DOOMED_ISSUE ? String(row.group_id) : undefined;
  }, `the issue "${message}" projected`, 60000);
}

async function requestDeletion(issue: string): Promise<string> {
  const response = await fetch(`${trapline.publicUrl}/api/0/issues/${issue}/`, { method: 'DELETE', headers: { authorization: `Bearer ${trapline.defaults.token}` } });
  expect(response.status).toBe(202);
  return ((await response.json()) as { transactionId: string }).transactionId;
}

/** Members of a consumer group that hold at least one partition. */
async function membersWithPartitions(groupId: string): Promise<number> {
  const admin = createKafka(trapline.config.kafkaBrokers, 'test-admin', createLogger('test', 'error')).admin();
  await admin.connect();
  try {
    const { groups: [group] } = await admin.describeGroups([groupId]);
    return group!.members.filter((member) => member.assignment.length > 0).length;
  } finally {
    await admin.disconnect();
  }
}

/** The application names of the deleters whose step waits for the projects table (after its other reads, before its transaction). */
async function stalledDeleterSteps(): Promise<string[]> {
  const rows = await query<{ name: string }>("SELECT application_name AS name FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'SELECT organization_slug FROM projects%'");
  return rows.map((row) => row.name);
}

async function tables() {
  return {
    groups: await query('SELECT * FROM groups ORDER BY id'),
    hashes: await query('SELECT * FROM group_hashes ORDER BY project_id, hash'),
    tombstones: await query('SELECT * FROM group_hash_tombstones ORDER BY project_id, hash, group_id'),
    events: await query('SELECT project_id, event_id, group_id, received_at, occurred_at, level, title, pending_deletion, payload FROM events ORDER BY event_id'),
    deletions: await query('SELECT * FROM deletions ORDER BY transaction_id'),
  };
}

describe('two projectors and two deleters, one of each killed under load', () => {
  it('projects every acknowledged event once, completes every deletion once, drains both groups and rebuilds the same tables', async () => {
    const began = Date.now();
    // Printed as it happens, so a failure shows how far the scenario got.
    const note = (what: string) => console.log(`scale-out: ${((Date.now() - began) / 1000).toFixed(1)}s ${what}`);
    const { config, topics } = trapline;
    const doomed = [];
    for (const message of DOOMED) doomed.push(await doomedIssue(message));
    await eventually(async () => ((await membersWithPartitions(config.projectorGroup)) === 2 && (await membersWithPartitions(config.deleterGroup)) === 2 ? true : undefined), 'both groups with two members holding partitions', 60000);
    note('doomed issues projected; two members with partitions in each group');

    const load = steadyLoad(trapline, LOAD);
    await sleep(3000);
    const deleters = trapline.services.services;
    const deletedTogether = async (ids: string[]) => (await query<{ n: number }>("SELECT count(*)::int AS n FROM deletions WHERE transaction_id = ANY($1::text[]) AND state = 'done'", [ids]))[0]!.n;

    // 1. A rebalance in the middle of a step.
    const lock = await trapline.pool.connect();
    let frozen: 'deleter' | 'deleter.b' | undefined;
    const transactions = await Promise.all(doomed.slice(0, 2).map(requestDeletion));
    note(`${transactions.length} deletions requested`);
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE projects IN ACCESS EXCLUSIVE MODE');
      const [waiting] = await eventually(async () => {
        const names = await stalledDeleterSteps();
        return names.length > 0 ? names : undefined;
      }, 'a deleter step waiting for the projects table', 60000);
      frozen = waiting === 'deleter-b' ? 'deleter.b' : 'deleter';
      deleters.get(frozen)!.process.kill('SIGSTOP');
      note(`${frozen} frozen in the middle of a step`);
    } finally {
      await lock.query('COMMIT').finally(() => lock.release());
    }
    try {
      await eventually(async () => ((await membersWithPartitions(config.deleterGroup)) === 1 ? true : undefined), `${frozen}'s partitions taken over`, 90000);
      note(`the other deleter holds ${frozen}'s partitions`);
      await eventually(async () => ((await deletedTogether(transactions)) === transactions.length ? true : undefined), 'both deletions done by the other deleter', 90000);
      note('both deletions done');
    } finally {
      deleters.get(frozen)?.process.kill('SIGCONT');
    }
    // Back in the group only once its stalled step is over: committed (the bug) or refused.
    await eventually(async () => ((await membersWithPartitions(config.deleterGroup)) === 2 ? true : undefined), `${frozen} back in its group`, 90000);
    note(`${frozen} went on and is back in its group`);

    // 2. A deleter and a projector killed while a deletion runs.
    const [last] = await Promise.all(doomed.slice(2).map(requestDeletion));
    transactions.push(last!);
    await eventually(async () => ((await query<{ n: number }>('SELECT count(*)::int AS n FROM deletions WHERE transaction_id = $1 AND chunks > 0', [last]))[0]!.n > 0 ? true : undefined), 'the last deletion running', 30000);
    await Promise.all([trapline.services.stop('projector', 'SIGKILL'), trapline.services.stop('deleter', 'SIGKILL')]);
    note(`projector and deleter killed (${load.acknowledged.length} acknowledged so far)`);
    await sleep(10000);
    const acknowledged = await load.stop();
    const { unacknowledged } = load;
    note(`load stopped: ${acknowledged.length} acknowledged, ${unacknowledged.length} not`);
    expect(acknowledged.length).toBeGreaterThan(200);

    // The survivors take over the dead members' partitions once the session timeout (30 s) expires.
    const state = await eventually(async () => {
      const row = await projection(trapline, acknowledged, unacknowledged);
      const done = (await query<{ n: number }>("SELECT count(*)::int AS n FROM deletions WHERE state = 'done'"))[0]!.n;
      return row.present === acknowledged.length && done === transactions.length ? row : undefined;
    }, 'every acknowledged event projected and every deletion done', 120000);
    note('every acknowledged event projected, every deletion done');
    // A request that timed out or got a 503 may still have been appended; nothing else may appear.
    expect(state.events, 'events in the read model = acknowledged events + appended unacknowledged ones').toBe(acknowledged.length + state.unacknowledged_present);
    expect(state.distinct_ids).toBe(state.events);
    expect(state.counted, 'sum of issue counts = events').toBe(state.events);
    expect(state.miscounted).toBe(0);
    expect(state.tags_miscounted).toBe(0);
    expect(await query('SELECT 1 FROM groups WHERE id = ANY($1::bigint[])', [doomed])).toEqual([]);

    const audit = await readTopic(config, topics.audit);
    for (const [index, transaction] of transactions.entries()) {
      const when = index < 2 ? 'deleted across the rebalance mid-step' : 'deleted while a deleter was killed';
      expect(audit.filter((record) => record.key === `${transaction}:completed`), `completions of ${transaction} (${when})`).toHaveLength(1);
    }
    const auditKeys = audit.map((record) => record.key);
    expect(auditKeys.filter((key, index) => auditKeys.indexOf(key) !== index), 'audit records appended more than once').toEqual([]);

    for (const [group, groupTopics] of [
      [config.projectorGroup, PROJECTED_TOPICS.map((id) => topics[id])],
      [config.deleterGroup, [topics.events, topics.deletionsDelay, topics.deletionsRun, topics.deletionsRetry]],
    ] as const) {
      await eventually(async () => ((await groupLag(config, group, [...groupTopics])) === 0 ? true : undefined), `${group} without lag`, 90000);
    }
    note('both groups without lag');

    const live = await tables();
    await trapline.services.stop('projector.b');
    const rebuilt = runCli(trapline.env, ['rebuild']);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(await tables()).toEqual(live);
    note('rebuild equals live');
  }, 360000);
});
