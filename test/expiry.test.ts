import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEventPartitions } from '@trapline/runtime';
import { eventually, runCli, startTrapline, type RunningTrapline, EVENT_TAG_ROWS } from './harness.ts';
import { projection } from './load.ts';
import { readTopic } from './log.ts';
import * as received from './received.ts';

// Expiry end to end: with every project at the longest retention, old events leave with their
// time partitions. The scheduler asks once for every project, the deleter erases each event's
// log record in chunks (one project per chunk), and the projector drops the partitions wholly
// past the retention, recounting the issues that had events there. Partitions of 4 seconds and a
// retention of 60 seconds stand in for days.

const RETENTION_SECONDS = 60;
let trapline: RunningTrapline;
const SECOND_PROJECT = 77;

beforeAll(async () => {
  trapline = await startTrapline({
    RETENTION_DAYS: String(RETENTION_SECONDS / 86400),
    RETENTION_CHECK_SECONDS: '1',
    EVENTS_PARTITION_SECONDS: '4',
    EXPIRY_CHUNK_SIZE: '2',
  });
  const created = runCli(trapline.env, ['projects', 'create', trapline.defaults.organizationSlug, 'second', '--id', String(SECOND_PROJECT)]);
  expect(created.status, created.stderr).toBe(0);
});

afterAll(async () => {
  await trapline?.dispose();
});

const query = async <T>(sql: string, params: unknown[] = []) => (await trapline.pool.query(sql, params)).rows as T[];

const receivedAgo = (message: string, ageMs: number, projectId?: number) => received.receivedAgo(trapline, message, ageMs, projectId);
const sendNow = (message: string) => received.sendNow(trapline, message);

const snapshot = async () => ({
  groups: await query('SELECT id, project_id, short_id, title, times_seen, first_seen, last_seen, status FROM groups ORDER BY id'),
  events: await query('SELECT project_id, event_id, group_id, received_at FROM events ORDER BY event_id'),
  tags: await query(`SELECT project_id, event_id, key, value FROM ${EVENT_TAG_ROWS} ORDER BY event_id, key`),
  directory: await query('SELECT project_id, event_id, received_at FROM event_ids ORDER BY event_id'),
  tagValues: await query('SELECT * FROM group_tag_values ORDER BY group_id, key, value'),
});

describe('expiry', () => {
  it('drops the partitions past the longest retention for every project, erases their records from the log, audits per project, and a rebuild agrees', async () => {
    const { projectId } = trapline.defaults;
    const second = SECOND_PROJECT;
    const minute = 60_000;
    // The old events are in the read model before the scheduler looks (with the deleter running, an
    // expiry could start between two of them: see the late event below for what happens then).
    await trapline.services.stop('deleter');
    const stale = [
      [projectId, await receivedAgo('only old events', 5 * minute)],
      [projectId, await receivedAgo('only old events', 4 * minute)],
      [projectId, await receivedAgo('old and new events', 3 * minute)],
      [second, await receivedAgo('another project', 4 * minute, second)],
    ] as const;
    const newestStale = Date.now() - 3 * minute;
    const fresh = [await sendNow('old and new events'), await sendNow('only new events')];
    await eventually(async () => ((await query<{ n: number }>('SELECT count(*)::int AS n FROM events'))[0]!.n === 6 ? true : undefined), 'six events projected');
    const [mixedBefore] = await query<{ times_seen: number }>("SELECT times_seen FROM groups WHERE title = 'old and new events'");
    expect(mixedBefore!.times_seen).toBe(2);
    await trapline.services.start('deleter');

    // Every expiry run done (more than one if the old events' partitions were made one after another).
    const runs = await eventually(async () => {
      const rows = await query<{ state: string; project_id: number; actor: string; events_removed: number }>("SELECT state, project_id, actor, events_removed FROM deletions WHERE kind = 'expiry'");
      const present = await query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      return rows.length > 0 && rows.every((row) => row.state === 'done') && present[0]!.n === 2 ? rows : undefined;
    }, 'the expiry done and only the fresh events left', 90_000);
    expect(runs.every((run) => run.project_id === 0 && run.actor === 'system:retention')).toBe(true);

    expect((await query<{ event_id: string }>('SELECT event_id FROM events')).map((row) => row.event_id).sort()).toEqual([...fresh].sort());
    expect((await query<{ event_id: string }>('SELECT event_id FROM event_ids')).map((row) => row.event_id).sort()).toEqual([...fresh].sort());
    expect(await query(`SELECT 1 FROM ${EVENT_TAG_ROWS} WHERE value = 'old'`)).toEqual([]);
    expect(await projection(trapline, []), 'issue counts and tag values as the remaining events say').toMatchObject({ miscounted: 0, tags_miscounted: 0 });
    expect(await query("SELECT 1 FROM groups WHERE title IN ('only old events', 'another project')")).toEqual([]);
    const [mixed] = await query<{ times_seen: number; first_seen: Date }>("SELECT times_seen, first_seen FROM groups WHERE title = 'old and new events'");
    expect(mixed!.times_seen).toBe(1);
    expect(mixed!.first_seen.getTime()).toBeGreaterThan(Date.now() - minute);
    // No partition wholly past the retention is left; the tables themselves are gone, not emptied.
    // Dropping them needs the parent tables for a moment: one that gave up behind readers (a loaded
    // machine) is tried again within seconds, not at the next expiry.
    const horizon = (Date.now() - RETENTION_SECONDS * 1000) / 1000;
    const client = await trapline.pool.connect();
    try {
      let left: unknown[] = [];
      await eventually(async () => {
        left = (await listEventPartitions(client)).filter((range) => range.to < horizon - 10);
        return left.length === 0 ? true : undefined;
      }, 'the expired partitions dropped', 30_000).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(left)}`);
      });
    } finally {
      client.release();
    }
    // The horizon passed the newest stale event.
    expect(await query('SELECT 1 FROM events_expired WHERE before > $1', [new Date(newestStale)])).toHaveLength(1);

    // Erased from the log, record by record.
    const log = await readTopic(trapline.config, trapline.topics.events);
    for (const [project, id] of stale) expect(log.filter((record) => record.key === `${project}/${id}`).at(-1)?.value, `erasure of ${project}/${id}`).toBeNull();

    // One summary per project and run, none per event: together they count each stale event once.
    const audit = await query<{ project_id: number; event: string; actor: string; data: { eventsRemoved: number; issuesRemoved: number; partitionsDropped: number } }>(
      "SELECT project_id, event, actor, data FROM audit_log WHERE event = 'retention.cleanup' ORDER BY project_id",
    );
    expect(audit.every((entry) => entry.actor === 'system:retention')).toBe(true);
    const removed = (project: number) => audit.filter((entry) => entry.project_id === project).reduce((sum, entry) => sum + entry.data.eventsRemoved, 0);
    expect([removed(projectId), removed(second)]).toEqual([3, 1]);
    expect(audit.every((entry) => entry.data.partitionsDropped >= 1)).toBe(true);

    // A rebuild replays the log, expiry included: the same rows, nothing expired comes back.
    const live = await snapshot();
    await trapline.services.stop('projector');
    const rebuilt = runCli(trapline.env, ['rebuild']);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(await snapshot()).toEqual(live);
    await trapline.services.start('projector');

    // An event appended late with a received time before the expiry horizon is never projected,
    // and the projector erases it from the log.
    const late = await receivedAgo('only old events', 5 * minute);
    const marker = await sendNow('after the late replay');
    await eventually(async () => ((await query('SELECT 1 FROM events WHERE event_id = $1', [marker])).length === 1 ? true : undefined), 'the marker projected');
    expect(await query('SELECT 1 FROM events WHERE event_id = $1', [late])).toEqual([]);
    expect(await query("SELECT 1 FROM groups WHERE title = 'only old events'")).toEqual([]);
    const after = await readTopic(trapline.config, trapline.topics.events);
    expect(after.filter((record) => record.key === `${projectId}/${late}`).at(-1)?.value, 'erasure of the late event').toBeNull();
  }, 240_000);
});
