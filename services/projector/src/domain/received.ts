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
  const grouping = groupHashes(event);
  return { ok: true, parsed: { record, offset, event, hash: grouping.hashes[0]!, groupingVersion: grouping.version, facts: describeIssue(event) } };
}

/** Each record parsed (at `offsets`, when known). */
export const parseEvents = (records: EventReceived[], offsets: number[] = []): ParseResult[] => records.map((record, index) => parseEvent(record, offsets[index] ?? -1));
