import { Appender, type Config, type ConsumeLoop, createPool, type Kafka, type Logger, migrate, type Pool } from '@trapline/runtime';
import { Codec, PROJECTED_TOPICS, topicNames } from '@trapline/schemas';
import { handoverLockName, startProjectorConsumer } from '../app.ts';
import { bulkPhase, type BulkPhaseResult } from './bulk-phase.ts';

// `trapline rebuild`: replays the retained log into fresh tables in a new schema, with a consumer
// group of its own, while the live projector keeps projecting into `public`. Once the rebuild has
// nearly caught up, the hand-over: it holds the live projector still (an advisory lock each of its
// batch transactions takes shared), finishes everything the live tables hold, and swaps the
// schemas in one transaction, so the API never sees a half-built state. The live projector then
// carries on in the rebuilt tables from its own committed offsets, applying again at most the
// records between those and where the rebuild stopped, which changes nothing (projection is
// idempotent, and a status change applied again cannot undo a later one).
//
// Phases: loading (the events topic, to the end offsets captured at the start, by the bulk path:
// COPY into tables without indexes, issues and tag values aggregated in memory and written once;
// bulk-phase.ts), indexing (the indexes and constraints built once), catching up (the per-batch
// path from where the bulk load stopped, the admin and audit topics from their start), swapping.

export interface RebuildOptions {
  config: Config;
  kafka: Kafka;
  logger: Logger;
  /** Keep the replaced tables in schema `replaced_<stamp>` instead of dropping them. */
  keepOld?: boolean;
  progress?: (line: string) => void;
  now?: () => number;
  /** Records left to project below which the hand-over starts. */
  handoverLag?: number;
  /** The longest the live projector is held still, waiting for the lock included; past it, the rebuild catches up again and retries. */
  handoverTimeoutMs?: number;
  /** Load the events topic by the bulk path first (default); false: every record by the per-batch path. */
  bulk?: boolean;
  /** Events the bulk path holds in memory at most (their ids); past it the per-batch path goes on. */
  bulkMaxEvents?: number;
  /**
   * Records of the events topic below which the bulk path is not worth its fixed cost (a consumer
   * group of its own to join, the indexes dropped and built again): the per-batch path takes them
   * in a few seconds.
   */
  bulkMinRecords?: number;
  /** Tag values the bulk path sums in memory at most (past it, over the events rows at the end). */
  bulkMaxTagValues?: number;
}

export interface RebuildResult {
  /** Records projected: the sum of the positions reached (offsets, so compacted-away records count too). */
  records: number;
  /** From start to end: schema creation, projection, hand-over, swap and the old tables' drop. */
  seconds: number;
  /** From the rebuild's consumer starting to the swap. */
  projectingSeconds: number;
  /** The bulk phase, when it ran: events loaded, seconds loading and indexing, partitions it left early and why. */
  bulk?: Omit<BulkPhaseResult, 'positions' | 'erasures'>;
}

/** Next offset to read, by `topic:partition`. */
type Positions = Map<string, number>;

const at = (topic: string, partition: number) => `${topic}:${partition}`;

/** The larger of the two positions of each partition. */
function furthest(a: Positions, b: Positions): Positions {
  const merged = new Map(a);
  for (const [key, offset] of b) merged.set(key, Math.max(offset, merged.get(key) ?? 0));
  return merged;
}

/** Records from `reached` up to `target`, summed over the partitions. */
function behind(target: Positions, reached: Positions): number {
  let sum = 0;
  for (const [key, offset] of target) sum += Math.max(0, offset - (reached.get(key) ?? 0));
  return sum;
}

type Admin = ReturnType<Kafka['admin']>;

async function endOffsets(admin: Admin, topics: string[]): Promise<Positions> {
  const ends: Positions = new Map();
  for (const topic of topics) for (const { partition, high } of await admin.fetchTopicOffsets(topic)) ends.set(at(topic, partition), Number(high));
  return ends;
}

/** A consumer group's committed offsets (partitions it never committed are left out). */
async function committed(admin: Admin, groupId: string, topics: string[]): Promise<Positions> {
  const offsets: Positions = new Map();
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
    for (const { partition, offset } of partitions) if (Number(offset) >= 0) offsets.set(at(topic, partition), Number(offset));
  }
  return offsets;
}

/** What the projector's transactions have applied in `schema` to `topics` (tables from before positions were kept: nothing). */
async function applied(pool: Pool, schema: string, topics: string[]): Promise<Positions> {
  try {
    const { rows } = await pool.query<{ topic: string; partition: number; next_offset: number }>(
      `SELECT topic, partition, next_offset FROM "${schema}".projector_positions WHERE topic = ANY($1)`,
      [topics],
    );
    return new Map(rows.map((row) => [at(row.topic, row.partition), row.next_offset]));
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return new Map(); // undefined table
    throw error;
  }
}

/** Hand-overs tried before giving up (each gives the live projector a turn before the next). */
const MAX_HANDOVER_ATTEMPTS = 20;

/** A rebuild that cannot finish: exits with status 2 and this message. */
export class RebuildError extends Error {}

const sum = (positions: Positions) => [...positions.values()].reduce((total, offset) => total + offset, 0);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function rebuild({ config, kafka, logger, keepOld = false, progress = () => undefined, now = Date.now, handoverLag = 2000, handoverTimeoutMs = 10000, bulk = true, bulkMaxEvents, bulkMinRecords = 20000, bulkMaxTagValues }: RebuildOptions): Promise<RebuildResult> {
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const sources = PROJECTED_TOPICS.map((id) => topics[id]);
  const stamp = String(now());
  const schema = `rebuild_${stamp}`;
  const groupId = `${config.projectorGroup}.rebuild.${stamp}`;
  const started = now();
  await migrate(config.DATABASE_URL, logger, schema);
  // Nothing in the new schema is used before the swap (a rebuild stopped halfway is started again),
  // so its commits need not wait for the disk: the swap itself commits synchronously.
  // Eight: the bulk load runs up to six COPYs at once (two batches of three tables), the index builds two.
  const pool: Pool = createPool(config.DATABASE_URL, 8, schema, { synchronous_commit: 'off' });
  const control: Pool = createPool(config.DATABASE_URL, 2);
  const admin = kafka.admin();
  const codec = new Codec();
  let appender: Appender | undefined;
  let consumer: ConsumeLoop | undefined;
  let swapped = false;
  let final: Positions = new Map();
  let projectingSeconds = 0;
  let bulkFigures: RebuildResult['bulk'];
  try {
    await admin.connect();
    appender = await Appender.connect(kafka, codec);
    progress(`rebuilding ${behind(await endOffsets(admin, sources), new Map())} records into schema ${schema}; the projector keeps running`);
    const projectingFrom = now();
    const ranges = bulk ? (await admin.fetchTopicOffsets(topics.events)).map(({ partition, low, high }) => ({ partition, from: BigInt(low), end: BigInt(high) })) : [];
    const total = ranges.reduce((records, range) => records + Number(range.end - range.from), 0);
    if (bulk && total >= bulkMinRecords) {
      let shown = 0;
      progress(`loading: ${total} records of ${topics.events} by the bulk path (COPY, no indexes until the end)`);
      try {
        const loaded = await bulkPhase({
          kafka, pool, codec, topic: topics.events, ranges, partitionWidthSeconds: config.EVENTS_PARTITION_SECONDS,
          ...(bulkMaxEvents === undefined ? {} : { maxEvents: bulkMaxEvents }),
          ...(bulkMaxTagValues === undefined ? {} : { maxTagValues: bulkMaxTagValues }),
          onIndexing: () => progress('indexing: building the indexes and constraints once'),
          onRecords: (records) => {
            if (now() - shown < 500) return;
            shown = now();
            const rate = records / Math.max(0.001, (now() - started) / 1000);
            progress(`loading: ${records} records, ${rate.toFixed(0)} records/s, lag ${total - records}, ETA ${rate > 0 ? ((total - records) / rate).toFixed(0) : '?'} s`);
          },
        });
        const { positions: _positions, erasures: _erasures, ...figures } = loaded;
        bulkFigures = figures;
        progress(`indexing: done; loading took ${loaded.loadingSeconds.toFixed(1)} s, indexing ${loaded.indexingSeconds.toFixed(1)} s`);
        for (const stop of loaded.stopped) progress(`loading: partition ${stop.partition} goes on from offset ${stop.offset} by the per-batch path (${stop.reason})`);
        // The per-batch path continues from where the bulk load stopped.
        if (loaded.erasures.length > 0) await appender.append(topics.events, [...new Set(loaded.erasures)].map((key) => ({ key, tombstone: true as const })));
        const partitions = [...loaded.positions.entries()].map(([partition, offset]) => ({ partition, offset: String(offset) }));
        if (partitions.length > 0) await admin.setOffsets({ groupId, topic: topics.events, partitions });
      } catch (error) {
        // Postgres refused a row the per-batch path would dead-letter (or the load failed otherwise):
        // the schema starts again empty and every record goes by the per-batch path.
        progress(`loading: the bulk load stopped (${(error as Error).message}); rebuilding record by record instead`);
        await control.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await migrate(config.DATABASE_URL, logger, schema);
        bulkFigures = undefined;
      }
    }
    const phase = 'catching up';
    const projecting = await startProjectorConsumer({ kafka, pool, codec, appender, groupId, topics: sources, dlqTopic: topics.eventsDlq, logger, partitionWidthSeconds: config.EVENTS_PARTITION_SECONDS });
    consumer = projecting;
    /** Where the rebuild stands: its transactions' positions, or its group's offsets past transaction markers. */
    const reached = async () => furthest(await applied(control, schema, sources), await committed(admin, groupId, sources));
    let attempts = 0;
    /** Between hand-overs the live projector gets its turn. */
    const letLiveRun = () => sleep(Math.max(500, 2 * handoverTimeoutMs));
    while (!swapped) {
      const position = await reached();
      const remaining = behind(await endOffsets(admin, sources), position);
      const projected = sum(position);
      const rate = projected / Math.max(0.001, (now() - started) / 1000);
      progress(`${phase}: ${projected} records, ${rate.toFixed(0)} records/s, lag ${remaining}, ETA ${rate > 0 ? (remaining / rate).toFixed(0) : '?'} s`);
      if (remaining > handoverLag) {
        await sleep(500);
        continue;
      }
      if (attempts === MAX_HANDOVER_ATTEMPTS) throw new RebuildError(`no hand-over in ${attempts} attempts: the live projector kept moving ahead of the rebuild; try again when traffic is lower`);
      attempts += 1;
      // Services upgraded during a long rebuild may have added migrations: the new schema gets them too.
      await migrate(config.DATABASE_URL, logger, schema);

      // The hand-over. Holding the lock exclusively, no live batch is in its transaction (one that
      // was has committed), and the next waits: what the live tables hold is settled. Everything
      // below, the wait for the lock included, fits in `handoverTimeoutMs`, well inside the live
      // consumers' session timeout (a member held in a batch sends no heartbeat).
      const deadline = now() + handoverTimeoutMs;
      const lock = await control.connect();
      let broken: unknown;
      try {
        await lock.query(`SET lock_timeout = ${Math.max(1, Math.round(handoverTimeoutMs / 2))}`);
        try {
          await lock.query('SELECT pg_advisory_lock(hashtext($1))', [handoverLockName('public')]);
        } catch (error) {
          if ((error as { code?: string }).code !== '55P03') throw error; // lock_not_available: a live batch is taking long
          progress('a live projector batch held the hand-over lock too long; trying again later');
          await lock.query('RESET lock_timeout');
          await letLiveRun();
          continue;
        }
        await lock.query('RESET lock_timeout');
        const target = furthest(await applied(control, 'public', sources), await committed(admin, config.projectorGroup, sources));
        while (behind(target, await reached()) > 0 && now() < deadline) await sleep(50);
        if (behind(target, await reached()) === 0) {
          await projecting.stop(); // waits for the batch in hand: nothing more is written to the new schema
          consumer = undefined;
          final = await reached();
          progress('swapping: the rebuilt schema becomes public');
          await lock.query('BEGIN');
          try {
            await lock.query(`ALTER SCHEMA public RENAME TO "replaced_${stamp}"`);
            await lock.query(`ALTER SCHEMA "${schema}" RENAME TO public`);
            await lock.query('COMMIT');
          } catch (error) {
            await lock.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
          swapped = true;
          projectingSeconds = (now() - projectingFrom) / 1000;
        }
      } finally {
        // A connection that could not give the lock back is closed, which gives it back.
        await lock.query('SELECT pg_advisory_unlock_all()').catch((error: unknown) => (broken = error));
        lock.release(broken instanceof Error ? broken : undefined);
      }
      if (!swapped) {
        progress('the live projector moved on during the hand-over; catching up again');
        await letLiveRun();
      }
    }

    // A stopped projector starts again where the rebuild stopped; a running one is a member of its
    // group (whose offsets Kafka moves only while it is empty) and carries on from where it is.
    const [live] = (await admin.describeGroups([config.projectorGroup])).groups;
    if (!live || live.members.length === 0) {
      for (const topic of sources) {
        const partitions = [...final.entries()].filter(([key]) => key.startsWith(`${topic}:`)).map(([key, offset]) => ({ partition: Number(key.slice(topic.length + 1)), offset: String(offset) }));
        if (partitions.length > 0) await admin.setOffsets({ groupId: config.projectorGroup, topic, partitions });
      }
    }
    if (!keepOld) {
      await control.query(`DROP SCHEMA "replaced_${stamp}" CASCADE`).catch((error: unknown) =>
        progress(`the replaced tables could not be dropped (${(error as Error).message}): drop schema replaced_${stamp} by hand`),
      );
    }
  } finally {
    await consumer?.stop();
    await appender?.close();
    await pool.end();
    // A rebuild that stopped before its swap leaves nothing behind: it is started again from scratch.
    if (!swapped) await control.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await control.end();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  const seconds = (now() - started) / 1000;
  progress(`done: ${sum(final)} records in ${seconds.toFixed(1)} s; the projector continues from the rebuilt state`);
  return { records: sum(final), seconds, projectingSeconds, ...(bulkFigures ? { bulk: bulkFigures } : {}) };
}
