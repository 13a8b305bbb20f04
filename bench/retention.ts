import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { ensureEventPartitions, type PoolClient } from '@trapline/runtime';
import { runCli, startTrapline } from '../test/harness.ts';
import { until, type Scenario } from './report.ts';

// Retention at volume: 1,000,000 events of a project that keeps the default 90 days, received
// 100 to 109 days ago, expire with their daily partitions; beside them, in the same run, 50,000
// events of a project keeping 30 days leave row by row (its own run, the way every retention went
// before partitions), and 10,000 events of today stay. Timed from the deleter's start (its scheduler
// asks at once) to each deletion done in the read model; the database size before and after.
//
// The rows are written with COPY, as the projector would have written them (issues, their tag
// values, events, tags, the event directory), and the log holds no EventReceived for them: the expiry's work on the log
// is the same either way (a null-value record per event, on the project's partition).

const EXPIRED = 1_000_000;
const ROW_BY_ROW = 50_000;
const KEPT = 10_000;
const DAYS = 10;
const DAY_MS = 86_400_000;
const TAGS = [['environment', 'bench'], ['region', 'eu']] as const;
const PHASE_LIMIT_MS = 10 * 60 * 1000;

interface Batch {
  projectId: number;
  count: number;
  groups: number;
  /** Received time of the n-th event (epoch ms). */
  at: (n: number) => number;
  prefix: string;
}

const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
const eventId = (batch: Batch, n: number) => `${batch.prefix}${n.toString(16).padStart(32 - batch.prefix.length, '0')}`;
const groupOf = (batch: Batch, n: number) => batch.projectId * 1_000_000 + (n % batch.groups);

function payload(batch: Batch, n: number): string {
  const at = batch.at(n) / 1000;
  return JSON.stringify({
    event_id: eventId(batch, n), timestamp: at, received: at, level: 'error', platform: 'node', release: 'bench@1.0.0', environment: 'bench',
    tags: TAGS, exception: { values: [{ type: `TypeError${n % batch.groups}`, value: "Cannot read properties of undefined (reading 'id')", stacktrace: { frames: [{ function: 'handler', filename: '/srv/app/src/module.js', lineno: 10, in_app: true }] } }] },
  });
}

async function copy(client: PoolClient, sql: string, lines: Iterable<string>): Promise<void> {
  await pipeline(Readable.from(lines), client.query(copyFrom(sql)));
}

async function load(client: PoolClient, batches: Batch[]): Promise<void> {
  await ensureEventPartitions(client, batches.flatMap((batch) => Array.from({ length: batch.count }, (_, n) => batch.at(n)).filter((at, n) => n === 0 || Math.floor(at / DAY_MS) !== Math.floor(batch.at(n - 1) / DAY_MS))), 86400, []);
  // Tags as the projector writes them: keys and values, in two arrays (plain strings: no quoting to escape).
  const tagArrays = `{${TAGS.map(([key]) => `"${key}"`).join(',')}}\t{${TAGS.map(([, value]) => `"${value}"`).join(',')}}`;
  await copy(client, 'COPY events (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, release, environment, tag_keys, tag_values, payload) FROM STDIN', (function* () {
    for (const batch of batches) for (let n = 0; n < batch.count; n++) {
      const at = new Date(batch.at(n)).toISOString();
      yield `${batch.projectId}\t${eventId(batch, n)}\t${groupOf(batch, n)}\t${at}\t${at}\terror\tnode\tTypeError${n % batch.groups}\tbench@1.0.0\tbench\t${tagArrays}\t${escape(payload(batch, n))}\n`;
    }
  })());
  await copy(client, 'COPY event_ids (project_id, event_id, received_at) FROM STDIN', (function* () {
    for (const batch of batches) for (let n = 0; n < batch.count; n++) yield `${batch.projectId}\t${eventId(batch, n)}\t${new Date(batch.at(n)).toISOString()}\n`;
  })());
  // The issues, counted from their events as the projector counts them.
  await client.query(
    `INSERT INTO groups (id, project_id, short_id, title, culprit, type, metadata, level, platform, first_seen, last_seen, times_seen, grouping_version)
     SELECT group_id, project_id, group_id, min(title), 'handler(module)', 'error', '{}', 'error', 'node', min(received_at), max(received_at), count(*), 'bench'
     FROM events GROUP BY group_id, project_id`,
  );
  await client.query("INSERT INTO group_hashes (project_id, hash, group_id) SELECT project_id, 'h' || id, id FROM groups");
  await client.query(
    `INSERT INTO group_tag_values (group_id, project_id, key, value, times_seen, first_seen, last_seen)
     SELECT e.group_id, min(e.project_id), u.key, u.value, count(*), min(e.received_at), max(e.received_at)
     FROM events e CROSS JOIN LATERAL unnest(e.tag_keys, e.tag_values) AS u(key, value) GROUP BY e.group_id, u.key, u.value`,
  );
  await client.query('ANALYZE');
}

export async function retentionScenario(): Promise<Scenario> {
  const trapline = await startTrapline({ LOG_LEVEL: 'warn', RETENTION_CHECK_SECONDS: '1' });
  try {
    // No scheduler while the rows go in.
    await trapline.services.stop('deleter');
    const { projectId, organizationSlug } = trapline.defaults;
    const short = projectId + 1;
    for (const args of [['projects', 'create', organizationSlug, 'short-lived', '--id', String(short)], ['projects', 'retention', String(short), '30']]) {
      const result = runCli(trapline.env, args);
      if (result.status !== 0) throw new Error(`trapline ${args.join(' ')}: ${result.stderr}`);
    }
    const now = Date.now();
    const oldest = now - (100 + DAYS) * DAY_MS;
    const batches: Batch[] = [
      { projectId, count: EXPIRED, groups: 1000, prefix: 'a', at: (n) => oldest + Math.floor((n * DAYS * DAY_MS) / EXPIRED) },
      { projectId: short, count: ROW_BY_ROW, groups: 100, prefix: 'b', at: (n) => now - 40 * DAY_MS - n },
      // Today's events of ten issues that also have expired ones: those issues stay, recounted.
      { projectId, count: KEPT, groups: 10, prefix: 'c', at: (n) => now - 60_000 + n },
    ];
    const scalar = async (sql: string, params: unknown[] = []) => Number(((await trapline.pool.query(sql, params)).rows[0] as { n: string | number } | undefined)?.n ?? 0);
    await until('the retention of the short-lived project projected', async () => (await scalar('SELECT count(*) AS n FROM project_retention WHERE project_id = $1', [short])) === 1, 60_000);

    const client = await trapline.pool.connect();
    const copyStart = Date.now();
    try {
      await load(client, batches);
    } finally {
      client.release();
    }
    const copySeconds = (Date.now() - copyStart) / 1000;
    const directoryBytes = "SELECT pg_total_relation_size('event_ids') AS n";
    const eventsBytes = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass";
    await trapline.pool.query('CHECKPOINT');
    const before = { database: await scalar('SELECT pg_database_size(current_database()) AS n'), events: await scalar(eventsBytes), partitions: await scalar("SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'events'::regclass"), directory: await scalar(directoryBytes) };

    const start = Date.now();
    await trapline.services.start('deleter');
    const done = (kind: string) => async () => (await scalar("SELECT count(*) AS n FROM deletions WHERE kind = $1 AND state = 'done'", [kind])) === 1;
    const finished: Record<string, number> = {};
    await until('both retention deletions done', async () => {
      for (const kind of ['expiry', 'retention']) if (finished[kind] === undefined && (await done(kind)())) finished[kind] = (Date.now() - start) / 1000;
      return Object.keys(finished).length === 2;
    }, PHASE_LIMIT_MS);

    // The emptied partitions' tables are dropped just after the expiry commits.
    const expiredPartitions = () => scalar("SELECT count(*) AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass AND c.relname < $1", [`events_${Math.floor((now - 90 * DAY_MS) / 1000)}`]);
    await until('the expired partitions dropped', async () => (await expiredPartitions()) === 0, 60_000);
    const left = await scalar('SELECT count(*) AS n FROM events');
    const recounted = await scalar('SELECT sum(times_seen) AS n FROM groups');
    if (left !== KEPT || recounted !== KEPT) throw new Error(`after retention: ${left} events and issues counting ${recounted}, expected ${KEPT}`);
    // Postgres gives a dropped table's files back to the operating system once a checkpoint has
    // passed (the unlink requests are carried out after it): two make sure.
    await trapline.pool.query('CHECKPOINT');
    await trapline.pool.query('CHECKPOINT');
    const after = { database: await scalar('SELECT pg_database_size(current_database()) AS n'), events: await scalar(eventsBytes), partitions: await scalar("SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'events'::regclass"), directory: await scalar(directoryBytes) };

    const mb = (bytes: number) => Math.round(bytes / 1048576);
    const expiry = { events: EXPIRED, seconds: +finished.expiry!.toFixed(1), perSecond: Math.round(EXPIRED / finished.expiry!) };
    const rowByRow = { events: ROW_BY_ROW, seconds: +finished.retention!.toFixed(1), perSecond: Math.round(ROW_BY_ROW / finished.retention!) };
    const copyRate = Math.round((EXPIRED + ROW_BY_ROW + KEPT) / copySeconds);
    return {
      name: 'retention',
      figures: { expiry, rowByRow, copy: { seconds: +copySeconds.toFixed(1), perSecond: copyRate }, sizeBytes: { before, after }, expiryChunkSize: trapline.config.EXPIRY_CHUNK_SIZE, chunkSize: trapline.config.DELETION_CHUNK_SIZE },
      rows: [
        [`expiring ${EXPIRED} events (${DAYS} daily partitions)`, `${expiry.seconds} s (${expiry.perSecond} events/s)`, 'target 60 s', +(60 / expiry.seconds).toFixed(2) + '', `deleter start to done: a null-value record per event, then the partitions dropped; ${KEPT} newer events of the same issues kept and recounted`],
        [`row-by-row retention of ${ROW_BY_ROW} events (a project keeping less)`, `${rowByRow.seconds} s (${rowByRow.perSecond} events/s)`, 'expiry rate', +(rowByRow.perSecond / expiry.perSecond).toFixed(3) + '', `chunks of ${trapline.config.DELETION_CHUNK_SIZE}, running beside the expiry`],
        ['database size', `${mb(before.database)} MB → ${mb(after.database)} MB`, '', '', `after a checkpoint; events and tags partitions ${mb(before.events)} MB → ${mb(after.events)} MB (${before.partitions} → ${after.partitions} partitions, no VACUUM); the event_ids directory keeps its ${mb(after.directory)} MB for reuse until VACUUM`],
        ['COPY of all those rows (set-up)', `${copySeconds.toFixed(1)} s (${copyRate} events/s)`, '', '', 'events, tags, directory and issues, the writes the expiry undoes'],
      ],
    };
  } finally {
    await trapline.dispose();
  }
}
