import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ConsumedRecord, DLQ_HEADERS, type OutgoingRecord } from '@trapline/runtime';
import { Codec, SCHEMA_HEADER, topicNames, VERSION_HEADER } from '@trapline/schemas';
import { BatchPlan, bySize, carriedOn, planBatch, type Step } from './batch.ts';

const codec = new Codec();
const topics = topicNames('t');
let offset = 0;

const consumed = (topic: string, key: string | null, encoded: { headers: Record<string, string>; value: Buffer | null }): ConsumedRecord => ({
  topic, partition: 0, offset: String(offset++), key: key === null ? null : Buffer.from(key), value: encoded.value, headers: encoded.headers, schema: encoded.headers[SCHEMA_HEADER],
});
const record = (topic: string, { key, name, value }: OutgoingRecord) => consumed(topic, key, codec.encode(name, value as never));
const removal = (topic: string, key: string | null) => consumed(topic, key, { headers: {}, value: null });
const received = (n: number, payload = JSON.stringify({ event_id: `${n}`, timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [] })) =>
  record(topics.events, { key: `1/${n}`, name: 'EventReceived', value: { projectId: 1, eventId: `${n}`, receivedAt: 1000, keyId: 'k', payload } });
const status = record(topics.events, { key: '1/9', name: 'GroupStatusChanged', value: { projectId: 1, groupId: 9, status: 'resolved', actor: 'u', changedAt: 1, inRelease: null, inNextRelease: null } });
const organization = record(topics.admin, { key: 'organization/o', name: 'OrganizationUpserted', value: { slug: 'o', name: 'O', createdAt: 1 } });

/** A plan told in a line per step: `events 1,2`, `record GroupStatusChanged`, `removal member/m`, `dead-letter 3: reason`. */
const told = (steps: Step[]) =>
  steps.map((step) => {
    switch (step.kind) {
      case 'events': return `events ${step.events.map((entry) => entry.parsed.record.eventId).join(',')}`;
      case 'record': return `record ${step.record.name}`;
      case 'removal': return `removal ${step.key}`;
      case 'dead-letter': return `dead-letter ${step.message.key?.toString()}: ${step.message.headers![DLQ_HEADERS.reason]}`;
    }
  });

describe('planning a batch of a projected topic', () => {
  it('gives consecutive events as one run, ended by any other record', () => {
    expect(told(planBatch(codec, topics.events, [received(1), received(2), status, received(3)]))).toEqual(['events 1,2', 'record GroupStatusChanged', 'events 3']);
  });

  it('dead-letters an event that can never be projected ahead of the run it was in, with its offset, and keeps the rest of the run', () => {
    const bad = received(2, 'not json');
    const steps = planBatch(codec, topics.events, [received(1), bad, received(3)]);
    expect(told(steps)).toEqual([expect.stringMatching(/^dead-letter 1\/2: cannot apply EventReceived: EventReceived payload is not a normalized event/), 'events 1,3']);
    expect(steps[0]!.kind === 'dead-letter' && steps[0]!.message.headers![DLQ_HEADERS.offset]).toBe(bad.offset);
    const run = steps[1]!.kind === 'events' ? steps[1]!.events : [];
    expect(run.map((entry) => entry.parsed.offset)).toEqual(run.map((entry) => Number(entry.message.offset)));
  });

  it.each([
    ['an undecodable record', consumed(topics.events, '1/x', { headers: { [SCHEMA_HEADER]: 'EventReceived', [VERSION_HEADER]: '1' }, value: Buffer.from([0xff]) }), /^dead-letter 1\/x: corrupt EventReceived v1/],
    ['a record without schema headers', consumed(topics.events, '1/x', { headers: {}, value: Buffer.from('{}') }), /^dead-letter 1\/x: missing schema headers$/],
    ['a readable record the topic does not carry', record(topics.events, { key: 'organization/o', name: 'OrganizationUpserted', value: { slug: 'o', name: 'O', createdAt: 1 } }),
      /^dead-letter organization\/o: unexpected OrganizationUpserted on t\.events$/],
  ] as [string, ConsumedRecord, RegExp][])('dead-letters %s without ending the run around it', (_case, poison, reason) => {
    expect(told(planBatch(codec, topics.events, [received(1), poison, received(2)]))).toEqual([expect.stringMatching(reason), 'events 1,2']);
  });

  it('removes the entity a null value on the admin topic names, in order with the records around it', () => {
    expect(told(planBatch(codec, topics.admin, [organization, removal(topics.admin, 'member/m'), organization]))).toEqual(['record OrganizationUpserted', 'removal member/m', 'record OrganizationUpserted']);
  });

  it('passes over a null value on the events topic (an erasure its purge did the work of) and one without a key', () => {
    expect(told(planBatch(codec, topics.events, [received(1), removal(topics.events, '1/0'), received(2)]))).toEqual(['events 1,2']);
    expect(told(planBatch(codec, topics.admin, [removal(topics.admin, null)]))).toEqual([]);
  });

  it('gives the same steps planned a part at a time as all at once, wherever the parts end', () => {
    const poison = consumed(topics.events, '1/x', { headers: {}, value: Buffer.from('{}') });
    const kinds = [() => received(offset), () => received(offset, 'not json'), () => poison, () => status, () => removal(topics.events, '1/0')];
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: kinds.length - 1 }), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 30 })), (picks, cuts) => {
      const records = picks.map((pick) => kinds[pick]!());
      const plan = new BatchPlan(codec, topics.events);
      let from = 0;
      for (const cut of [...cuts].sort((a, b) => a - b)) {
        plan.add(records.slice(from, cut));
        from = cut;
      }
      expect(told(plan.add(records.slice(from)).finish())).toEqual(told(planBatch(codec, topics.events, records)));
    }));
  });

  it('takes the records a topic carries from its declaration, none for a topic it does not know', () => {
    expect(carriedOn(topics.events).has('EventReceived')).toBe(true);
    expect(carriedOn(topics.admin).has('EventReceived')).toBe(false);
    expect(carriedOn(topics.audit).has('AuditEntry')).toBe(true);
    expect(carriedOn('t.unknown').size).toBe(0);
  });
});

const sized = (bytes: number) => ({ key: 'k', value: Buffer.alloc(bytes - 1) });

describe('dead letters in requests below the broker limit', () => {
  it('splits consecutive records at the byte limit, in order, a larger record alone', () => {
    const records = [sized(300), sized(300), sized(300), sized(900), sized(100)];
    expect(bySize(records, 700).map((part) => part.map((entry) => entry.value.length + 1))).toEqual([[300, 300], [300], [900], [100]]);
  });
  it('sends nothing for nothing', () => {
    expect(bySize([], 10)).toEqual([]);
  });
});
