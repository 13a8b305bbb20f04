import type { EventReceived, NormalizedEvent } from '@trapline/schemas';
import { groupHashes } from './grouping.ts';
import { describeIssue, type IssueFacts } from './issue.ts';

// The parse of an EventReceived record into what the read models are written from: the event it
// carries, its grouping hash and the issue it describes. Pure; a record that can never be projected
// is a reason (for the dead-letter topic), not an exception.

export interface Parsed {
  record: EventReceived;
  /** The record's offset in its partition (-1: unknown). */
  offset: number;
  event: NormalizedEvent;
  hash: string;
  groupingVersion: string;
  facts: IssueFacts;
}

export type ParseResult = { ok: true; parsed: Parsed } | { ok: false; reason: string };

const MAX_RECEIVED_AT = Date.UTC(9999, 11, 31);

/**
 * An occurred time (the event's epoch seconds, any positive number) as Postgres reads it: V8's ISO
 * form for years up to 9999, the year written out past that (Postgres holds years to 294276, a
 * Date to 275760); undefined beyond a Date's range (parseEvent refuses those). One text for the
 * live projector and the rebuild's bulk load, so both store the same time or refuse the same event.
 */
export function occurredText(seconds: number): string | undefined {
  const at = new Date(Math.round(seconds * 1000));
  if (Number.isNaN(at.getTime())) return undefined;
  // Past 9999 V8 writes the year signed and in six digits (`+010000-…`), which Postgres refuses.
  return at.toISOString().replace(/^\+0*/, '');
}

export function parseEvent(record: EventReceived, offset = -1): ParseResult {
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
  if (occurredText(event.timestamp) === undefined) {
    return { ok: false, reason: `EventReceived timestamp ${String(event.timestamp)} is not a time a date can hold` };
  }
  const grouping = groupHashes(event);
  return { ok: true, parsed: { record, offset, event, hash: grouping.hashes[0]!, groupingVersion: grouping.version, facts: describeIssue(event) } };
}

/** Each record parsed (at `offsets`, when known). */
export const parseEvents = (records: EventReceived[], offsets: number[] = []): ParseResult[] => records.map((record, index) => parseEvent(record, offsets[index] ?? -1));
