import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { Codec, loadSchemaSources, SCHEMA_HEADER, VERSION_HEADER } from './codec.ts';
import type { RecordName, RecordTypes } from './records.ts';

const codec = new Codec();

const samples: { [N in RecordName]: RecordTypes[N] } = {
  EventReceived: { projectId: 1, eventId: 'a'.repeat(32), receivedAt: 1_700_000_000_000, keyId: 'k', payload: '{"x":1}' },
  GroupDeletionRequested: { projectId: 1, groupId: 2 ** 52 - 1, hashes: ['h1', 'h2'], transactionId: 't', actor: 'token:1', requestedAt: 5 },
  EventDeletionRequested: { projectId: 1, eventId: 'b'.repeat(32), transactionId: 't', actor: 'a', requestedAt: 5 },
  GroupStatusChanged: { projectId: 1, groupId: 3, status: 'resolved', actor: 'a', changedAt: 6, inRelease: null, inNextRelease: 'web@1' },
  EventsPurged: { projectId: 1, transactionId: 't', groupId: null, eventIds: ['c'.repeat(32)], chunk: 0, final: true, eventsRemoved: 1, rowsRemoved: 3, purgedAt: 7, expiredBefore: null },
  DeletionFailed: { projectId: 1, transactionId: 't', attempt: 2, reason: 'connection refused', dead: false, failedAt: 8 },
  DeletionStep: {
    transactionId: 't', kind: 'group', projectId: 1, groupId: 9, eventId: null, cutoff: null, actor: 'a', requestedAt: 5, dueAt: 3605, requestPartition: 2, requestOffset: '41',
    attempt: 0, cursor: null, chunks: 0, eventsRemoved: 0, rowsRemoved: 0, lastError: null, issues: 0,
  },
  RetentionRequested: { projectId: 1, transactionId: 't', cutoff: 1_700_000_000_000, actor: 'system:retention', requestedAt: 1_700_000_000_001, allProjects: false },
  ProjectRetentionChanged: { projectId: 7, retentionDays: 30.5, actor: 'token:abc', changedAt: 1 },
  ProjectAllowedOriginsChanged: { projectId: 7, allowedOrigins: ['https://app.example.com', '*.example.org'], actor: 'token:abc', changedAt: 1 },
  AuditEntry: { id: 't:requested', organizationSlug: 'acme', projectId: 1, event: 'issue.delete', actor: 'a', transactionId: 't', targetObject: '9', data: '{}', createdAt: 5 },
  OrganizationUpserted: { slug: 'acme', name: 'Acme', createdAt: 1 },
  ProjectUpserted: { projectId: 7, organizationSlug: 'acme', slug: 'web', name: 'Web', platform: null, createdAt: 1 },
  ProjectKeyUpserted: { publicKey: 'p', secretKey: 's', projectId: 7, label: 'Default', active: true, createdAt: 1, rateLimit: { count: 100, window: 60 } },
  TeamUpserted: { teamId: 2 ** 52 - 1, organizationSlug: 'acme', slug: 'backend', name: 'Backend', actor: 'token:abc', createdAt: 1 },
  TeamMemberUpserted: { teamId: 2 ** 52 - 1, memberId: '42', organizationSlug: 'acme', teamRole: null, actor: 'user:1', addedAt: 1 },
  ProjectTeamsChanged: { projectId: 7, teamIds: [1, 2], actor: 'cli', changedAt: 1 },
  ApiTokenUpserted: { tokenHash: 'h', organizationSlug: 'acme', scopes: ['event:read'], label: 'ci', active: false, createdAt: 1 },
  ReleaseUpserted: {
    organizationSlug: 'acme', version: 'web@1.2.0', projectIds: [7], ref: null, url: null, dateCreated: 1, dateStarted: null, dateReleased: 2,
    commits: [{ id: 'abc123', repository: 'acme/web', message: null, authorName: null, authorEmail: null, timestamp: null }], deleted: false, actor: 'token:abc', changedAt: 2,
  },
  DeployCreated: { organizationSlug: 'acme', version: 'web@1.2.0', deployId: 'd1', environment: 'production', name: null, url: null, dateStarted: null, dateFinished: 3, projectIds: [7], actor: 'token:abc' },
  RepositoryUpserted: { organizationSlug: 'acme', name: 'acme/web', url: null, createdAt: 1 },
  ArtifactBundleAssembled: {
    projectId: 7, organizationSlug: 'acme', bundleId: 'a'.repeat(40), release: null, dist: null, actor: 'token:abc', assembledAt: 4,
    files: [{ url: '~/app.min.js', type: 'minified_source', debugId: 'c0ffee00-0000-4000-8000-000000000000', sourceMap: 'app.min.js.map', blob: 'b'.repeat(40), size: 10 }],
  },
  AlertRuleUpserted: { projectId: 1, ruleId: '7', name: 'r', actionMatch: 'all', filterMatch: 'all', frequency: 30, environment: null, conditions: '[]', filters: '[]', actions: '[]', status: 'active', deleted: false, actor: 'a', createdAt: 1, changedAt: 2 },
  ServiceHookUpserted: { projectId: 1, hookId: 'h', url: 'http://x/', events: ['event.alert'], secret: 's', status: 'active', deleted: false, actor: 'a', createdAt: 1, changedAt: 2 },
  ProjectAlertEmailsChanged: { projectId: 1, emails: ['a@b.c'], actor: 'a', changedAt: 1 },
  AlertDelivery: { deliveryId: 'd', projectId: 1, organizationSlug: 'o', projectSlug: 'p', groupId: 3, ruleId: null, ruleName: 'r', trigger: 'first_seen', kind: 'webhook', action: '{}', issue: '{}', event: '{}', decidedAt: 1, attempt: 0, dueAt: 1, lastError: null },
  AlertDeliveryChanged: { deliveryId: 'd', projectId: 1, groupId: 3, ruleId: '7', ruleName: 'r', trigger: 'regression', kind: 'email', target: 'a@b.c', status: 'sent', attempts: 1, lastError: null, decidedAt: 1, changedAt: 2 },
  NotifierIssueState: { projectId: 1, hash: 'h', generation: 0, groupId: 9, status: 'unresolved', deletedAt: null, timesSeen: 2, firstSeen: 1, minutes: [{ start: 60000, count: 2 }], hours: [], lastFired: { '7': 5 } },
  NotifierPosition: { topic: 't.events', partition: 2, nextOffset: '42' },
  UserUpserted: { userId: '12', email: 'ada@example.com', name: 'Ada', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', createdAt: 1 },
  MemberUpserted: { memberId: '34', organizationSlug: 'acme', userId: null, email: 'bob@example.com', role: 'member', inviteTokenHash: 'h', inviteExpiresAt: 9, invitedBy: 'user:12', createdAt: 1 },
  UserTokenUpserted: { tokenId: '56', tokenHash: 'h', userId: '12', scopes: ['event:read'], label: 'laptop', active: true, createdAt: 1 },
};

/** avsc's own type for the newest version of a record's schema. */
const avroType = (name: RecordName) =>
  avro.Type.forSchema(loadSchemaSources().filter((source) => source.name === name).sort((a, b) => b.version - a.version)[0]!.schema);

describe('the record codec', () => {
  it.each(Object.keys(samples) as RecordName[])('round-trips %s with headers naming schema and version', (name) => {
    const encoded = codec.encode(name, samples[name] as never);
    const newest = Math.max(...codec.known().filter((entry) => entry.name === name).map((entry) => entry.version));
    expect(encoded.headers).toEqual({ [SCHEMA_HEADER]: name, [VERSION_HEADER]: String(newest) });
    const decoded = codec.decode(encoded.headers, encoded.value);
    expect(decoded.ok && decoded.record.name).toBe(name);
    expect(decoded.ok && { ...decoded.record.value }).toEqual(samples[name]);
  });

  it('encodes records of any size to the bytes of avsc, each its own copy', () => {
    const codec = new Codec();
    const sizes = [0, 1000, 70_000, 300_000, 10];
    const encoded = sizes.map((size) => codec.encode('EventReceived', { ...samples.EventReceived, payload: 'é'.repeat(size) }));
    sizes.forEach((size, index) => {
      const value = { ...samples.EventReceived, payload: 'é'.repeat(size) };
      expect(encoded[index]!.value.equals(avroType('EventReceived').toBuffer(value))).toBe(true);
      const decoded = codec.decode(encoded[index]!.headers, encoded[index]!.value);
      expect(decoded.ok && (decoded.record.value as { payload: string }).payload.length).toBe(size);
    });
  });

  it('knows every record the TypeScript types name', () => {
    expect(new Set(codec.known().map((entry) => entry.name))).toEqual(new Set(Object.keys(samples)));
  });

  it('refuses to encode a value that does not match the schema', () => {
    expect(() => codec.encode('EventReceived', { ...samples.EventReceived, projectId: 'x' } as never)).toThrow(/projectId/);
  });

  it("points at a trailing string field's bytes in the value, and at nothing for another layout or text a decode replaced", () => {
    const payload = JSON.stringify({ message: 'caf\u00e9 \u2713 \ud83d\ude00 "quoted" \\ back' });
    const encoded = codec.encode('EventReceived', { projectId: 1, eventId: 'e'.repeat(32), receivedAt: 5, keyId: 'k', payload });
    const decoded = codec.decode(encoded.headers, encoded.value);
    if (!decoded.ok || decoded.record.name !== 'EventReceived') throw new Error('no EventReceived');
    const bytes = codec.trailingString('EventReceived', 1, 'payload', encoded.value, decoded.record.value.payload)!;
    expect(bytes.toString()).toBe(payload);
    expect(bytes.buffer).toBe(encoded.value.buffer);
    expect(bytes.byteOffset + bytes.length).toBe(encoded.value.byteOffset + encoded.value.length);
    // Not the last field, or not a string, or no such record: nothing.
    expect(codec.trailingString('EventReceived', 1, 'keyId', encoded.value, 'k')).toBeUndefined();
    expect(codec.trailingString('EventReceived', 1, 'receivedAt', encoded.value, '5')).toBeUndefined();
    expect(codec.trailingString('Nothing', 1, 'payload', encoded.value, payload)).toBeUndefined();
    // Bytes that are not UTF-8 decode to U+FFFD, whose length in UTF-8 is not theirs.
    const invalid = codec.encode('EventReceived', { projectId: 1, eventId: 'e'.repeat(32), receivedAt: 5, keyId: 'k', payload: 'xAB' }).value;
    invalid[invalid.length - 3] = 0xff;
    const replaced = codec.decode(encoded.headers, invalid);
    if (!replaced.ok || replaced.record.name !== 'EventReceived') throw new Error('no EventReceived');
    expect(replaced.record.value.payload).toBe('\ufffdAB');
    expect(codec.trailingString('EventReceived', 1, 'payload', invalid, replaced.record.value.payload)).toBeUndefined();
  });

  it('decodes a record written with an older version after an optional field was added', () => {
    const v1: avro.Schema = { type: "record", name: "Thing", fields: [{ name: "id", type: "long" }] };
    const v2: avro.Schema = { type: "record", name: "Thing", fields: [{ name: "id", type: "long" }, { name: "note", type: ["null", "string"], default: null }] };
    const old = new Codec([{ name: 'Thing', version: 1, schema: v1 }]);
    const current = new Codec([{ name: 'Thing', version: 1, schema: v1 }, { name: 'Thing', version: 2, schema: v2 }]);
    const written = old.encode('Thing' as RecordName, { id: 42 } as never);
    const decoded = current.decode(written.headers, written.value);
    expect(decoded.ok && decoded.record.version).toBe(1);
    expect(decoded.ok && { ...decoded.record.value }).toEqual({ id: 42, note: null });
  });

  it('reads the records already on the log in version 1 of the schemas that gained expiry fields', () => {
    const v1 = loadSchemaSources().filter((source) => source.version === 1);
    const writeV1 = (name: RecordName, value: object) => new Codec(v1.filter((source) => source.name === name)).encode(name, value as never);
    const { allProjects: _all, ...retentionV1 } = samples.RetentionRequested;
    const { expiredBefore: _before, ...purgedV1 } = samples.EventsPurged;
    const retention = codec.decode(writeV1('RetentionRequested', retentionV1).headers, writeV1('RetentionRequested', retentionV1).value);
    expect(retention.ok && { ...retention.record.value }).toEqual({ ...retentionV1, allProjects: false });
    const purged = codec.decode(writeV1('EventsPurged', purgedV1).headers, writeV1('EventsPurged', purgedV1).value);
    expect(purged.ok && { ...purged.record.value }).toEqual({ ...purgedV1, expiredBefore: null });
    const step = codec.decode(writeV1('DeletionStep', samples.DeletionStep).headers, writeV1('DeletionStep', samples.DeletionStep).value);
    expect(step.ok && { ...step.record.value }).toEqual(samples.DeletionStep);
  });

  it.each([
    ['no headers', undefined, Buffer.from([1]), /missing schema headers/],
    ['an unknown schema', { [SCHEMA_HEADER]: 'Nope', [VERSION_HEADER]: '1' }, Buffer.from([1]), /unknown schema Nope/],
    ['an unknown version', { [SCHEMA_HEADER]: 'EventReceived', [VERSION_HEADER]: '9' }, Buffer.from([1]), /unknown version 9/],
    ['corrupt bytes', { [SCHEMA_HEADER]: 'EventReceived', [VERSION_HEADER]: '1' }, Buffer.from([0xff, 0xff, 0xff]), /corrupt EventReceived/],
    ['trailing garbage', { [SCHEMA_HEADER]: 'OrganizationUpserted', [VERSION_HEADER]: '1' }, Buffer.concat([codec.encode('OrganizationUpserted', samples.OrganizationUpserted).value, Buffer.from([1, 2, 3])]), /corrupt/],
    ['a null value', { [SCHEMA_HEADER]: 'EventReceived', [VERSION_HEADER]: '1' }, null, /null value/],
  ])('reports %s as a reason instead of throwing', (_case, headers, value, reason) => {
    const decoded = codec.decode(headers, value);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.reason).toMatch(reason);
  });
});
