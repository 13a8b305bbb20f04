import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTrapline, type RunningTrapline, EVENT_TAG_ROWS } from './harness.ts';
import { compactQuickly, groupLag, readTopic, untilCompactedAway } from './log.ts';

// The deletion pipeline end to end (invariants 3, 4 and 5): through the API, hidden at once,
// held for the deletion delay, purged in chunks from every table, erased from the compacted
// events topic, tombstones honoured, and audited exactly once.

let trapline: RunningTrapline;
let org: string;
let project: string;

beforeAll(async () => {
  trapline = await startTrapline({ DELETION_DELAY_SECONDS: '5', DELETION_CHUNK_SIZE: '10', DELETION_RETRY_BACKOFF_MS: '500' });
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
});

afterAll(async () => {
  await trapline?.dispose();
});

const api = (method: string, path: string) => fetch(`${trapline.publicUrl}/api/0${path}`, { method, headers: { authorization: `Bearer ${trapline.defaults.token}` } });

async function send(message: string, extra: Record<string, unknown> = {}): Promise<string> {
  const key = new URL(trapline.defaults.dsn).username;
  const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, {
    method: 'POST',
    body: JSON.stringify({ message, level: 'error', tags: { batch: message }, ...extra }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

const sendMany = async (message: string, count: number) => {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 10) ids.push(...(await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => send(message)))));
  return ids;
};

const query = async <T>(sql: string, params: unknown[] = []) => (await trapline.pool.query(sql, params)).rows as T[];

const groupWith = (eventId: string, events: number) =>
  eventually(async () => {
    const [row] = await query<{ group_id: number; times_seen: number }>('SELECT e.group_id, g.times_seen FROM events e JOIN groups g ON g.id = e.group_id WHERE e.event_id = $1', [eventId]);
    return row && row.times_seen === events ? String(row.group_id) : undefined;
  }, `an issue with ${events} events`);

/**
 * Done, and its completion audited, as the read models show them. The deleter writes the last purge
 * (events topic) and the audit entry (audit topic) in one Kafka transaction, but the projector
 * reads the two topics apart: one may be applied a fetch (up to 100 ms) before the other.
 */
const deletionDone = (transactionId: string) =>
  eventually(async () => {
    const [row] = await query<{ state: string; audited: boolean }>(
      "SELECT d.state, EXISTS (SELECT 1 FROM audit_log a WHERE a.transaction_id = d.transaction_id AND a.event LIKE '%.completed') AS audited FROM deletions d WHERE d.transaction_id = $1",
      [transactionId],
    );
    return row?.state === 'done' && row.audited ? true : undefined;
  }, `deletion ${transactionId} done and audited`, 60000);

async function auditEntries(transactionId: string) {
  const log = (await readTopic(trapline.config, trapline.topics.audit)).filter((record) => record.key?.startsWith(transactionId));
  return log.map((record) => record.key);
}

describe('deleting an issue with many events', () => {
  it('hides it at once, purges it in chunks after the delay, erases it from the log, audits it once, and honours its tombstones', async () => {
    const ids = await sendMany('checkout failed', 35);
    const keep = await send('unrelated keeps working');
    const issue = await groupWith(ids[0]!, 35);
    await groupWith(keep, 1);

    const started = Date.now();
    const response = await api('DELETE', `/issues/${issue}/`);
    expect(response.status).toBe(202);
    const { transactionId } = (await response.json()) as { transactionId: string };
    await eventually(async () => ((await api('GET', `/issues/${issue}/`)).status === 404 ? true : undefined), 'the issue hidden');
    const listed = (await (await api('GET', `/projects/${org}/${project}/issues/?query=`)).json()) as { id: string }[];
    expect(listed.map((entry) => entry.id)).not.toContain(issue);
    expect((await api('GET', `/projects/${org}/${project}/events/${ids[0]}/`)).status).toBe(404);
    // Still held: the delay has not passed, the rows are there, only hidden; "is it gone yet?" says pending.
    expect((await query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE group_id = $1', [issue]))[0]!.n).toBe(35);
    const pending = await eventually(async () => {
      const status = await api('GET', `/deletions/${transactionId}/`);
      return status.ok ? ((await status.json()) as { status: string; issueId: string }) : undefined;
    }, 'the deletion status');
    expect(pending).toMatchObject({ status: 'pending', issueId: issue });

    await deletionDone(transactionId);
    const done = (await (await api('GET', `/deletions/${transactionId}/`)).json()) as { status: string; progress: { chunks: number; eventsRemoved: number }; audit: { event: string }[] };
    expect(done).toMatchObject({ status: 'done', progress: { chunks: 4, eventsRemoved: 35 } });
    expect(done.audit.map((entry) => entry.event)).toEqual(['issue.delete', 'issue.delete.completed']);
    const auditLog = (await (await api('GET', `/organizations/${org}/audit-logs/?event=issue.delete.completed`)).json()) as { rows: { transactionId: string; data: { eventsRemoved: number } }[] };
    expect(auditLog.rows.filter((row) => row.transactionId === transactionId).map((row) => row.data.eventsRemoved)).toEqual([35]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
    expect(await query('SELECT 1 FROM groups WHERE id = $1', [issue])).toEqual([]);
    expect(await query('SELECT 1 FROM events WHERE group_id = $1 OR event_id = ANY($2)', [issue, ids])).toEqual([]);
    expect(await query(`SELECT 1 FROM ${EVENT_TAG_ROWS} WHERE group_id = $1`, [issue])).toEqual([]);
    expect(await query('SELECT 1 FROM group_hashes WHERE group_id = $1', [issue])).toEqual([]);
    expect((await query('SELECT 1 FROM group_hash_tombstones WHERE group_id = $1', [issue])).length).toBe(1);
    const [deletion] = await query<{ chunks: number; events_removed: number; rows_removed: number }>('SELECT chunks, events_removed, rows_removed FROM deletions WHERE transaction_id = $1', [transactionId]);
    // 35 events in chunks of 10; each event has its row and three tag rows (batch, level, and none else), plus the issue's row.
    expect(deletion).toEqual({ chunks: 4, events_removed: 35, rows_removed: 35 * 3 + 1 });

    // The events topic holds a null-value record for every erased event, after its payload.
    const log = await readTopic(trapline.config, trapline.topics.events);
    for (const id of ids) {
      const records = log.filter((record) => record.key === `${trapline.defaults.projectId}/${id}`);
      expect(records.at(-1)?.value, `erasure of ${id}`).toBeNull();
    }
    expect(log.filter((record) => record.schema === 'EventsPurged' && record.key?.includes(transactionId))).toHaveLength(4);

    // Exactly one requested and one completed entry, on the topic and in the audit log. Only the
    // topic can show a completion appended twice: the audit log's read model keys entries by id
    // (ON CONFLICT DO NOTHING), so it hides a duplicate by design. The topic check is the one that
    // fails if the deleter writes the completion twice; the read-model check covers the projection.
    expect((await auditEntries(transactionId)).sort(), 'one requested and one completed record on trapline.audit').toEqual([`${transactionId}:completed`, `${transactionId}:requested`]);
    const audit = await query<{ event: string; data: { eventsRemoved?: number } }>('SELECT event, data FROM audit_log WHERE transaction_id = $1 ORDER BY created_at', [transactionId]);
    expect(audit.map((row) => row.event)).toEqual(['issue.delete', 'issue.delete.completed']);
    expect(audit[1]!.data.eventsRemoved).toBe(35);

    // Tombstones: a new event with the same hash starts a fresh issue; the unrelated issue is untouched.
    const late = await send('checkout failed');
    const fresh = await groupWith(late, 1);
    expect(fresh).not.toBe(issue);
    expect((await api('GET', `/projects/${org}/${project}/events/${keep}/`)).status).toBe(200);

    // Invariant 7: both consumer groups end with no lag, transaction markers included.
    const { topics, config } = trapline;
    await eventually(async () => ((await groupLag(config, config.projectorGroup, [topics.events, topics.audit, topics.admin])) === 0 ? true : undefined), 'the projector group without lag');
    await eventually(async () => ((await groupLag(config, config.deleterGroup, [topics.events, topics.deletionsDelay, topics.deletionsRun, topics.deletionsRetry])) === 0 ? true : undefined), 'the deleter group without lag');
  }, 120000);
});

describe('deleting one event', () => {
  it('hides it at once, then removes it, recounts its issue and audits it once; an unknown event is 404', async () => {
    const [first, second, third] = [
      await send('cache miss storm', { tags: { region: 'eu' } }),
      await send('cache miss storm', { tags: { region: 'us' } }),
      await send('cache miss storm', { tags: { region: 'eu' } }),
    ];
    const issue = await groupWith(third!, 3);
    const regions = async () => ((await (await api('GET', `/issues/${issue}/tags/region/values/`)).json()) as { value: string; count: number }[]).map(({ value, count }) => [value, count]);
    expect(await regions()).toEqual([['eu', 2], ['us', 1]]);
    const response = await api('DELETE', `/projects/${org}/${project}/events/${second}/`);
    expect(response.status).toBe(202);
    const { transactionId } = (await response.json()) as { transactionId: string };
    await eventually(async () => ((await api('GET', `/projects/${org}/${project}/events/${second}/`)).status === 404 ? true : undefined), 'the event hidden');
    // Its tags stop counting as soon as it is hidden: the only 'us' goes from the issue's tag values.
    expect(await regions()).toEqual([['eu', 2]]);

    await deletionDone(transactionId);
    expect(await query('SELECT 1 FROM events WHERE event_id = $1', [second])).toEqual([]);
    expect(await query(`SELECT 1 FROM ${EVENT_TAG_ROWS} WHERE event_id = $1`, [second])).toEqual([]);
    const [group] = await query<{ times_seen: number }>('SELECT times_seen FROM groups WHERE id = $1', [issue]);
    expect(group!.times_seen).toBe(2);
    const detail = (await (await api('GET', `/issues/${issue}/`)).json()) as { count: string };
    expect(detail.count).toBe('2');
    expect((await api('GET', `/projects/${org}/${project}/events/${first}/`)).status).toBe(200);
    expect((await auditEntries(transactionId)).sort(), 'one requested and one completed record on trapline.audit').toEqual([`${transactionId}:completed`, `${transactionId}:requested`]);
    const log = await readTopic(trapline.config, trapline.topics.events);
    expect(log.filter((record) => record.key === `${trapline.defaults.projectId}/${second}`).at(-1)?.value).toBeNull();

    const unknown = await api('DELETE', `/projects/${org}/${project}/events/${randomBytes(16).toString('hex')}/`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: 'Event not found' });
  }, 120000);
});

describe('erasure reaches the log', () => {
  it('leaves no payload of a deleted event in the events topic once it is compacted', async () => {
    await compactQuickly(trapline.config, trapline.topics.events);
    const doomed = await sendMany('secret leaked in message', 5);
    const issue = await groupWith(doomed[0]!, 5);
    const response = await api('DELETE', `/issues/${issue}/`);
    const { transactionId } = (await response.json()) as { transactionId: string };
    await deletionDone(transactionId);
    const keys = new Set(doomed.map((id) => `${trapline.defaults.projectId}/${id}`));

    await untilCompactedAway(trapline.config, trapline.topics.events, keys, () => send('roll the active segment'));
  }, 150000);
});
