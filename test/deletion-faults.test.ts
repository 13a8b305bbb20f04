import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli, startTrapline, type RunningTrapline } from './harness.ts';
import { readTopic } from './log.ts';

// The deletion pipeline under faults, real processes and servers: the deleter killed with SIGKILL
// mid-deletion finishes after a restart with exactly one completion (invariant 5); Postgres
// refusing connections makes a deletion retry with backoff, then land in the DLQ, from where
// `trapline deletions redrive` completes it.

let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline({ DELETION_DELAY_SECONDS: '1', DELETION_CHUNK_SIZE: '1', DELETION_MAX_ATTEMPTS: '3', DELETION_RETRY_BACKOFF_MS: '300' });
});

afterAll(async () => {
  await trapline?.dispose();
});

const api = (method: string, path: string) => fetch(`${trapline.publicUrl}/api/0${path}`, { method, headers: { authorization: `Bearer ${trapline.defaults.token}` } });
const query = async <T>(sql: string, params: unknown[] = []) => (await trapline.pool.query(sql, params)).rows as T[];

async function issueWithEvents(message: string, count: number): Promise<string> {
  const key = new URL(trapline.defaults.dsn).username;
  const send = async () => {
    const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message }) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string }).id;
  };
  const ids: string[] = [];
  for (let i = 0; i < count; i += 20) ids.push(...(await Promise.all(Array.from({ length: Math.min(20, count - i) }, send))));
  return eventually(async () => {
    const [row] = await query<{ group_id: number; times_seen: number }>('SELECT e.group_id, g.times_seen FROM events e JOIN groups g ON g.id = e.group_id WHERE e.event_id = $1', [ids[0]]);
    return row && row.times_seen === count ? String(row.group_id) : undefined;
  }, `an issue with ${count} events`);
}

async function requestDeletion(issue: string): Promise<string> {
  const response = await api('DELETE', `/issues/${issue}/`);
  expect(response.status).toBe(202);
  return ((await response.json()) as { transactionId: string }).transactionId;
}

const stateOf = async (transactionId: string) => (await query<{ state: string; chunks: number; attempts: number; events_removed: number }>('SELECT state, chunks, attempts, events_removed FROM deletions WHERE transaction_id = $1', [transactionId]))[0];

const completions = async (transactionId: string) => (await readTopic(trapline.config, trapline.topics.audit)).filter((record) => record.key === `${transactionId}:completed`).length;

describe('the deleter killed mid-deletion', () => {
  it('finishes after a restart, with every chunk purged once and exactly one completion record', async () => {
    const events = 120;
    const issue = await issueWithEvents('killed while deleting', events);
    const transactionId = await requestDeletion(issue);
    await eventually(async () => ((await stateOf(transactionId))?.chunks ?? 0) >= 3 || undefined, 'the deletion running', 60000);
    await trapline.services.stop('deleter', 'SIGKILL');
    // What the killed deleter committed is on the log (read committed: an open transaction of the
    // dead deleter is not). Once the projector has applied all of it, the read model is the state at the kill.
    const purgesOf = async () => (await readTopic(trapline.config, trapline.topics.events, 1500)).filter((record) => record.schema === 'EventsPurged' && record.key?.includes(transactionId)).length;
    const committedAtKill = await purgesOf();
    const atKill = await eventually(async () => {
      const state = await stateOf(transactionId);
      return state?.chunks === committedAtKill ? state : undefined;
    }, `the ${committedAtKill} chunks committed before the kill applied`);
    expect(atKill.state, 'the kill came mid-deletion').toBe('running');
    expect(await purgesOf(), 'nothing purged while the deleter is down').toBe(committedAtKill);

    await trapline.services.start('deleter');
    await eventually(async () => ((await stateOf(transactionId))?.state === 'done' ? true : undefined), 'the deletion done', 90000);
    expect(await stateOf(transactionId)).toMatchObject({ events_removed: events, chunks: events + 1 });
    expect(await query('SELECT 1 FROM events WHERE group_id = $1', [issue])).toEqual([]);
    expect(await completions(transactionId)).toBe(1);
    const purges = (await readTopic(trapline.config, trapline.topics.events)).filter((record) => record.schema === 'EventsPurged' && record.key?.includes(transactionId));
    expect(new Set(purges.map((record) => record.key)).size).toBe(purges.length);
    expect(purges).toHaveLength(events + 1);
  }, 240000);
});

describe('Postgres refusing connections', () => {
  it('retries with backoff, dead-letters after the last attempt, and a re-drive completes the deletion once', async () => {
    const issue = await issueWithEvents('deleted while postgres is away', 4);
    const database = decodeURIComponent(new URL(trapline.config.DATABASE_URL).pathname.slice(1));
    const server = new pg.Client({ connectionString: trapline.config.DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
    await server.connect();
    try {
      const transactionId = await requestDeletion(issue);
      // Wait until the projector applied the request and the deleter took it in, then refuse.
      await eventually(async () => ((await query('SELECT 1 FROM audit_log WHERE id = $1', [`${transactionId}:requested`])).length ? true : undefined), 'the request taken in');
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
      await server.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database]);
      const dead = await eventually(async () => {
        const letters = (await readTopic(trapline.config, trapline.topics.deletionsDlq, 1000)).filter((record) => record.key === transactionId);
        return letters.length > 0 ? letters : undefined;
      }, 'the deletion dead-lettered', 60000);
      expect(dead).toHaveLength(1);
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);

      await eventually(async () => ((await stateOf(transactionId))?.state === 'dead' ? true : undefined), 'the deletion shown dead', 90000);
      expect((await stateOf(transactionId))!.attempts).toBe(3);
      const listed = runCli(trapline.env, ['deletions', 'list', '--state', 'dead', '--json']);
      expect(listed.status, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as { transactionId: string; lastError: string }[]).find((row) => row.transactionId === transactionId)?.lastError).toBeTruthy();
      expect(await query('SELECT 1 FROM events WHERE group_id = $1', [issue])).toHaveLength(4);

      const redriven = runCli(trapline.env, ['deletions', 'redrive']);
      expect(redriven.status, redriven.stderr).toBe(0);
      expect(redriven.stdout).toContain(transactionId);
      await eventually(async () => ((await stateOf(transactionId))?.state === 'done' ? true : undefined), 'the re-driven deletion done', 60000);
      expect(await query('SELECT 1 FROM events WHERE group_id = $1', [issue])).toEqual([]);
      expect(await completions(transactionId)).toBe(1);
      // A second re-drive finds nothing left to send.
      const again = runCli(trapline.env, ['deletions', 'redrive']);
      expect(again.stdout).toMatch(/re-driven 0 deletion/);
    } finally {
      await server.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
      await server.end();
    }
  }, 240000);
});
