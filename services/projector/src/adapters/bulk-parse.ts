import type { Codec, Headers } from '@trapline/schemas';
import type { IssueFacts } from '../domain/issue.ts';
import { type Parsed, readEvent } from '../domain/received.ts';
import { CopySegments } from './copy-rows.ts';
import { EVENT_FIELDS } from '../read-models/event-columns.ts';
import type { TagPairs } from './tag-sums.ts';

// The bulk load's reading of an EventReceived record (Avro, then the payload's JSON, grouping and
// the issue's facts: most of the rebuild's CPU), done on the worker threads that read the events
// topic (bulk-read.ts), so a rebuild uses every core: the main thread keeps the decisions, in log
// order, and the COPYs. What a worker hands back is what the decisions need and the rows already
// written in COPY's form but for the issue's id, in one buffer moved back (not the parsed event,
// nor its payload: cloning them back, then encoding the rows on the main thread, was most of the
// main thread's work).
//
// The parse itself is the projector's one parse (domain/received.ts), which a worker can load:
// it needs neither Kafka's client nor Postgres.

/**
 * An EventReceived as the bulk load decides on it, with its rows written ahead in COPY's binary form
 * (`BulkRows`): all of each row but the issue's id, which only the decisions in log order give.
 */
export interface BulkEvent {
  projectId: number;
  eventId: string;
  receivedAt: number;
  hash: string;
  groupingVersion: string;
  type: IssueFacts['type'];
  title: string;
  culprit: string;
  /** The issue's metadata as the JSON written (the last event's wins). */
  metadata: string;
  level: string;
  platform: string;
  logger: string | null;
  release: string | null;
  /** The value of its `release` tag (what the releases' first appearance is taken from). */
  releaseTag: string | null;
  /** How many tags it carries (in its events row). */
  tags: number;
  /** The per-batch path would try its source maps first (resolved-frames.ts), if its project has any. */
  mayHaveSourceMaps: boolean;
  /**
   * Its first mark in its batch's rows; from it, in order: the start of the events row's head
   * (`project_id, event_id`), the head's end and the row's rest (after `group_id`, its tags
   * included), then the event_ids row.
   */
  mark: number;
}

/** The rows of a batch's events: bytes and marks of a `CopySegments`. */
export interface BulkRows {
  bytes: Uint8Array;
  marks: Uint32Array;
}

export type BulkParse = { ok: true; event: BulkEvent } | { ok: false; reason: string };

/**
 * A batch's events field by field, one array per field: cloned to the main thread, that costs
 * about a tenth of an object per event, most of it in making the objects again on the other side
 * (bench/results/2026-12-07-wire-read.md).
 */
export type BulkEvents = { [K in keyof BulkEvent]: BulkEvent[K][] };

const FIELDS = ['projectId', 'eventId', 'receivedAt', 'hash', 'groupingVersion', 'type', 'title', 'culprit', 'metadata', 'level', 'platform', 'logger', 'release', 'releaseTag', 'tags', 'mayHaveSourceMaps', 'mark'] as const;
// Every field of BulkEvent has its column (this fails to compile when one is added without it).
const everyField: Exclude<keyof BulkEvent, (typeof FIELDS)[number]> extends never ? true : never = true;
void everyField;

export const newBulkEvents = (): BulkEvents => Object.fromEntries(FIELDS.map((field) => [field, []])) as unknown as BulkEvents;

/** Adds the event's fields to their columns; returns its index. */
export function pushBulkEvent(events: BulkEvents, event: BulkEvent): number {
  for (const field of FIELDS) (events[field] as unknown[]).push(event[field]);
  return events.eventId.length - 1;
}

/** The event at `index`, as one object again. */
export function bulkEventAt(events: BulkEvents, index: number): BulkEvent {
  return {
    projectId: events.projectId[index]!, eventId: events.eventId[index]!, receivedAt: events.receivedAt[index]!, hash: events.hash[index]!,
    groupingVersion: events.groupingVersion[index]!, type: events.type[index]!, title: events.title[index]!, culprit: events.culprit[index]!,
    metadata: events.metadata[index]!, level: events.level[index]!, platform: events.platform[index]!, logger: events.logger[index]!,
    release: events.release[index]!, releaseTag: events.releaseTag[index]!, tags: events.tags[index]!, mayHaveSourceMaps: events.mayHaveSourceMaps[index]!,
    mark: events.mark[index]!,
  };
}

/** The event as the bulk load writes it, its rows into `rows`, its tags numbered in `pairs` (if given). */
export function bulkEvent(parsed: Parsed, rows: CopySegments, pairs?: TagPairs): BulkEvent {
  const { record, fields, hash, groupingVersion, facts } = parsed;
  const tags = fields.tags;
  pairs?.add(tags);
  const release = fields.release ?? null;
  const mark = rows.mark();
  rows.row(EVENT_FIELDS).int8(record.projectId).text(record.eventId);
  rows.mark();
  rows.timestamp(record.receivedAt).timestamp(fields.occurred).text(fields.level).text(fields.platform)
    .text(facts.title).text(fields.message ?? '').text(release).text(fields.environment ?? null)
    .text(fields.user ?? null).bool(false).textBytes(parsed.payload)
    .textArray(tags.map(([key]) => key)).textArray(tags.map(([, value]) => value));
  rows.mark();
  rows.row(3).int8(record.projectId).text(record.eventId).timestamp(record.receivedAt);
  rows.mark();
  const releaseTag = tags.find(([key]) => key === 'release')?.[1] ?? null;
  return {
    projectId: record.projectId, eventId: record.eventId, receivedAt: record.receivedAt, hash, groupingVersion,
    type: facts.type, title: facts.title, culprit: facts.culprit, metadata: JSON.stringify(facts.metadata),
    level: fields.level, platform: fields.platform, logger: fields.logger ?? null, release, releaseTag, tags: tags.length,
    mayHaveSourceMaps: fields.mayHaveSourceMaps, mark,
  };
}

/** Decodes and parses one EventReceived as parseEvents does, refusing what it refuses; its rows go to `rows`. */
export function parseBulkEvent(codec: Codec, headers: Headers, value: Buffer, rows: CopySegments, pairs?: TagPairs): BulkParse {
  const parsed = readEvent(codec, headers, value);
  return parsed.ok ? { ok: true, event: bulkEvent(parsed.parsed, rows, pairs) } : parsed;
}
