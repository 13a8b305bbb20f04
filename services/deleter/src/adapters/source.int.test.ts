import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEventPartitions, type Pool } from '@trapline/runtime';
import type { DeletionStep } from '@trapline/schemas';
import { isolated, type Isolated } from '../../../../test/harness.ts';
import { DeletionSource } from './source.ts';

// The deleter's chunks against Postgres: each walk reads every event once, in the order an index
// keeps (no sort of the or the partition's events per chunk), and a walk begun by an
// earlier version, whose cursor is a bare event id, goes on in the order it began in.

const DAY = 86_400_000;
const now = Date.now();
const old = now - 100 * DAY;
let env: Isolated;

/** Event ids that sort in another order than the events' received times. */
const id = (n: number) => `${(97 - n).toString(16).padStart(2, '0')}${'0'.repeat(30)}`;

interface Row { project: number; group: number; id: string; at: number; tags: number }
const rows: Row[] = [];
// Issue 10 (project 1): nine events, two of them in the same millisecond. Issue 20 (project 2): three.
for (let n = 0; n < 9; n++) rows.push({ project: 1, group: 10, id: id(n), at: old + Math.floor(n / 2) * 1000, tags: n % 3 });
for (let n = 9; n < 12; n++) rows.push({ project: 2, group: 20, id: id(n), at: old + n * 1000, tags: 1 });
// A recent event: not expired.
rows.push({ project: 1, group: 10, id: id(12), at: now - 1000, tags: 0 });

const byTime = (a: Row, b: Row) => a.at - b.at || (a.id < b.id ? -1 : 1);

beforeAll(async () => {
  env = await isolated();
  await ensureEventPartitions(env.pool, [old, now - 1000], 86400, []);
  for (const row of rows) {
    const tags = Array.from({ length: row.tags }, (_, n) => `k${n}`);
    await env.pool.query(
      `INSERT INTO events (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, payload, tag_keys, tag_values)
       VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), now(), 'error', 'node', 't', '{}', $5, $5)`,
      [row.project, row.id, row.group, row.at, tags],
    );
    await env.pool.query('INSERT INTO event_ids (project_id, event_id, received_at) VALUES ($1, $2, to_timestamp($3 / 1000.0))', [row.project, row.id, row.at]);
  }
});

afterAll(async () => {
  await env?.dispose();
});

const step = (fields: Partial<DeletionStep>): DeletionStep =>
  ({ kind: 'group', projectId: 1, groupId: 10, eventId: null, cursor: null, cutoff: null, chunks: 0, eventsRemoved: 0, rowsRemoved: 0, ...fields }) as DeletionStep;

/** Every chunk of a walk, from the step's cursor to a short chunk (or the expiry's last). */
async function walk(source: DeletionSource, first: DeletionStep, chunkSize: number) {
  const chunks: { eventIds: string[]; rows: number; projectId?: number }[] = [];
  let current = first;
  for (;;) {
    const found = await source.nextChunk(current, chunkSize);
    chunks.push({ eventIds: found.eventIds, rows: found.rows, projectId: found.projectId });
    if (found.final ?? found.eventIds.length < chunkSize) return chunks;
    current = { ...current, cursor: found.cursor };
  }
}

/** A pool that keeps the text and values of every query it is given. */
function recording(pool: Pool): { pool: Pool; queries: { text: string; values: unknown[] }[] } {
  const queries: { text: string; values: unknown[] }[] = [];
  const proxy = { query: (text: string, values: unknown[]) => (queries.push({ text, values }), pool.query(text, values)) } as unknown as Pool;
  return { pool: proxy, queries };
}

interface PlanNode { 'Node Type': string; Plans?: PlanNode[] }

/** Whether Postgres, told to avoid sorting, still sorts for the query: no index gives its order. */
async function sorts(query: { text: string; values: unknown[] }): Promise<boolean> {
  const client = await env.pool.connect();
  try {
    await client.query('SET enable_sort = off');
    const plan = (await client.query(`EXPLAIN (FORMAT JSON) ${query.text}`, query.values)).rows[0]['QUERY PLAN'];
    const types = (node: PlanNode): string[] => [node['Node Type'], ...(node.Plans ?? []).flatMap(types)];
    return types(plan[0].Plan).some((type) => type.includes('Sort'));
  } finally {
    client.release();
  }
}

describe('an issue deletion', () => {
  it('reads each of its events once, in the order they were received, with their tag rows', async () => {
    const chunks = await walk(new DeletionSource(env.pool), step({}), 2);
    const expected = rows.filter((row) => row.group === 10).sort(byTime);
    expect(chunks.flatMap((chunk) => chunk.eventIds)).toEqual(expected.map((row) => row.id));
    expect(chunks.reduce((sum, chunk) => sum + chunk.rows, 0)).toBe(expected.reduce((sum, row) => sum + 1 + row.tags, 0));
  });

  it('reads along the index on the issue and received time, without sorting its events', async () => {
    const { pool, queries } = recording(env.pool);
    await new DeletionSource(pool).nextChunk(step({ cursor: `${old + 1000}:${id(2)}` }), 2);
    expect(queries).toHaveLength(1);
    expect(await sorts(queries[0]!)).toBe(false);
  });

  it('goes on in event id order when an earlier version began it by event id', async () => {
    const ids = rows.filter((row) => row.group === 10).map((row) => row.id).sort();
    const chunks = await walk(new DeletionSource(env.pool), step({ cursor: ids[2]! }), 3);
    expect(chunks.flatMap((chunk) => chunk.eventIds)).toEqual(ids.slice(3));
  });
});

describe('a retention run', () => {
  it('reads a project\'s events received before the cutoff, oldest first', async () => {
    const chunks = await walk(new DeletionSource(env.pool), step({ kind: 'retention', groupId: null, cutoff: now - 50 * DAY }), 4);
    expect(chunks.flatMap((chunk) => chunk.eventIds)).toEqual(rows.filter((row) => row.project === 1 && row.at < now - 50 * DAY).sort(byTime).map((row) => row.id));
  });
});

describe('an event deletion', () => {
  it('finds the event by its id and counts its rows', async () => {
    const row = rows.find((candidate) => candidate.tags === 2)!;
    const found = await new DeletionSource(env.pool).nextChunk(step({ kind: 'event', groupId: null, eventId: row.id }), 100);
    expect(found).toEqual({ eventIds: [row.id], rows: 3, cursor: null });
    const missing = await new DeletionSource(env.pool).nextChunk(step({ kind: 'event', groupId: null, eventId: 'f'.repeat(32) }), 100);
    expect(missing).toEqual({ eventIds: ['f'.repeat(32)], rows: 0, cursor: null });
  });
});

describe('an expiry', () => {
  const expiry = (cursor: string | null) => step({ kind: 'expiry', projectId: 0, groupId: null, cutoff: now - 50 * DAY, cursor });

  it('reads every expired event once, one project per chunk, in the order of the events\' key', async () => {
    const chunks = await walk(new DeletionSource(env.pool), expiry(null), 4);
    const expired = rows.filter((row) => row.at < now - 50 * DAY).sort((a, b) => a.project - b.project || byTime(a, b));
    expect(chunks.flatMap((chunk) => chunk.eventIds)).toEqual(expired.map((row) => row.id));
    for (const chunk of chunks) expect(new Set(chunk.eventIds.map((event) => rows.find((row) => row.id === event)!.project))).toEqual(new Set([chunk.projectId]));
    expect(chunks.map((chunk) => chunk.eventIds.length)).toEqual([4, 4, 1, 3]);
  });

  it('reads along the events key, without sorting the partitions\' events', async () => {
    const { pool, queries } = recording(env.pool);
    await new DeletionSource(pool).nextChunk(expiry(`1:${old}:${id(0)}`), 4);
    expect(await sorts(queries[0]!)).toBe(false);
  });

  it('goes on in (project, event id) order when an earlier version began it so', async () => {
    const expired = rows.filter((row) => row.at < now - 50 * DAY).sort((a, b) => a.project - b.project || (a.id < b.id ? -1 : 1));
    const chunks = await walk(new DeletionSource(env.pool), expiry(`1:${expired[1]!.id}`), 4);
    expect(chunks.flatMap((chunk) => chunk.eventIds)).toEqual(expired.slice(2).map((row) => row.id));
  });
});
