import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '@trapline/runtime';
import { Codec } from '@trapline/schemas';
import {
  deadLetterEntry, decodeLine, groupLag, jsonSafe, lagTableRows, offsetChangeLine, parseReplayTarget, partitionLag, replayOffset, resolveTopic,
  topicSummary, topicTableRow, withoutDeadLetterHeaders, type LogRecord,
} from './ops-format.ts';

const codec = new Codec();
const at = { topic: 'p.events', partition: 2, offset: '7', timestamp: '1700000000000', key: Buffer.from('1/abc') };

function encoded(payload: string): LogRecord {
  const { headers, value } = codec.encode('EventReceived', { projectId: 1, eventId: 'abc', receivedAt: 5, keyId: 'k', payload });
  return { ...at, headers, value };
}

describe('resolveTopic', () => {
  it.each([
    ['p.events', 'events'],
    ['events', 'events'],
    ['deletions.dlq', 'deletionsDlq'],
    ['p.deletions.dlq', 'deletionsDlq'],
    ['other.events', undefined],
    ['event', undefined],
  ])('%s → %s', (name, id) => {
    expect(resolveTopic('p', name)?.id).toBe(id);
  });
});

describe('decodeLine', () => {
  it('decodes a record and parses the JSON payload of EventReceived', () => {
    const line = decodeLine(codec, encoded('{"message":"boom"}'));
    expect(line).toEqual({
      topic: 'p.events', partition: 2, offset: 7, timestamp: '2023-11-14T22:13:20.000Z', key: '1/abc',
      headers: { 'trapline-schema': 'EventReceived', 'trapline-schema-version': '1' }, schema: 'EventReceived', version: 1,
      value: { projectId: 1, eventId: 'abc', receivedAt: 5, keyId: 'k', payload: { message: 'boom' } },
    });
  });

  it('keeps a payload that is not JSON as its string', () => {
    expect((decodeLine(codec, encoded('not json')).value as { payload: unknown }).payload).toBe('not json');
  });

  it('shows a null-value record (an erasure) as value null, not as an error', () => {
    const line = decodeLine(codec, { ...at, value: null });
    expect(line.value).toBeNull();
    expect(line.error).toBeUndefined();
    expect(line.schema).toBeNull();
  });

  it('gives the reason and the raw bytes of a record that does not decode', () => {
    const line = decodeLine(codec, { ...at, headers: { 'trapline-schema': 'EventReceived', 'trapline-schema-version': '1' }, value: Buffer.from([0xff, 0xff]) });
    expect(line.error).toMatch(/corrupt EventReceived v1/);
    expect(line.raw).toBe('//8=');
    expect('value' in line).toBe(false);
  });

  it('shows repeated headers as arrays of strings', () => {
    expect(decodeLine(codec, { ...at, value: null, headers: { a: [Buffer.from('1'), '2'], b: Buffer.from('x') } }).headers).toEqual({ a: ['1', '2'], b: 'x' });
  });
});

describe('jsonSafe', () => {
  it('turns bigints into decimal strings and bytes into base64, deeply', () => {
    expect(jsonSafe({ a: 2n ** 70n, b: [Buffer.from('hi')], c: { d: null, e: 'x' } })).toEqual({ a: '1180591620717411303424', b: ['aGk='], c: { d: null, e: 'x' } });
  });
});

describe('dead letters', () => {
  it('reads the reason and origin from the dead-letter headers', () => {
    const line = decodeLine(codec, { ...at, value: Buffer.from('x'), headers: { [DLQ_HEADERS.reason]: 'missing schema headers', [DLQ_HEADERS.topic]: 'p.events', [DLQ_HEADERS.partition]: '3', [DLQ_HEADERS.offset]: '41' } });
    expect(deadLetterEntry(line)).toEqual({ partition: 2, offset: 7, key: '1/abc', reason: 'missing schema headers', originalTopic: 'p.events', originalPartition: 3, originalOffset: 41 });
  });

  it('takes a failed deletion step\'s last error as its reason', () => {
    const { headers, value } = codec.encode('DeletionStep', {
      transactionId: 't1', kind: 'event', projectId: 1, groupId: null, eventId: 'e', cutoff: null, actor: 'a', requestedAt: 1, dueAt: 1, requestPartition: 0, requestOffset: '0',
      attempt: 5, cursor: null, chunks: 0, eventsRemoved: 0, rowsRemoved: 0, lastError: 'connection refused', issues: 0,
    });
    expect(deadLetterEntry(decodeLine(codec, { ...at, headers, value }))).toMatchObject({ reason: 'connection refused', originalTopic: null });
  });

  it('drops only the dead-letter headers for a re-drive', () => {
    expect(withoutDeadLetterHeaders({ 'trapline-schema': 'EventReceived', [DLQ_HEADERS.reason]: 'r', [DLQ_HEADERS.topic]: 't', [DLQ_HEADERS.partition]: '0', [DLQ_HEADERS.offset]: '1' })).toEqual({ 'trapline-schema': 'EventReceived' });
  });
});

describe('replay targets', () => {
  it.each([
    [{ toEarliest: true }, { kind: 'earliest' }],
    [{ toOffset: '12' }, { kind: 'offset', offset: '12' }],
    [{ toDatetime: '2025-01-31T12:00:00Z' }, { kind: 'datetime', at: Date.UTC(2025, 0, 31, 12) }],
    [{ toDatetime: '2025-01-31T13:00:00.5+01:00' }, { kind: 'datetime', at: Date.UTC(2025, 0, 31, 12, 0, 0, 500) }],
  ])('%j', (options, target) => {
    const parsed = parseReplayTarget(options);
    expect(parsed.ok && parsed.target.kind === 'offset' ? { ...parsed.target, offset: String(parsed.target.offset) } : parsed.ok && parsed.target).toEqual(target);
  });

  it.each([
    [{}, /exactly one/],
    [{ toEarliest: true, toOffset: '1' }, /exactly one.*--to-earliest, --to-offset/],
    [{ toOffset: '-1' }, /whole number/],
    [{ toOffset: 'ten' }, /whole number/],
    [{ toDatetime: 'yesterday' }, /ISO 8601/],
    [{ toDatetime: '2025-01-31T12:00:00' }, /with a zone/],
  ])('refuses %j', (options, reason) => {
    const parsed = parseReplayTarget(options);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });

  it.each([
    ['--to-earliest', { toEarliest: true }, undefined, '3'],
    ['--to-offset below the log start', { toOffset: '1' }, undefined, '3'],
    ['--to-offset inside the log', { toOffset: '5' }, undefined, '5'],
    ['--to-offset past the end', { toOffset: '99' }, undefined, '10'],
    ['--to-datetime with a record after it', { toDatetime: '2025-01-01T00:00:00Z' }, '4', '4'],
    ['--to-datetime after the last record', { toDatetime: '2025-01-01T00:00:00Z' }, undefined, '10'],
  ])('%s moves a partition [3, 10) to the right offset', (_name, options, atTimestamp, expected) => {
    const parsed = parseReplayTarget(options);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(replayOffset(parsed.target, { partition: 0, low: '3', high: '10' }, atTimestamp)).toBe(expected);
  });

  it('prints old → new', () => {
    expect(offsetChangeLine({ topic: 'p.events', partition: 1, from: 12, to: 0 })).toBe('p.events 1: 12 → 0');
    expect(offsetChangeLine({ topic: 'p.events', partition: 1, from: null, to: 0 })).toBe('p.events 1: - → 0');
    expect(offsetChangeLine({ topic: 'p.events', partition: 1, from: 4, to: 4 })).toBe('p.events 1: 4 → 4 (unchanged)');
  });
});

describe('lag', () => {
  it('is end minus committed, unknown without a commit, summed per group', () => {
    const lag = groupLag('p.projector', 'Empty', 0, [partitionLag('p.events', 1, '4', '10'), partitionLag('p.events', 0, '-1', '3'), partitionLag('p.admin', 0, undefined, '2')]);
    expect(lag.partitions.map(({ topic, partition, lag: behind }) => [topic, partition, behind])).toEqual([['p.admin', 0, null], ['p.events', 0, null], ['p.events', 1, 6]]);
    expect(lag.totalLag).toBe(6);
    expect(lagTableRows(lag)[2]).toEqual({ group: 'p.projector', state: 'Empty', members: 0, topic: 'p.events', partition: 1, committed: 4, end: 10, lag: 6 });
  });

  it('shows a group without offsets as one row', () => {
    expect(lagTableRows(groupLag('p.x', 'Stable', 1, []))).toHaveLength(1);
  });
});

describe('topics', () => {
  it('sums end offsets and marks configs that drifted from the declaration', () => {
    const summary = topicSummary('p', 'audit', { configs: { 'cleanup.policy': 'compact', 'retention.ms': '-1' }, offsets: [{ partition: 0, low: '2', high: '9' }] });
    expect(summary).toMatchObject({ topic: 'p.audit', exists: true, partitions: 1, endTotal: 9, drift: [{ config: 'cleanup.policy', declared: 'delete', actual: 'compact' }] });
    expect(topicTableRow(summary).configs).toBe('cleanup.policy=compact (declared delete) retention.ms=-1');
  });

  it('compares the partitions with the count the configuration sets, else the declared one', () => {
    const offsets = Array.from({ length: 12 }, (_, partition) => ({ partition, low: '0', high: '0' }));
    expect(topicTableRow(topicSummary('p', 'events', { configs: {}, offsets }, 12)).partitions).toBe('12');
    expect(topicTableRow(topicSummary('p', 'events', { configs: {}, offsets })).partitions).toBe('12 (declared 6)');
  });

  it('reports a declared topic the broker does not have', () => {
    expect(topicTableRow(topicSummary('p', 'events', undefined)).partitions).toBe('MISSING');
  });
});
