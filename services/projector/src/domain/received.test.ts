import { describe, expect, it } from 'vitest';
import { Codec, type EventReceived, type NormalizedEvent } from '@trapline/schemas';
import { groupHashes } from './grouping.ts';
import { describeIssue, eventTags, userIdentity } from './issue.ts';
import { occurredMs, parseEvent, readEvent } from './received.ts';
import { mayHaveSourceMaps } from './source-maps.ts';

const event: NormalizedEvent = { event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [['region', 'eu']], message: 'User 42 not found' };
const given = (overrides: Partial<EventReceived> = {}): EventReceived => ({ projectId: 1, eventId: event.event_id, receivedAt: 1_000, keyId: 'k', payload: JSON.stringify(event), ...overrides });

describe('parsing an EventReceived record', () => {
  it('gives the fields stored of the event, its grouping hash and version, the issue it describes and its offset', () => {
    const record = given();
    const fields = {
      occurred: occurredMs(event.timestamp), level: event.level, platform: event.platform, logger: event.logger, message: event.message, release: event.release,
      environment: event.environment, user: userIdentity(event), tags: eventTags(event), mayHaveSourceMaps: mayHaveSourceMaps(event),
    };
    expect(parseEvent(record, 7)).toEqual({
      ok: true,
      parsed: {
        record: { projectId: 1, eventId: event.event_id, receivedAt: 1_000, keyId: 'k' }, payload: Buffer.from(record.payload), offset: 7, fields,
        hash: groupHashes(event).hashes[0], groupingVersion: groupHashes(event).version, facts: describeIssue(event),
      },
    });
  });

  it('keeps of the event only what is stored, not its tree', () => {
    const parsed = parseEvent(given());
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(Object.values(parsed.parsed.fields).filter((value) => typeof value === 'object' && !Array.isArray(value))).toEqual([]);
    expect(parsed.parsed).not.toHaveProperty('event');
  });

  it('keeps the payload as the bytes of the record it was read from, not its text', () => {
    const codec = new Codec();
    const encoded = codec.encode('EventReceived', given());
    const read = readEvent(codec, encoded.headers, encoded.value, 9);
    if (!read.ok) throw new Error(read.reason);
    expect(read.parsed).toEqual({ ...(parseEvent(given(), 9) as { parsed: object }).parsed });
    expect(read.parsed.payload.buffer).toBe(encoded.value.buffer);
    expect(read.parsed.record).not.toHaveProperty('payload');
  });

  it('names why a record read from its bytes cannot be projected: its decode, or its parse', () => {
    const codec = new Codec();
    const encoded = codec.encode('EventReceived', given({ payload: '{"event_id":' }));
    expect(readEvent(codec, encoded.headers, encoded.value)).toEqual({ ok: false, reason: expect.stringMatching(/^cannot apply EventReceived: EventReceived payload is not a normalized event: /) });
    expect(readEvent(codec, encoded.headers, encoded.value.subarray(0, 10))).toEqual({ ok: false, reason: expect.stringMatching(/^corrupt EventReceived v1: /) });
    const other = codec.encode('GroupStatusChanged', { projectId: 1, groupId: 9, status: 'resolved', actor: 'u', changedAt: 1, inRelease: null, inNextRelease: null });
    expect(readEvent(codec, other.headers, other.value)).toEqual({ ok: false, reason: 'unexpected GroupStatusChanged' });
  });

  it.each([
    ['a payload that is not JSON', { payload: '{"event_id":' }, /^EventReceived payload is not a normalized event: /],
    ['a payload that is JSON but no object', { payload: '42' }, /^EventReceived payload is not a normalized event: not a normalized event$/],
    ['a payload of null', { payload: 'null' }, /not a normalized event$/],
    ['an event without its tags', { payload: JSON.stringify({ ...event, tags: undefined }) }, /not a normalized event$/],
    ['a received time before 1970', { receivedAt: -1 }, /^EventReceived receivedAt -1 is not a time between 1970 and 9999$/],
    ['a received time after 9999', { receivedAt: Date.UTC(10000, 0, 1) }, /receivedAt \d+ is not a time between 1970 and 9999/],
    ['a received time that is no integer', { receivedAt: 1.5 }, /receivedAt 1.5 is not a time/],
    // An SDK's `timestamp: 1e20` is read as milliseconds by ingest: 1e17 seconds, past a Date's range.
    ['an occurred time past a date\'s range', { payload: JSON.stringify({ ...event, timestamp: 1e17 }) }, /^EventReceived timestamp 100000000000000000 is not a time a date can hold$/],
    ['an event without its occurred time', { payload: JSON.stringify({ ...event, timestamp: undefined }) }, /^EventReceived timestamp undefined is not a time/],
  ] as [string, Partial<EventReceived>, RegExp][])('names why it can never be projected: %s', (_case, overrides, reason) => {
    expect(parseEvent(given(overrides))).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('accepts the first and the last received time Postgres holds', () => {
    for (const receivedAt of [0, Date.UTC(9999, 11, 31)]) expect(parseEvent(given({ receivedAt })).ok).toBe(true);
  });

  it('takes the occurred time in whole milliseconds, years past 9999 included, as both the live projector and the bulk load store it', () => {
    expect(occurredMs(1)).toBe(1000);
    expect(occurredMs(1.0004)).toBe(1000);
    expect(occurredMs(1.0006)).toBe(1001);
    expect(occurredMs(Date.UTC(10000, 0, 1) / 1000)).toBe(Date.UTC(10000, 0, 1));
    expect(occurredMs(8.64e12)).toBe(8.64e15);
    expect(occurredMs(8.64e12 + 1)).toBeUndefined();
    expect(parseEvent(given({ payload: JSON.stringify({ ...event, timestamp: 8.64e12 }) })).ok).toBe(true);
  });
});
