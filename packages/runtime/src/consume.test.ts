import { describe, expect, it } from 'vitest';
import { Codec } from '@trapline/schemas';
import { type ConsumedRecord, decodeRecord, inHandlingOrder } from './consume.ts';

// The order of one cycle's batches: a consumer waiting on some of its topics (the notifier's
// deliveries) has them handled before the rest of the cycle.

const batch = (topic: string, partition: number) => ({ topic, partition });

describe('inHandlingOrder', () => {
  it.each([
    { given: 'no first topics', first: [], batches: [batch('events', 0), batch('run', 0)], then: ['events/0', 'run/0'] },
    { given: 'a first topic polled last', first: ['run'], batches: [batch('events', 0), batch('events', 1), batch('run', 0)], then: ['run/0', 'events/0', 'events/1'] },
    { given: 'two first topics, in their order', first: ['run', 'retry'], batches: [batch('retry', 0), batch('events', 0), batch('run', 1), batch('run', 0)], then: ['run/1', 'run/0', 'retry/0', 'events/0'] },
    { given: 'a first topic not polled this cycle', first: ['run'], batches: [batch('events', 1), batch('events', 0)], then: ['events/1', 'events/0'] },
  ])('$given', ({ first, batches, then }) => {
    expect(inHandlingOrder(batches, first).map(({ topic, partition }) => `${topic}/${partition}`)).toEqual(then);
  });
});

describe('decodeRecord', () => {
  const codec = new Codec();
  const encoded = codec.encode('EventReceived', { projectId: 1, eventId: 'a'.repeat(32), receivedAt: 1_700_000_000_000, keyId: 'k', payload: '{"x":1}' });
  const record = (): ConsumedRecord => ({ topic: 't', partition: 0, offset: '7', key: null, value: encoded.value, headers: encoded.headers, schema: 'EventReceived' });

  it('decodes a record once: the same result again, kept on the record out of sight (its keys and a copy of it are as they were)', () => {
    const consumed = record();
    const first = decodeRecord(codec, consumed);
    expect(first).toEqual({ ok: true, record: { name: 'EventReceived', version: 1, value: { projectId: 1, eventId: 'a'.repeat(32), receivedAt: 1_700_000_000_000, keyId: 'k', payload: '{"x":1}' } } });
    expect(decodeRecord(codec, consumed)).toBe(first);
    expect(Object.keys(consumed)).toEqual(['topic', 'partition', 'offset', 'key', 'value', 'headers', 'schema']);
    expect({ ...consumed }).toEqual(record());
    // Another record of the same bytes is decoded for itself.
    expect(decodeRecord(codec, record())).not.toBe(first);
  });
});
