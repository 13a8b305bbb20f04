import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { ensureEventPartitions, inTransaction, type PartitionRange, type Pool, type PoolClient } from '@trapline/runtime';
import { eventKeys, SCHEMA_HEADER, TOPIC_SPECS, VERSION_HEADER, type Codec, type DomainRecord, type GroupStatusChanged } from '@trapline/schemas';
import { shortIdNumber } from '../domain/issue.ts';
import { NO_TOMBSTONES, pairKey, placeEvent } from '../domain/placement.ts';
import { reopens, type Resolution } from '../domain/resolution.ts';
import { type BulkEvent, bulkEventAt, type BulkRows, bulkEvent } from './bulk-parse.ts';
import type { OtherRecord, ReadBatch } from './bulk-read.ts';
import { readEvent } from '../domain/received.ts';
import { applyRecord } from '../read-models/index.ts';
import { groupOnResolvedFrames } from '../read-models/resolved-frames.ts';
import { BinaryRows, ChunkPool, copyFromStdin, CopyRows, CopySegments, type RowChunks } from './copy-rows.ts';
import { EventIds } from '../rebuild/event-ids.ts';
import { TagSums } from './tag-sums.ts';
import { EVENT_COLUMNS } from '../read-models/event-columns.ts';
import { EVENT_TAGS } from '../read-models/tag-values.ts';

// The bulk path of `trapline rebuild`: the events topic projected into a fresh schema that nobody
// reads until the swap. What the per-batch path reads back from the read model before each run
// (seen events, live hashes, short ids, statuses, the releases' first appearance) is kept in
// memory instead; events (with their tags) and their directory go by COPY into tables stripped of
// their indexes and constraints; issues are written once at the end from memory, their tag values
// too, summed as the events were placed (tag-sums.ts; past its bound, by one INSERT … SELECT …
// GROUP BY over the events' tags), each in one statement (so the user_count trigger fires once),
// and the indexes and constraints are built last, a few at once.
//
// Each partition is taken in log order, record by record with the per-batch path's own decisions
// (domain/placement.ts, resolution.ts, issue.ts): the same rows as applying the records one at a
// time. A record the bulk path does not hold in memory (a deletion, an event deletion or their
// purges, an expiry's last chunk, anything unreadable or refused) ends the bulk load of its
// partition there: the per-batch path takes over from it, on the built tables, with all its
// handling (dead letters included). So does the memory bound: past `maxEvents` every partition
// stops where it is.

/** Tables loaded without their indexes and constraints (both rebuilt by `finish`). */
const BULK_TABLES = ['events', 'event_ids', 'group_tag_values', 'groups', 'group_hashes'];

/** Records the bulk path applies itself; any other ends its partition's bulk load. */
type BulkRecord = Extract<DomainRecord, { name: 'EventReceived' | 'GroupStatusChanged' | 'RetentionRequested' | 'EventsPurged' | 'DeletionFailed' | 'ArtifactBundleAssembled' | 'AlertDeliveryChanged' }>;

/** Applied as the per-batch path does, straight to tables the bulk load leaves indexed. */
const PASSED_THROUGH = new Set<string>(['DeletionFailed', 'ArtifactBundleAssembled', 'AlertDeliveryChanged', 'RetentionRequested']);

interface Group {
  id: number;
  projectId: number;
  shortId: number;
  type: string;
  platform: string;
  logger: string | null;
  groupingVersion: string;
  // From the last event in log order.
  level: string;
  title: string;
  culprit: string;
  /** as JSON (the parse writes it) */
  metadata: string;
  first: number;
  last: number;
  n: number;
  status: string;
  statusOffset: number;
  firstRelease: string | null;
  lastRelease: string | null;
  inRelease: string | null;
  inNextRelease: string | null;
  resolvedAt: number | null;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** Rows waiting for their COPY. */
interface Buffered {
  events: BinaryRows;
  eventIds: BinaryRows;
  /**
   * The time partitions the rows fall in, by number, each with the first time seen in it (a set of
   * every time boxed a number per event). The rebuild's schema has partitions of one width only,
   * so one time stands for its whole partition.
   */
  partitions: Map<number, number>;
}

const newBuffer = (pool: ChunkPool): Buffered => ({ events: new BinaryRows(pool), eventIds: new BinaryRows(pool), partitions: new Map() });

export interface BulkLoaderOptions {
  pool: Pool;
  codec: Codec;
  /** The events topic: its records are the ones loaded. */
  topic: string;
  partitionWidthSeconds?: number;
  /** Events held in memory at most (their ids, for duplicates); past it the per-batch path takes over. */
  maxEvents?: number;
  /** Events per COPY. */
  copyRows?: number;
  /** Tag values summed in memory at most (then they are summed over the events rows at the end). */
  maxTagValues?: number;
}

export interface BulkFigures {
  events: number;
  groups: number;
  /** Tags of the events loaded (carried in their rows). */
  tags: number;
  /** Partitions whose bulk load ended before their end, with the reason. */
  stopped: { partition: number; offset: number; reason: string }[];
  /** Seconds: loading (reading, deciding, COPY), then the final writes and index builds. */
  loadingSeconds: number;
  indexingSeconds: number;
  /** Seconds each table's COPYs took (summed: up to four run at once), and the reading waited for them. */
  copySeconds: { events: number; eventIds: number };
  waitSeconds: number;
  /** Seconds of writing the tag values. */
  aggregateSeconds: number;
  /** How the tag values were summed: in memory, or over the events rows (and why). */
  tagValues: string;
}

export class BulkLoader {
  private readonly pool: Pool;
  private readonly codec: Codec;
  private readonly topic: string;
  private readonly widthSeconds: number;
  private readonly maxEvents: number;
  private readonly copyRows: number;
  private readonly carried = new Set<string>(TOPIC_SPECS.events.records);
  private readonly partitions: PartitionRange[] = [];
  /**
   * Per project, the ids of its stored events (duplicates are skipped as the per-batch path does),
   * in typed arrays (rebuild/event-ids.ts: 16 bytes an id and the table's slack, against about 80
   * for a Set of the decoded strings, and nothing for the garbage collector to walk).
   */
  private readonly seen = new Map<number, EventIds>();
  /** `project/hash` → its group. */
  private readonly hashes = new Map<string, number>();
  private readonly groups = new Map<number, Group>();
  /** `project/short id` taken. */
  private readonly shortIds = new Set<string>();
  /** `project/release tag value` → when it first appeared (the min of its tag values' first seen). */
  private readonly releasesSeen = new Map<string, number>();
  /** Projects with artifact bundles: their events may group on resolved frames. */
  private readonly withBundles = new Set<number>();
  private expiredBefore: number | null = null;
  /** Next offset per partition (where each stopped, or the next record to take). */
  private readonly next = new Map<number, number>();
  private readonly stops = new Map<number, { offset: number; reason: string }>();
  /** The COPYs' chunks, used again once their COPY is done. */
  private readonly chunks = new ChunkPool();
  private buffer = newBuffer(this.chunks);
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private readonly dropped: { table: string; name: string; constraint: string | null; definition: string }[] = [];
  private readonly startedAt = Date.now();
  private loadingSeconds = 0;
  private tags = 0;
  /** Where the loading's time went: each table's COPYs (summed over those in flight), and the reading held back by them. */
  private readonly copySeconds = { events: 0, eventIds: 0 };
  private waitSeconds = 0;
  private aggregateSeconds = 0;
  /** The tag values, summed as the events are placed (tag-sums.ts); the aggregate over the events rows runs if they were given up. */
  private readonly tagSums: TagSums;
  private events = 0;
  /** Keys of events refused as expired on arrival: erased from the log once the rebuild has them. */
  readonly erasures: string[] = [];

  constructor(options: BulkLoaderOptions) {
    this.pool = options.pool;
    this.codec = options.codec;
    this.topic = options.topic;
    this.widthSeconds = options.partitionWidthSeconds ?? 86400;
    this.maxEvents = options.maxEvents ?? 4_000_000;
    this.copyRows = options.copyRows ?? 4000;
    this.tagSums = new TagSums(options.maxTagValues);
  }

  /** Strips the bulk tables of their indexes and constraints, remembering each to build it again. */
  async prepare(): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      const { rows } = await db.query<{ table: string; name: string; constraint: string | null; definition: string; partitioned: boolean }>(
        `SELECT t.relname AS table, i.relname AS name, c.conname AS constraint, t.relkind = 'p' AS partitioned,
           CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.oid) ELSE pg_get_constraintdef(c.oid) END AS definition
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
         LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid AND c.contype IN ('p', 'u')
         WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1) AND NOT i.relispartition
         ORDER BY t.relname, i.relname`,
        [BULK_TABLES],
      );
      for (const row of rows) {
        // An index on a partitioned table is defined ON ONLY the parent: built again, it goes to every partition.
        const definition = row.constraint === null ? row.definition.replace(/ ON ONLY /, ' ON ') : row.definition;
        this.dropped.push({ table: row.table, name: row.name, constraint: row.constraint, definition });
        await db.query(row.constraint === null ? `DROP INDEX "${row.name}"` : `ALTER TABLE "${row.table}" DROP CONSTRAINT "${row.constraint}"`);
      }
    });
  }

  /** Whether the partition's bulk load ended (the per-batch path takes it from `position`). */
  stopped(partition: number): boolean {
    return this.stops.has(partition);
  }

  /** Where each partition's records are taken by the per-batch path. */
  positions(): Map<number, number> {
    return new Map(this.next);
  }

  /** Marks the partition as read up to `nextOffset` (transaction markers, compacted gaps) unless it stopped. */
  reached(partition: number, nextOffset: number): void {
    if (!this.stops.has(partition) && nextOffset > (this.next.get(partition) ?? 0)) this.next.set(partition, nextOffset);
  }

  /** Ends every partition's bulk load where it is (the memory bound, or records that stay unread). */
  stopAll(reason: string, partitions: Iterable<number>): void {
    for (const partition of partitions) if (!this.stops.has(partition)) this.stops.set(partition, { offset: this.next.get(partition) ?? 0, reason });
  }

  private stop(partition: number, offset: number, reason: string): void {
    this.stops.set(partition, { offset, reason });
    this.next.set(partition, offset);
  }

  /** Takes one batch of a partition's records as a reader parsed them (bulk-read.ts), in its partition's order. */
  async take(batch: ReadBatch): Promise<void> {
    if (this.failure) throw this.failure;
    const { partition, offsets, kinds } = batch;
    this.tagSums.learn(partition, batch.tagPairs);
    // Where each event's tag numbers start in the batch's.
    const tagStarts = new Uint32Array(batch.events.tags.length + 1);
    for (let event = 0; event < batch.events.tags.length; event += 1) tagStarts[event + 1] = tagStarts[event]! + batch.events.tags[event]!;
    for (let index = 0; index < offsets.length && !this.stops.has(partition); index += 1) {
      const kind = kinds[index]!;
      if (kind >= 0) await this.takeEvent(partition, batch, kind, offsets[index]!, tagStarts);
      else await this.apply(partition, batch.others[-1 - kind]!, offsets[index]!);
    }
    this.reached(partition, batch.nextOffset);
  }

  /** Ends a partition's bulk load at `offset` (the per-batch path takes it from there). */
  leave(partition: number, offset: number, reason: string): void {
    if (!this.stops.has(partition)) this.stop(partition, offset, reason);
  }

  /** An EventReceived its reader parsed: the batch's event at `index`. */
  private async takeEvent(partition: number, batch: ReadBatch, index: number, offset: number, tagStarts: Uint32Array): Promise<void> {
    if (this.events >= this.maxEvents) return this.stop(partition, offset, `the memory bound: ${this.maxEvents} events held`);
    const rawMark = batch.raws[index]!;
    const entry = bulkEventAt(batch.events, index);
    if (rawMark < 0 && entry.mayHaveSourceMaps && this.withBundles.has(entry.projectId)) {
      // Its reader had not seen the project's bundles (they are on another partition): the per-batch path reads it again.
      return this.stop(partition, offset, 'an event of a project with artifact bundles came without its value');
    }
    const groupId = await this.event(entry, batch.rows, rawMark < 0 ? undefined : { version: batch.versions[index] ?? undefined, mark: rawMark }, offset);
    if (groupId !== undefined && batch.tagPairs) this.tagSums.add(partition, groupId, entry.projectId, batch.tagPairs.ids, tagStarts[index]!, tagStarts[index + 1]!, entry.receivedAt);
    this.next.set(partition, offset + 1);
  }

  /** Any other record, in log order: an event its reader refused, or a record of another kind. */
  private async apply(partition: number, other: OtherRecord, offset: number): Promise<void> {
    if ('reason' in other) return this.stop(partition, offset, other.reason);
    const { value, headers } = other;
    if (value === null) {
      // An erasure whose purge record already did the work (the per-batch path skips it too).
      this.next.set(partition, offset + 1);
      return;
    }
    const decoded = this.codec.decode(headers, Buffer.from(value.buffer, value.byteOffset, value.length));
    if (!decoded.ok || !this.carried.has(decoded.record.name)) return this.stop(partition, offset, decoded.ok ? `unexpected ${decoded.record.name}` : decoded.reason);
    const record = decoded.record as BulkRecord;
    if (record.name === 'GroupStatusChanged') {
      this.statusChange(record.value, offset);
    } else if (record.name === 'EventsPurged' && (record.value.expiredBefore === null || record.value.final)) {
      return this.stop(partition, offset, record.value.expiredBefore === null ? 'a deletion purged events' : 'an expiry emptied partitions');
    } else if (PASSED_THROUGH.has(record.name) || record.name === 'EventsPurged') {
      // Records touching tables the bulk load leaves alone (an expiry's intermediate chunk only counts its progress).
      const client = await this.pool.connect();
      try {
        await applyRecord(client, record, { partitionWidthSeconds: this.widthSeconds, partitions: [] }, offset);
      } finally {
        client.release();
      }
      if (record.name === 'ArtifactBundleAssembled') this.withBundles.add(record.value.projectId);
      if (record.name === 'RetentionRequested' && record.value.allProjects) this.expiredBefore = Math.max(this.expiredBefore ?? -Infinity, record.value.cutoff);
    } else {
      return this.stop(partition, offset, `${record.name} is left to the per-batch path`);
    }
    this.next.set(partition, offset + 1);
  }

  /**
   * `raw`: where its value lies in `rows` (between the mark and the next) when it may have to be
   * read again. Returns the issue it joined (undefined: not stored, a duplicate or expired).
   */
  private async event(entry: BulkEvent, rows: BulkRows, raw: { version: string | undefined; mark: number } | undefined, offset: number): Promise<number | undefined> {
    const projectId = entry.projectId;
    if (raw && this.withBundles.has(projectId)) {
      // Grouped on the symbolicated frames as the per-batch path groups it (rare: projects with
      // artifact bundles), its rows written again (the events row holds the title).
      const value = Buffer.from(rows.bytes.buffer, rows.bytes.byteOffset + rows.marks[raw.mark]!, rows.marks[raw.mark + 1]! - rows.marks[raw.mark]!);
      const headers = { [SCHEMA_HEADER]: 'EventReceived', ...(raw.version === undefined ? {} : { [VERSION_HEADER]: raw.version }) };
      const parsed = readEvent(this.codec, headers, value, offset);
      if (parsed.ok) {
        const client = await this.pool.connect();
        try {
          await groupOnResolvedFrames(client, [parsed.parsed]);
        } finally {
          client.release();
        }
        const segments = new CopySegments();
        entry = bulkEvent(parsed.parsed, segments);
        rows = segments.done();
      }
    }
    const hashKey = pairKey(projectId, entry.hash);
    const live = this.hashes.get(hashKey);
    const placement = placeEvent(entry, this.seen.get(projectId)?.has(entry.eventId) ?? false, NO_TOMBSTONES, live, this.expiredBefore);
    if (placement.kind === 'duplicate') return undefined;
    if (placement.kind === 'expired') {
      this.erasures.push(eventKeys.event(projectId, entry.eventId));
      return undefined;
    }
    if (placement.kind !== 'joined') throw new Error(`bulk placement without tombstones cannot be ${placement.kind}`);
    let seen = this.seen.get(projectId);
    if (!seen) this.seen.set(projectId, (seen = new EventIds()));
    seen.add(entry.eventId);
    this.events += 1;
    const at = entry.receivedAt;
    const release = entry.release;
    let group = this.groups.get(placement.groupId);
    if (!group) {
      this.hashes.set(hashKey, placement.groupId);
      let probe = 0;
      let shortId = shortIdNumber(placement.groupId, probe);
      while (this.shortIds.has(pairKey(projectId, String(shortId)))) shortId = shortIdNumber(placement.groupId, ++probe);
      this.shortIds.add(pairKey(projectId, String(shortId)));
      group = {
        id: placement.groupId, projectId, shortId, type: entry.type, platform: entry.platform, logger: entry.logger, groupingVersion: entry.groupingVersion,
        level: entry.level, title: entry.title, culprit: entry.culprit, metadata: entry.metadata,
        first: at, last: at, n: 0, status: 'unresolved', statusOffset: offset, firstRelease: release, lastRelease: release, inRelease: null, inNextRelease: null, resolvedAt: null,
      };
      this.groups.set(group.id, group);
    } else if (group.status === 'resolved') {
      // A regression, decided as events.ts's `regressions` does with the releases seen so far.
      const resolution: Resolution = { inRelease: group.inRelease, inNextRelease: group.inNextRelease, resolvedAt: group.resolvedAt ?? 0 };
      if (reopens(resolution, { release, releaseFirstSeen: release === null ? null : (this.releasesSeen.get(pairKey(projectId, release)) ?? null) })) {
        Object.assign(group, { status: 'unresolved', statusOffset: offset, inRelease: null, inNextRelease: null, resolvedAt: null });
      }
    }
    group.n += 1;
    group.first = Math.min(group.first, at);
    group.last = Math.max(group.last, at);
    group.level = entry.level;
    group.title = entry.title;
    group.culprit = entry.culprit;
    group.metadata = entry.metadata;
    group.firstRelease ??= release;
    group.lastRelease = release ?? group.lastRelease;
    if (entry.releaseTag !== null) {
      const seenKey = pairKey(projectId, entry.releaseTag);
      this.releasesSeen.set(seenKey, Math.min(this.releasesSeen.get(seenKey) ?? Infinity, at));
    }

    // The rows as the parse wrote them, the id put in after their head.
    const buffer = this.buffer;
    const partition = Math.floor(at / (this.widthSeconds * 1000));
    if (!buffer.partitions.has(partition)) buffer.partitions.set(partition, at);
    const { bytes, marks } = rows;
    const m = entry.mark;
    const headFrom = marks[m]!;
    const headTo = marks[m + 1]!;
    buffer.events.copied(bytes, headFrom, headTo).int8(group.id).copied(bytes, headTo, marks[m + 2]!).ended();
    buffer.eventIds.copied(bytes, marks[m + 2]!, marks[m + 3]!).ended();
    this.tags += entry.tags;
    if (buffer.events.rows >= this.copyRows) await this.flush();
    return group.id;
  }

  /** GroupStatusChanged as read-models.ts applies it (no group is pending deletion in a bulk load). */
  private statusChange(record: GroupStatusChanged, offset: number): void {
    const group = this.groups.get(record.groupId);
    if (!group || group.projectId !== record.projectId || group.statusOffset > offset) return;
    const resolved = record.status === 'resolved';
    Object.assign(group, {
      status: record.status, statusOffset: offset,
      inRelease: resolved ? (record.inRelease ?? null) : null, inNextRelease: resolved ? (record.inNextRelease ?? null) : null, resolvedAt: resolved ? record.changedAt : null,
    });
  }

  /** Sends the buffered rows by COPY (two at most in flight, so decoding and Postgres overlap). */
  private async flush(): Promise<void> {
    const rows = this.buffer;
    if (rows.events.rows === 0) return;
    this.buffer = newBuffer(this.chunks);
    // The partitions first, as the per-batch path makes them: those of its times and the one after the newest.
    const times = [...rows.partitions.values()];
    times.push(Math.max(...times) + this.widthSeconds * 1000);
    await inTransaction(this.pool, (db) => ensureEventPartitions(db, times, this.widthSeconds, this.partitions));
    const waitFrom = Date.now();
    while (this.inFlight.size >= 2) await Promise.race(this.inFlight);
    this.waitSeconds += (Date.now() - waitFrom) / 1000;
    if (this.failure) throw this.failure;
    const job = this.copy(rows).catch((error: unknown) => {
      this.failure ??= error;
    });
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  /** Both tables at once, each on its own connection (Postgres parses, compresses and writes each COPY in one process). */
  private async copy(rows: Buffered): Promise<void> {
    const timed = async (table: 'events' | 'eventIds', target: string, lines: BinaryRows) => {
      const from = Date.now();
      const client = await this.pool.connect();
      const chunks = lines.take();
      try {
        await copyInto(client, target, lines, chunks);
      } finally {
        client.release();
      }
      lines.recycle(chunks);
      this.copySeconds[table] += (Date.now() - from) / 1000;
    };
    await Promise.all([
      timed('events', `events (${EVENT_COLUMNS})`, rows.events),
      timed('eventIds', 'event_ids (project_id, event_id, received_at)', rows.eventIds),
    ]);
  }

  /** Every buffered row written. */
  private async settle(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /**
   * The issues, their hashes and tag values, then the indexes and constraints (`parallel` at once),
   * and the positions the per-batch path continues from (`positions` of the events topic).
   */
  async finish(onIndexing: () => void = () => undefined, parallel = 2): Promise<BulkFigures> {
    await this.settle();
    this.loadingSeconds = (Date.now() - this.startedAt) / 1000;
    onIndexing();
    const indexingFrom = Date.now();
    const client = await this.pool.connect();
    try {
      const groups = new CopyRows();
      for (const g of this.groups.values()) {
        groups.raw(g.id).raw(g.projectId).raw(g.shortId).text(g.title).text(g.culprit).text(g.type).text(g.metadata).text(g.level).text(g.platform).text(g.logger).text(g.status)
          .raw(iso(g.first)).raw(iso(g.last)).raw(g.n).text(g.groupingVersion).raw(g.statusOffset).text(g.firstRelease).text(g.lastRelease).text(g.inRelease).text(g.inNextRelease)
          .raw(g.resolvedAt === null ? '\\N' : iso(g.resolvedAt)).end();
      }
      await copyInto(
        client,
        'groups (id, project_id, short_id, title, culprit, type, metadata, level, platform, logger, status, first_seen, last_seen, times_seen, grouping_version, status_offset, first_release, last_release, resolved_in_release, resolved_in_next_release, resolved_at)',
        groups,
      );
      const hashes = new CopyRows();
      for (const [key, groupId] of this.hashes) hashes.raw(key.slice(0, key.indexOf('/'))).text(key.slice(key.indexOf('/') + 1)).raw(groupId).end();
      await copyInto(client, 'group_hashes (project_id, hash, group_id)', hashes);
      // The groups' key first: the user_count trigger of the tag values updates issues by id.
      await this.rebuildIndexes(client, (index) => index.table === 'groups' && index.constraint !== null);
    } finally {
      client.release();
    }
    // The tag values (their sums from memory, or else the aggregate over the events rows: one
    // backend, a few seconds at a million events) go in beside the index builds of the tables they
    // do not write; the groups' other indexes wait for them (the user_count trigger updates groups,
    // which CREATE INDEX would block) and so do the tag values'. The largest first, spread over
    // `parallel` connections.
    const order = ['events', 'event_ids', 'group_tag_values', 'groups', 'group_hashes'];
    const byTable = (a: { table: string }, b: { table: string }) => order.indexOf(a.table) - order.indexOf(b.table);
    const afterAggregate = (index: { table: string }) => index.table === 'group_tag_values' || index.table === 'groups';
    const queue = this.dropped.filter((index) => !afterAggregate(index)).sort(byTable);
    const held = this.dropped.filter(afterAggregate).sort(byTable);
    this.dropped.splice(0);
    await Promise.all(Array.from({ length: parallel }, async (_, worker) => {
      const db = await this.pool.connect();
      try {
        await db.query(`SET maintenance_work_mem = '256MB'`);
        if (worker === 0) {
          const aggregateFrom = Date.now();
          await this.writeTagValues(db);
          this.aggregateSeconds = (Date.now() - aggregateFrom) / 1000;
          queue.push(...held);
        }
        for (let index = queue.shift(); index; index = queue.shift()) await build(db, index);
      } finally {
        await db.query('RESET maintenance_work_mem').catch(() => undefined);
        db.release();
      }
    }));
    await inTransaction(this.pool, async (db) => {
      for (const [partition, nextOffset] of this.next) {
        await db.query(
          `INSERT INTO projector_positions (topic, partition, next_offset) VALUES ($1, $2, $3)
           ON CONFLICT (topic, partition) DO UPDATE SET next_offset = GREATEST(projector_positions.next_offset, EXCLUDED.next_offset)`,
          [this.topic, partition, nextOffset],
        );
      }
    });
    return {
      events: this.events, groups: this.groups.size, tags: this.tags,
      stopped: [...this.stops.entries()].map(([partition, stop]) => ({ partition, ...stop })),
      loadingSeconds: this.loadingSeconds, indexingSeconds: (Date.now() - indexingFrom) / 1000,
      copySeconds: this.copySeconds, waitSeconds: this.waitSeconds, aggregateSeconds: this.aggregateSeconds,
      tagValues: this.tagSums.gaveUp === undefined ? 'summed in memory' : `summed over the events rows: ${this.tagSums.gaveUp}`,
    };
  }

  /** The tag values: the sums from memory in one COPY (its statement fires the user_count trigger once), or the aggregate over the events rows. */
  private async writeTagValues(db: PoolClient): Promise<void> {
    if (this.tagSums.gaveUp === undefined) {
      const rows = new BinaryRows(this.chunks);
      for (const sum of this.tagSums.rows()) {
        rows.row(7).int8(sum.groupId).int8(sum.projectId).text(sum.key).text(sum.value).int8(sum.count).timestamp(sum.first).timestamp(sum.last).end();
      }
      await copyInto(db, 'group_tag_values (group_id, project_id, key, value, times_seen, first_seen, last_seen)', rows);
      return;
    }
    await db.query(
      `INSERT INTO group_tag_values (group_id, project_id, key, value, times_seen, first_seen, last_seen)
       SELECT e.group_id, min(e.project_id), u.key, u.value, count(*), min(e.received_at), max(e.received_at)
       FROM events e ${EVENT_TAGS} GROUP BY e.group_id, u.key, u.value`,
    );
  }

  private async rebuildIndexes(client: PoolClient, which: (index: (typeof this.dropped)[number]) => boolean): Promise<void> {
    const chosen = this.dropped.filter(which);
    for (const index of chosen) {
      await build(client, index);
      this.dropped.splice(this.dropped.indexOf(index), 1);
    }
  }
}

async function build(db: PoolClient, index: { table: string; name: string; constraint: string | null; definition: string }): Promise<void> {
  await db.query(index.constraint === null ? index.definition : `ALTER TABLE "${index.table}" ADD CONSTRAINT "${index.constraint}" ${index.definition}`);
}

/** `chunks`: what `rows.take()` gave (default: taken here). */
async function copyInto(db: PoolClient, target: string, rows: RowChunks, chunks = rows.take()): Promise<void> {
  if (chunks.length === 0) return;
  const { statement, data } = copyFromStdin(target, rows.binary, chunks);
  await pipeline(Readable.from(data), db.query(copyFrom(statement)));
}
