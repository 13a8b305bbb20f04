import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, startTrapline, type RunningTrapline } from './harness.ts';
import { readTopic } from './log.ts';
import { store } from './load.ts';

// A deletion due earlier never waits behind one due later on the delay topic: a request held for
// an hour, then (the deletion delay lowered to 5 s) a request held for 5 s, both on the one
// partition of the delay topic: the second completes on time, the first stays held (put back at
// the tail, not lost), and each is audited once.

let trapline: RunningTrapline;

beforeAll(async () => {
  // One partition per deletion topic, so both requests share the delay partition.
  trapline = await startTrapline({ DELETION_DELAY_SECONDS: '3600', KAFKA_DELETIONS_PARTITIONS: '1' });
}, 120000);

afterAll(async () => {
  await trapline?.dispose();
});

const api = (method: string, path: string) => fetch(`${trapline.publicUrl}/api/0${path}`, { method, headers: { authorization: `Bearer ${trapline.defaults.token}` } });
const query = async <T>(sql: string, params: unknown[] = []) => (await trapline.pool.query(sql, params)).rows as T[];

async function issueWithEvent(message: string): Promise<string> {
  const eventId = await store(trapline, message);
  return eventually(async () => {
    const [row] = await query<{ group_id: number }>('SELECT group_id FROM events WHERE event_id = $1', [eventId]);
    return row ? String(row.group_id) : undefined;
  }, `the issue "${message}"`);
}

async function deleteIssue(issue: string): Promise<string> {
  const response = await api('DELETE', `/issues/${issue}/`);
  expect(response.status).toBe(202);
  return ((await response.json()) as { transactionId: string }).transactionId;
}

/** The deleter has taken the request in: its step is on the delay topic with its `requested` entry. */
const takenIn = (transactionId: string) =>
  eventually(async () => ((await query('SELECT 1 FROM audit_log WHERE transaction_id = $1', [transactionId])).length > 0 ? true : undefined), `deletion ${transactionId} taken in`);

const stateOf = async (transactionId: string) => (await query<{ state: string }>('SELECT state FROM deletions WHERE transaction_id = $1', [transactionId]))[0]?.state;

describe('held deletions', () => {
  it('a request held for 5 s behind one held for an hour completes on time', async () => {
    const longIssue = await issueWithEvent('held for an hour');
    const shortIssue = await issueWithEvent('held for five seconds');
    const longHeld = await deleteIssue(longIssue);
    await takenIn(longHeld);

    // The deletion delay lowered: the deleter restarts with 5 s.
    await trapline.services.stop('deleter');
    await trapline.services.startInstance('deleter', 'b', { DELETER_PORT: String(await freePort()), DELETER_INSTANCE: `${trapline.config.deleterInstance}-b`, DELETION_DELAY_SECONDS: '5' });

    const requestedAt = Date.now();
    const shortHeld = await deleteIssue(shortIssue);
    await eventually(async () => ((await stateOf(shortHeld)) === 'done' ? true : undefined), 'the 5 s deletion done', 60000);
    const tookMs = Date.now() - requestedAt;
    expect(tookMs).toBeGreaterThanOrEqual(5000);
    expect(tookMs).toBeLessThan(30000); // behind the hour-long one, it would wait an hour

    expect(await stateOf(longHeld)).not.toBe('done');
    expect((await api('GET', `/issues/${longIssue}/`)).status).toBe(404); // still hidden while held
    const delayed = (await readTopic(trapline.config, trapline.topics.deletionsDelay)).filter((record) => record.key === longHeld);
    expect(delayed.length).toBeGreaterThanOrEqual(2); // taken in, then put back at the tail
    const audits = await eventually(async () => {
      const rows = await query<{ event: string }>('SELECT event FROM audit_log WHERE transaction_id = $1 ORDER BY event', [shortHeld]);
      return rows.length === 2 ? rows.map((row) => row.event) : undefined;
    }, 'the 5 s deletion audited');
    expect(audits).toEqual(['issue.delete', 'issue.delete.completed']);
    expect(await query('SELECT event FROM audit_log WHERE transaction_id = $1', [longHeld])).toEqual([{ event: 'issue.delete' }]);
  }, 120000);
});
