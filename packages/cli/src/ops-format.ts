import { DLQ_HEADERS } from '@trapline/runtime';
import { SCHEMA_HEADER, TOPIC_SPECS, VERSION_HEADER, topicNames, type Codec, type Headers, type RecordName, type TopicId } from '@trapline/schemas';

// Pure side of the operator commands (`topics`, `decode`, `lag`, `replay`, `dlq`): parsing what
// the operator typed and shaping what Kafka answered. No I/O here.

/** The dead-letter topics `trapline dlq` works across. */
export const DEAD_LETTER_TOPICS = ['eventsDlq', 'deletionsDlq', 'alertsDlq'] as const satisfies readonly TopicId[];

export interface ResolvedTopic {
  id: TopicId;
  name: string;
}

/** A declared topic by its full name (`trapline.events`) or its suffix (`events`). */
export function resolveTopic(prefix: string, name: string): ResolvedTopic | undefined {
  const names = topicNames(prefix);
  const id = (Object.keys(TOPIC_SPECS) as TopicId[]).find((candidate) => names[candidate] === name || TOPIC_SPECS[candidate].suffix === name);
  return id === undefined ? undefined : { id, name: names[id] };
}

export function unknownTopicReason(prefix: string, name: string, among: readonly TopicId[] = Object.keys(TOPIC_SPECS) as TopicId[]): string {
  const names = topicNames(prefix);
  return `unknown topic ${JSON.stringify(name)} (known: ${among.map((id) => names[id]).join(', ')})`;
}

/** A whole number ≥ 0 typed by the operator, or undefined. */
export function parseNonNegative(text: string): bigint | undefined {
  return /^\d+$/.test(text.trim()) ? BigInt(text.trim()) : undefined;
}

// --- records ----------------------------------------------------------------------------------

/** A record as the log holds it. */
export interface LogRecord {
  topic: string;
  partition: number;
  offset: string;
  /** epoch milliseconds, as Kafka reports it */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Headers;
}

export type HeaderStrings = Record<string, string | string[]>;

/** What `trapline decode` prints for one record (one JSON line). */
export interface DecodedLine {
  topic: string;
  partition: number;
  offset: number;
  timestamp: string;
  key: string | null;
  headers: HeaderStrings;
  schema: string | null;
  version: number | null;
  /** The decoded record; null for a null-value record (an erasure). Absent when `error` is set. */
  value?: unknown;
  error?: string;
  /** The undecodable value's bytes, base64. */
  raw?: string;
}

export function headerStrings(headers: Headers | undefined): HeaderStrings {
  const strings: HeaderStrings = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    strings[name] = Array.isArray(value) ? value.map((part) => part.toString()) : value.toString();
  }
  return strings;
}

function firstHeader(headers: HeaderStrings, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Bigints and bytes as JSON can carry them (decimal strings, base64); everything else as it is. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, jsonSafe(entry)]));
  return value;
}

/** String fields that hold JSON documents, shown parsed so `jq` reaches inside them. */
const JSON_STRING_FIELDS: Partial<Record<RecordName, string>> = { EventReceived: 'payload', AuditEntry: 'data' };

function parseJsonFields(name: string, value: Record<string, unknown>): Record<string, unknown> {
  const field = JSON_STRING_FIELDS[name as RecordName];
  const text = field === undefined ? undefined : value[field];
  if (field === undefined || typeof text !== 'string') return value;
  try {
    return { ...value, [field]: JSON.parse(text) as unknown };
  } catch {
    return value; // not JSON after all: shown as the string it is
  }
}

export function decodeLine(codec: Codec, record: LogRecord): DecodedLine {
  const headers = headerStrings(record.headers);
  const version = firstHeader(headers, VERSION_HEADER);
  const line: DecodedLine = {
    topic: record.topic,
    partition: record.partition,
    offset: Number(record.offset),
    timestamp: new Date(Number(record.timestamp)).toISOString(),
    key: record.key?.toString() ?? null,
    headers,
    schema: firstHeader(headers, SCHEMA_HEADER) ?? null,
    version: version === undefined ? null : Number(version),
  };
  if (record.value === null) return { ...line, value: null };
  const decoded = codec.decode(record.headers, record.value);
  if (!decoded.ok) return { ...line, error: decoded.reason, raw: record.value.toString('base64') };
  const value = jsonSafe(decoded.record.value) as Record<string, unknown>;
  return { ...line, value: parseJsonFields(decoded.record.name, value) };
}

// --- dead letters -----------------------------------------------------------------------------

export interface DeadLetterEntry {
  partition: number;
  offset: number;
  key: string | null;
  reason: string;
  /** Where the record was first appended (a dead letter's headers), null for a failed deletion step. */
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: number | null;
}

/** Why a record is on a DLQ: the dead-letter header, else a failed deletion step's last error. */
export function deadLetterEntry(line: DecodedLine): DeadLetterEntry {
  const header = (name: string) => firstHeader(line.headers, name) ?? null;
  const lastError = line.schema === 'DeletionStep' && line.value ? (line.value as { lastError?: string | null }).lastError : undefined;
  const partition = header(DLQ_HEADERS.partition);
  const offset = header(DLQ_HEADERS.offset);
  return {
    partition: line.partition,
    offset: line.offset,
    key: line.key,
    reason: header(DLQ_HEADERS.reason) ?? lastError ?? line.error ?? '(no reason recorded)',
    originalTopic: header(DLQ_HEADERS.topic),
    originalPartition: partition === null ? null : Number(partition),
    originalOffset: offset === null ? null : Number(offset),
  };
}

/** A dead letter's own headers, without the `trapline-dlq-*` ones the dead-lettering added. */
export function withoutDeadLetterHeaders(headers: Headers | undefined): Headers {
  const added = new Set<string>(Object.values(DLQ_HEADERS));
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name, value]) => !added.has(name) && value !== undefined));
}

// --- offsets, lag and replay ------------------------------------------------------------------

export interface PartitionOffsets {
  partition: number;
  /** log start offset */
  low: string;
  /** end offset (high watermark): the offset the next record will get */
  high: string;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** null when the group never committed an offset for the partition */
  committed: number | null;
  end: number;
  lag: number | null;
}

/** What `kafka-consumer-groups --describe` shows for one partition: end offset minus committed offset. */
export function partitionLag(topic: string, partition: number, committed: string | undefined, end: string): PartitionLag {
  const at = committed === undefined || Number(committed) < 0 ? null : Number(committed);
  return { topic, partition, committed: at, end: Number(end), lag: at === null ? null : Number(end) - at };
}

export type ReplayTarget = { kind: 'earliest' } | { kind: 'offset'; offset: bigint } | { kind: 'datetime'; at: number };

export type ReplayTargetResult = { ok: true; target: ReplayTarget } | { ok: false; reason: string };

export function parseReplayTarget(options: { toEarliest?: boolean; toOffset?: string; toDatetime?: string }): ReplayTargetResult {
  const given = [options.toEarliest ? '--to-earliest' : undefined, options.toOffset !== undefined ? '--to-offset' : undefined, options.toDatetime !== undefined ? '--to-datetime' : undefined].filter(Boolean);
  if (given.length !== 1) return { ok: false, reason: `name exactly one of --to-earliest, --to-offset <n>, --to-datetime <ISO>${given.length ? ` (got ${given.join(', ')})` : ''}` };
  if (options.toEarliest) return { ok: true, target: { kind: 'earliest' } };
  if (options.toOffset !== undefined) {
    const offset = parseNonNegative(options.toOffset);
    return offset === undefined ? { ok: false, reason: `--to-offset needs a whole number ≥ 0, got ${JSON.stringify(options.toOffset)}` } : { ok: true, target: { kind: 'offset', offset } };
  }
  const text = options.toDatetime!;
  // Only full ISO 8601 date-times with a zone, so "05/06" never means a surprising day or zone.
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? { ok: false, reason: `--to-datetime needs an ISO 8601 date-time with a zone (e.g. 2025-01-31T12:00:00Z), got ${JSON.stringify(text)}` } : { ok: true, target: { kind: 'datetime', at } };
}

/**
 * Where a reset moves one partition. An offset outside the log is clamped to its start or end, as
 * `kafka-consumer-groups --reset-offsets` does; `atTimestamp` is the broker's answer for a date-time.
 */
export function replayOffset(target: ReplayTarget, partition: PartitionOffsets, atTimestamp?: string): string {
  const low = BigInt(partition.low);
  const high = BigInt(partition.high);
  if (target.kind === 'earliest') return partition.low;
  if (target.kind === 'datetime') return atTimestamp ?? partition.high;
  return (target.offset < low ? low : target.offset > high ? high : target.offset).toString();
}

export interface OffsetChange {
  topic: string;
  partition: number;
  /** null when the group had no committed offset */
  from: number | null;
  to: number;
}

export function offsetChangeLine(change: OffsetChange): string {
  return `${change.topic} ${change.partition}: ${change.from ?? '-'} → ${change.to}${change.from === change.to ? ' (unchanged)' : ''}`;
}

// --- topics -----------------------------------------------------------------------------------

export interface TopicSummary {
  topic: string;
  id: TopicId;
  /** false when the declared topic does not exist on the broker */
  exists: boolean;
  partitions: number;
  declaredPartitions: number;
  /** as the broker reports them */
  configs: Record<string, string>;
  /** declared configs whose broker value differs */
  drift: { config: string; declared: string; actual: string | null }[];
  offsets: { partition: number; start: number; end: number }[];
  endTotal: number;
}

/** Configs every topic shows, then those its declaration sets. */
export function shownConfigs(id: TopicId): string[] {
  return [...new Set(['cleanup.policy', 'retention.ms', ...Object.keys(TOPIC_SPECS[id].configs)])];
}

/** `partitions`: the count the configuration sets for the topic (KAFKA_EVENTS_PARTITIONS, …), if any. */
export function topicSummary(prefix: string, id: TopicId, broker: { configs: Record<string, string>; offsets: PartitionOffsets[] } | undefined, partitions?: number): TopicSummary {
  const spec = TOPIC_SPECS[id];
  const configs = broker?.configs ?? {};
  const offsets = (broker?.offsets ?? []).map(({ partition, low, high }) => ({ partition, start: Number(low), end: Number(high) })).sort((a, b) => a.partition - b.partition);
  return {
    topic: topicNames(prefix)[id],
    id,
    exists: broker !== undefined,
    partitions: offsets.length,
    declaredPartitions: partitions ?? spec.partitions,
    configs,
    drift: broker === undefined ? [] : Object.entries(spec.configs as Record<string, string>).filter(([name, value]) => configs[name] !== value).map(([config, declared]) => ({ config, declared, actual: configs[config] ?? null })),
    offsets,
    endTotal: offsets.reduce((sum, { end }) => sum + end, 0),
  };
}

/** One table row per topic; a value that drifted from the declaration says what was declared. */
export function topicTableRow(summary: TopicSummary): Record<string, unknown> {
  if (!summary.exists) return { topic: summary.topic, partitions: 'MISSING', configs: '', 'end offsets': '', total: '' };
  const declared = new Map(summary.drift.map((entry) => [entry.config, entry.declared]));
  const configs = Object.entries(summary.configs).map(([name, value]) => `${name}=${value}${declared.has(name) ? ` (declared ${declared.get(name)})` : ''}`);
  const partitions = summary.partitions === summary.declaredPartitions ? String(summary.partitions) : `${summary.partitions} (declared ${summary.declaredPartitions})`;
  return { topic: summary.topic, partitions, configs: configs.join(' '), 'end offsets': summary.offsets.map(({ partition, end }) => `${partition}:${end}`).join(' '), total: summary.endTotal };
}

export interface GroupLag {
  group: string;
  state: string;
  members: number;
  partitions: PartitionLag[];
  /** sum over the partitions with a committed offset */
  totalLag: number;
}

export function groupLag(group: string, state: string, members: number, partitions: PartitionLag[]): GroupLag {
  const sorted = [...partitions].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return { group, state, members, partitions: sorted, totalLag: sorted.reduce((sum, { lag }) => sum + (lag ?? 0), 0) };
}

/** Rows as `kafka-consumer-groups --describe` lays them out, one per partition (one for a group without offsets). */
export function lagTableRows(lag: GroupLag): Record<string, unknown>[] {
  const head = { group: lag.group, state: lag.state, members: lag.members };
  if (lag.partitions.length === 0) return [{ ...head, topic: '-', partition: '-', committed: '-', end: '-', lag: '-' }];
  return lag.partitions.map((entry) => ({ ...head, topic: entry.topic, partition: entry.partition, committed: entry.committed ?? '-', end: entry.end, lag: entry.lag ?? '-' }));
}
