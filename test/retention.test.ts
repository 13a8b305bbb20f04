import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli, startTrapline, type RunningTrapline, EVENT_TAG_ROWS } from './harness.ts';
import { projection } from './load.ts';
import { readTopic } from './log.ts';
import * as received from './received.ts';

// Retention end to end: a project keeps its events for its retention (set through the API), the
// scheduler in the deleter asks for what is older, the deletion pipeline removes it in chunks and
// erases it from the log, issues with nothing newer go, the others are recounted, one summary
// audit entry per project and run, and a rebuild afterwards equals live.

const DAY = 24 * 60 * 60 * 1000;
let trapline: RunningTrapline;

beforeAll(async () => {
  trapline = await startTrapline({ RETENTION_CHECK_SECONDS: '1', DELETION_CHUNK_SIZE: '2' });
});

afterAll(async () => {
  await trapline?.dispose();
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${trapline.publicUrl}/api/0${path}`, {
    method,
    headers: { authorization: `Bearer ${trapline.defaults.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const query = async <T>(sql: string, params: unknown[] = []) => (await trapline.pool.query(sql, params)).rows as T[];

const receivedAgo = (message: string, ageMs: number, projectId?: number) => received.receivedAgo(trapline, message, ageMs, projectId);
const sendNow = (message: string) => received.sendNow(trapline, message);

/** Checks the active retention scheduler has made so far (the deleter's `trapline_retention_checks_total`). */
async function retentionChecks(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${trapline.config.DELETER_PORT}/metrics`)).text();
  return Number(/^trapline_retention_checks_total(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0);
}

/** Resolves once the scheduler has made `more` checks from now (their requests, if any, appended). */
async function afterChecks(more: number): Promise<void> {
  const target = (await retentionChecks()) + more;
  await eventually(async () => ((await retentionChecks()) >= target ? true : undefined), `${more} more retention checks`);
}

const groupsSnapshot = () => query('SELECT id, short_id, title, times_seen, first_seen, last_seen, status FROM groups ORDER BY id');
const eventsSnapshot = () => query('SELECT project_id, event_id, group_id, received_at FROM events ORDER BY event_id');

describe('retention', () => {
  it('removes what a project keeps no longer, through the deletion pipeline, audited once, and a rebuild agrees', async () => {
    const { organizationSlug: org, projectSlug: project, projectId } = trapline.defaults;
    const stale = [await receivedAgo('only old events', 10 * DAY), await receivedAgo('only old events', 9 * DAY), await receivedAgo('old and new events', 8 * DAY)];
    const fresh = [await sendNow('old and new events'), await sendNow('only new events')];
    await eventually(async () => ((await query<{ n: number }>('SELECT count(*)::int AS n FROM events'))[0]!.n === 5 ? true : undefined), 'five events projected');
    const [mixedBefore] = await query<{ id: number; times_seen: number }>("SELECT id, times_seen FROM groups WHERE title = 'old and new events'");
    expect(mixedBefore!.times_seen).toBe(2);
    // Nothing goes while the default (90 days) applies: checks made since the events are in ask for nothing.
    await afterChecks(2);
    expect((await readTopic(trapline.config, trapline.topics.events, 1500)).filter((record) => record.schema === 'RetentionRequested'), 'no retention requested under the default').toEqual([]);
    expect((await query<{ n: number }>('SELECT count(*)::int AS n FROM deletions'))[0]!.n).toBe(0);

    const put = await api('PUT', `/projects/${org}/${project}/`, { retentionDays: 5 });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ slug: project, retentionDays: 5 });
    const [run] = await eventually(async () => {
      const rows = await query<{ transaction_id: string; state: string; events_removed: number; chunks: number; actor: string }>("SELECT transaction_id, state, events_removed, chunks, actor FROM deletions WHERE kind = 'retention'");
      return rows[0]?.state === 'done' ? rows : undefined;
    }, 'the retention run done', 60000);
    expect(run).toMatchObject({ events_removed: 3, chunks: 2, actor: 'system:retention' });

    expect((await eventsSnapshot()).map((row) => (row as { event_id: string }).event_id).sort()).toEqual([...fresh].sort());
    expect(await query("SELECT 1 FROM groups WHERE title = 'only old events'")).toEqual([]);
    const [mixed] = await query<{ id: number; times_seen: number; first_seen: Date }>("SELECT id, times_seen, first_seen FROM groups WHERE title = 'old and new events'");
    expect(mixed).toMatchObject({ id: mixedBefore!.id, times_seen: 1 });
    expect(mixed!.first_seen.getTime()).toBeGreaterThan(Date.now() - DAY);
    expect(await query(`SELECT 1 FROM ${EVENT_TAG_ROWS} WHERE value = 'old'`)).toEqual([]);
    expect(await projection(trapline, []), 'issue counts and tag values as the remaining events say').toMatchObject({ miscounted: 0, tags_miscounted: 0 });
    const detail = (await (await api('GET', `/projects/${org}/${project}/`)).json()) as { retentionDays: number };
    expect(detail.retentionDays).toBe(5);

    // Erased from the log, and audited by one summary for the project.
    const log = await readTopic(trapline.config, trapline.topics.events);
    for (const id of stale) expect(log.filter((record) => record.key === `${projectId}/${id}`).at(-1)?.value, `erasure of ${id}`).toBeNull();
    await afterChecks(3); // checks after the run was projected: nothing more is due
    expect((await readTopic(trapline.config, trapline.topics.events, 1500)).filter((record) => record.schema === 'RetentionRequested'), 'one retention request').toHaveLength(1);
    const audit = await query<{ event: string; actor: string; data: Record<string, unknown> }>("SELECT event, actor, data FROM audit_log WHERE event LIKE 'retention%'");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ event: 'retention.cleanup', actor: 'system:retention', data: { eventsRemoved: 3, issuesRemoved: 1, logRecordsRemoved: 3 } });
    expect((await query<{ n: number }>("SELECT count(*)::int AS n FROM deletions WHERE kind = 'retention'"))[0]!.n).toBe(1);

    // A rebuild replays the retained log, purges included: the same rows, nothing expired comes back.
    const live = { groups: await groupsSnapshot(), events: await eventsSnapshot(), retention: await query('SELECT * FROM project_retention') };
    await trapline.services.stop('projector');
    const rebuilt = runCli(trapline.env, ['rebuild']);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect({ groups: await groupsSnapshot(), events: await eventsSnapshot(), retention: await query('SELECT * FROM project_retention') }).toEqual(live);
    await trapline.services.start('projector');
  }, 180000);

  it('refuses a retention that is not a positive number of days with 400 and a detail, and changes nothing', async () => {
    const { organizationSlug: org, projectSlug: project } = trapline.defaults;
    for (const body of [{ retentionDays: 0 }, { retentionDays: -1 }, { retentionDays: 'a week' }, {}]) {
      const response = await api('PUT', `/projects/${org}/${project}/`, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toHaveProperty('detail');
    }
    expect(await query('SELECT retention_days FROM project_retention')).toEqual([{ retention_days: 5 }]);
  });
});
