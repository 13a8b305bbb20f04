import type { Codec, EventReceived, Headers, NormalizedEvent } from '@trapline/schemas';
import { groupHashes } from './grouping.ts';
import { describeIssue, eventTags, type IssueFacts, userIdentity } from './issue.ts';
import { mayHaveSourceMaps } from './source-maps.ts';

// The parse of an EventReceived record into what the read models are written from: the fields
// stored of the event it carries, its grouping hash and the issue it describes. Pure; a record that
// can never be projected is a reason (for the dead-letter topic), not an exception.

/**
 * What the read models store of an event besides its payload, taken when it is parsed. The parsed
 * tree itself is left behind: a run holds thousands of events through its queries, and carried
 * along, their trees were most of what the garbage collector copied (scavenges of 30–130 ms with
 * nine tenths surviving, a fifth of the projector's CPU). A run that needs the frames again (source
 * maps, resolved-frames.ts) parses its payload again.
 */
export interface EventFields {
  /** When it occurred, in epoch milliseconds (occurredMs). */
  occurred: number;
  level: string;
  platform: string;
  logger: string | undefined;
  message: string | undefined;
  release: string | undefined;
  environment: string | undefined;
  /** userIdentity. */
  user: string | undefined;
  /** The tags indexed (eventTags). */
  tags: [string, string][];
  /** Worth grouping on resolved frames (mayHaveSourceMaps). */
  mayHaveSourceMaps: boolean;
}

/** The record's fields but its payload. */
export type ReceivedHead = Omit<EventReceived, 'payload'>;

export interface Parsed {
  record: ReceivedHead;
  /**
   * The payload's UTF-8 bytes, held until its events row is written instead of the payload's text:
   * in the record's own bytes where the codec can point at them (Codec.trailingString), copied into
   * the row as they are. Held as text (twice, with the decode kept on the message), then encoded
   * again for the COPY, it cost the live projector an eighth more CPU per event
   * (bench/results/2026-12-04-projector-payload-bytes.md).
   */
  payload: Buffer;
  /** The record's offset in its partition (-1: unknown). */
  offset: number;
  fields: EventFields;
  hash: string;
  groupingVersion: string;
  facts: IssueFacts;
}

export type ParseResult = { ok: true; parsed: Parsed } | { ok: false; reason: string };

const MAX_RECEIVED_AT = Date.UTC(9999, 11, 31);

/**
 * An occurred time (the event's epoch seconds, any positive number) in whole milliseconds, as the
 * events row stores it; undefined beyond a Date's range (parseEvent refuses those; Postgres holds
 * every time within it from 4713 BC, and refuses an event's row before that). One rule for the
 * live projector and the rebuild's bulk load, so both store the same time or refuse the same event.
 */
export function occurredMs(seconds: number): number | undefined {
  const at = Math.round(seconds * 1000);
  return Number.isNaN(new Date(at).getTime()) ? undefined : at;
}

/** `payload`: the payload's UTF-8 bytes where the caller has them (else they are encoded here). */
export function parseEvent(record: EventReceived, offset = -1, payload?: Buffer): ParseResult {
  let event: NormalizedEvent;
  try {
    event = JSON.parse(record.payload) as NormalizedEvent;
  } catch (error) {
    return { ok: false, reason: `EventReceived payload is not a normalized event: ${(error as Error).message}` };
  }
  if (typeof event !== 'object' || event === null || !Array.isArray(event.tags)) return { ok: false, reason: 'EventReceived payload is not a normalized event: not a normalized event' };
  // Postgres timestamps and the time partitions hold 1970 to 9999; anything else is no received time.
  if (!Number.isSafeInteger(record.receivedAt) || record.receivedAt < 0 || record.receivedAt > MAX_RECEIVED_AT) {
    return { ok: false, reason: `EventReceived receivedAt ${record.receivedAt} is not a time between 1970 and 9999` };
  }
  const occurred = occurredMs(event.timestamp);
  if (occurred === undefined) {
    return { ok: false, reason: `EventReceived timestamp ${String(event.timestamp)} is not a time a date can hold` };
  }
  const grouping = groupHashes(event);
  const head: ReceivedHead = { projectId: record.projectId, eventId: record.eventId, receivedAt: record.receivedAt, keyId: record.keyId };
  return {
    ok: true,
    parsed: { record: head, payload: payload ?? Buffer.from(record.payload), offset, fields: eventFields(event, occurred), hash: grouping.hashes[0]!, groupingVersion: grouping.version, facts: describeIssue(event) },
  };
}

const eventFields = (event: NormalizedEvent, occurred: number): EventFields => ({
  occurred, level: event.level, platform: event.platform, logger: event.logger, message: event.message, release: event.release,
  environment: event.environment, user: userIdentity(event), tags: eventTags(event), mayHaveSourceMaps: mayHaveSourceMaps(event),
});

/**
 * An EventReceived record read from its bytes: decoded (the reason its decode gives if not) and
 * parsed (`cannot apply EventReceived: …` if not), the payload kept as the bytes it came in.
 */
export function readEvent(codec: Codec, headers: Headers | undefined, value: Buffer, offset = -1): ParseResult {
  const decoded = codec.decode(headers, value);
  if (!decoded.ok) return decoded;
  if (decoded.record.name !== 'EventReceived') return { ok: false, reason: `unexpected ${decoded.record.name}` };
  const record = decoded.record.value;
  const parsed = parseEvent(record, offset, codec.trailingString('EventReceived', decoded.record.version, 'payload', value, record.payload));
  return parsed.ok ? parsed : { ok: false, reason: `cannot apply EventReceived: ${parsed.reason}` };
}
