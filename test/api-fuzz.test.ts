import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, SCOPES, teamId } from '@trapline/api';
import { Appender, createKafka, createLogger, createRedis, inTransaction, type OutgoingRecord, type Redis } from '@trapline/runtime';
import { SessionStore, SignInThrottle } from '../services/api/src/adapters/sessions.ts';
import { alertKeys, Codec, DEFAULT_RULE, ruleRecord, type NormalizedEvent } from '@trapline/schemas';
import { applyRecord } from '../services/projector/src/read-models/index.ts';
import { request as undiciRequest } from 'undici';
import { serviceSet } from '@trapline/cli/services';
import { freePort, injectableApi, isolated, type Isolated } from './harness.ts';

// Invariant 6 for the Web API: 20,000 generated hostile requests per run over every route of the
// OpenAPI document (so a new route is fuzzed as soon as it exists) — hostile path segments, query
// strings, bodies, content types and headers, with good tokens and bad ones. Every answer is below
// 500, every refusal is `{"detail": string}`, a refused request appends nothing, and the log grows
// by exactly what the accepted requests appended. Through `app.inject()` on a real Postgres and Kafka,
// and a share of them over HTTP through the front door (nginx), which must add no 5xx of its own.
// A failure prints fast-check's seed: FUZZ_SEED=<seed> replays the same run (the read models evolve
// with it, so the whole run, not only the counterexample), and FUZZ_LOG=error shows the API's own error.

const RUNS = 20_000;
const DOOR_RUNS = 2_000;
const ORG = 'acme';
const PROJECT = { id: 1, slug: 'web' };
const EVENT_ID = 'ab'.repeat(16);
const TX = 'cd'.repeat(16);
const PUBLIC_KEY = 'ef'.repeat(16);
const TEAM = 'fuzzers';
const RULE_ID = '1234567890';
const HOOK_ID = '12'.repeat(16);

const TOKENS = {
  admin: [ORG, ['org:admin', 'project:admin', 'event:admin']],
  readOnly: [ORG, ['org:read', 'project:read', 'event:read']],
  other: ['other', ['org:admin', 'project:admin', 'event:admin']],
  inactive: [ORG, ['org:admin', 'project:admin', 'event:admin']],
} as const;
const tokenOf = (name: keyof typeof TOKENS | 'user') => `tpl_fuzz_${name}`;
/** A person: an owner, and a member whose user token (every scope, capped by the member role) the fuzzer also sends. */
const OWNER_MEMBER_ID = '11';
const MEMBER_ID = '12';
const USER_TOKEN_ID = '13';

let env: Isolated;
let redis: Redis;
let appender: Appender;
let app: FastifyInstance;
let issueId: string;
/** Records appended through the API: the current request's, and counts per topic. */
const appended = { request: [] as OutgoingRecord[], byTopic: new Map<string, number>() };
const codec = new Codec();

/** The read model the fuzzed requests meet, written by the projector's own code from records. */
async function insertFixtures(): Promise<void> {
  const now = Date.now();
  const event: NormalizedEvent = { event_id: EVENT_ID, timestamp: now / 1000, received: now / 1000, level: 'error', platform: 'node', tags: [['release', 'web@1']], message: 'fuzz target' };
  const records: OutgoingRecord[] = [
    { key: `organization/${ORG}`, name: 'OrganizationUpserted', value: { slug: ORG, name: 'Acme', createdAt: now } },
    { key: 'organization/other', name: 'OrganizationUpserted', value: { slug: 'other', name: 'Other', createdAt: now } },
    { key: 'project/1', name: 'ProjectUpserted', value: { projectId: PROJECT.id, organizationSlug: ORG, slug: PROJECT.slug, name: 'Web', platform: 'node', createdAt: now } },
    { key: `team/${teamId(ORG, TEAM)}`, name: 'TeamUpserted', value: { teamId: teamId(ORG, TEAM), organizationSlug: ORG, slug: TEAM, name: 'Fuzzers', actor: 'cli', createdAt: now } },
    { key: 'project/1/teams', name: 'ProjectTeamsChanged', value: { projectId: PROJECT.id, teamIds: [teamId(ORG, TEAM)], actor: 'cli', changedAt: now } },
    { key: `key/${PUBLIC_KEY}`, name: 'ProjectKeyUpserted', value: { publicKey: PUBLIC_KEY, secretKey: '0'.repeat(32), projectId: PROJECT.id, label: 'Default', active: true, createdAt: now } },
    ...Object.entries(TOKENS).map(([name, [org, scopes]]): OutgoingRecord => {
      const tokenHash = hashToken(tokenOf(name as keyof typeof TOKENS));
      return { key: `token/${tokenHash}`, name: 'ApiTokenUpserted', value: { tokenHash, organizationSlug: org, scopes: [...scopes], label: name, active: name !== 'inactive', createdAt: now } };
    }),
    { key: alertKeys.rule(PROJECT.id, RULE_ID), name: 'AlertRuleUpserted', value: ruleRecord(DEFAULT_RULE, { projectId: PROJECT.id, ruleId: RULE_ID, actor: 'token:fuzz', createdAt: now, changedAt: now }) },
    { key: alertKeys.hook(PROJECT.id, HOOK_ID), name: 'ServiceHookUpserted', value: { projectId: PROJECT.id, hookId: HOOK_ID, url: 'http://127.0.0.1:9/hook', events: ['event.alert'], secret: '0'.repeat(64), status: 'active', deleted: false, actor: 'token:fuzz', createdAt: now, changedAt: now } },
    { key: 'user/21', name: 'UserUpserted', value: { userId: '21', email: 'owner@example.com', name: 'Owner', passwordHash: null, createdAt: now } },
    { key: 'user/22', name: 'UserUpserted', value: { userId: '22', email: 'member@example.com', name: 'Member', passwordHash: null, createdAt: now } },
    { key: `member/${OWNER_MEMBER_ID}`, name: 'MemberUpserted', value: { memberId: OWNER_MEMBER_ID, organizationSlug: ORG, userId: '21', email: 'owner@example.com', role: 'owner', inviteTokenHash: null, inviteExpiresAt: null, invitedBy: null, createdAt: now } },
    { key: `member/${MEMBER_ID}`, name: 'MemberUpserted', value: { memberId: MEMBER_ID, organizationSlug: ORG, userId: '22', email: 'member@example.com', role: 'member', inviteTokenHash: null, inviteExpiresAt: null, invitedBy: null, createdAt: now } },
    { key: `user-token/${USER_TOKEN_ID}`, name: 'UserTokenUpserted', value: { tokenId: USER_TOKEN_ID, tokenHash: hashToken(tokenOf('user')), userId: '22', scopes: [...SCOPES], label: 'fuzz', active: true, createdAt: now } },
    { key: `1/${EVENT_ID}`, name: 'EventReceived', value: { projectId: PROJECT.id, eventId: EVENT_ID, receivedAt: now, keyId: PUBLIC_KEY, payload: JSON.stringify(event) } },
    { key: `1/deletion/${TX}`, name: 'EventDeletionRequested', value: { projectId: PROJECT.id, eventId: '0'.repeat(32), transactionId: TX, actor: 'token:fuzz', requestedAt: now } },
    { key: `${TX}:requested`, name: 'AuditEntry', value: { id: `${TX}:requested`, organizationSlug: ORG, projectId: PROJECT.id, event: 'event.delete', actor: 'token:fuzz', transactionId: TX, targetObject: '0'.repeat(32), data: '{}', createdAt: now } },
  ];
  await inTransaction(env.pool, async (db) => {
    for (const record of records) await applyRecord(db, record as never);
  });
  issueId = String((await env.pool.query<{ id: string }>('SELECT id FROM groups')).rows[0]!.id);
}

/** Counts what the API appends, so a refused request can be held to "nothing written". */
function countingAppender(real: Appender): Appender {
  return new Proxy(real, {
    get(target, property) {
      if (property === 'append') {
        return async (topic: string, records: OutgoingRecord[]) => {
          const positions = await target.append(topic, records);
          appended.request.push(...records);
          appended.byTopic.set(topic, (appended.byTopic.get(topic) ?? 0) + records.length);
          return positions;
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Why the projector would dead-letter one of these accepted records, if it would: an accepted
 * write the read models can never apply is a write lost after its 2xx. Tried in a rolled-back
 * transaction, after the codec's round trip, as the projector meets them.
 */
async function projectorRefusal(records: OutgoingRecord[]): Promise<string | undefined> {
  const db = await env.pool.connect();
  try {
    await db.query('BEGIN');
    for (const record of records) {
      const encoded = codec.encode(record.name, record.value);
      const decoded = codec.decode(encoded.headers, encoded.value);
      if (!decoded.ok) return decoded.reason;
      await applyRecord(db, decoded.record);
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await db.query('ROLLBACK');
    db.release();
  }
}

async function endOffsets(): Promise<Map<string, number>> {
  const admin = createKafka(env.config.kafkaBrokers, 'test-fuzz-admin', createLogger('test', 'error')).admin();
  await admin.connect();
  try {
    const ends = new Map<string, number>();
    for (const topic of Object.values(env.topics)) ends.set(topic, (await admin.fetchTopicOffsets(topic)).reduce((sum, partition) => sum + Number(partition.high), 0));
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/** Every read-model table, row by row: the API only reads Postgres. */
async function readModelDigest(): Promise<string> {
  const tables = await env.pool.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'pgmigrations' ORDER BY 1");
  const digests = await Promise.all(tables.rows.map(async ({ tablename }) => `${tablename}:${(await env.pool.query<{ d: string }>(`SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS d FROM "${tablename}" t`)).rows[0]!.d}`));
  return digests.join('\n');
}

beforeAll(async () => {
  env = await isolated();
  const logger = createLogger('test', process.env.FUZZ_LOG ?? 'silent');
  appender = await Appender.connect(createKafka(env.config.kafkaBrokers, 'test-api-fuzz', logger), codec);
  redis = createRedis(env.config.REDIS_URL);
  await redis.connect();
  // Sign-in refused after two failures per address, so the fuzzer meets 429s without paying a slowed answer per request.
  const throttle = new SignInThrottle(redis, env.config.KAFKA_TOPIC_PREFIX, { perEmail: 2, perAddress: 2, windowSeconds: 600 });
  app = await injectableApi(env, countingAppender(appender), logger, { sessions: new SessionStore(redis, env.config.KAFKA_TOPIC_PREFIX, 600), throttle });
  await insertFixtures();
});

afterAll(async () => {
  await app?.close();
  await appender?.close();
  redis?.disconnect();
  await env?.dispose();
});

// ---- generators ----

const SQL = ["' OR '1'='1", "'; DROP TABLE groups; --", '1; SELECT pg_sleep(5)', "1' UNION SELECT token_hash FROM api_tokens --", '\\', '%', '_', '$1', '"', ';'];

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 4 }),
  fc.constantFrom(
    '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
    ...SQL,
    '\u0000', '\ufeff', '\u202e', '../../../etc/passwd', '%s%n%x', '${jndi:ldap://127.0.0.1/x}', '<script>alert(1)</script>', '\r\nX-Injected: 1', '\nSet-Cookie: a=b',
    '9'.repeat(400), '1e400', '-1', '0', 'NaN', 'Infinity', '0x10', '1.5', '4503599627370497', '18446744073709551616',
    'a'.repeat(10_000), '€'.repeat(3000),
  ),
);
/** SQL in every string: whatever the string, often with an injection attempt or a character Postgres or HTTP refuses around it. */
const sqlString = fc.tuple(hostileString, fc.option(fc.constantFrom(...SQL, '\u0000', '\ud800', '\r\n'), { nil: undefined }), fc.boolean()).map(([text, extra, before]) => (extra === undefined ? text : before ? extra + text : text + extra));

/** Percent-encodes every byte that is not unreserved, so any string (lone surrogates included) becomes a valid URL component. */
const percentEncode = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
/** URL components that decode to invalid UTF-8 or are not valid percent-encoding at all. */
const RAW_COMPONENTS = ['%ff', '%fe%ff', '%c0%af', '%ed%a0%80', '%f8%88%80%80%80', '%', '%z', '%zz', '%00', '%2e%2e', '..', '.', '%2f', '%5c', '%0d%0aX-Injected:%201', 'a%', '%E2%82'];
const rawComponent = fc.constantFrom(...RAW_COMPONENTS);

const VALID_PARAMS: Record<string, () => string> = {
  org: () => ORG,
  project: () => PROJECT.slug,
  id: () => issueId,
  eventId: () => EVENT_ID,
  keyId: () => PUBLIC_KEY,
  transactionId: () => TX,
  key: () => 'release',
  team: () => TEAM,
  ruleId: () => RULE_ID,
  hookId: () => HOOK_ID,
  // Another member than the user token's own (removing oneself is allowed, and would append).
  memberId: () => OWNER_MEMBER_ID,
  tokenId: () => USER_TOKEN_ID,
  // Well-formed, but no invitation's: accepting one would create a user.
  token: () => 'ab'.repeat(32),
};
/** Valid-looking values for a query parameter, so hostile ones are mixed with requests that get further. */
const VALID_QUERY: Record<string, string[]> = {
  query: ['is:unresolved', 'level:error release:web@1', 'fuzz', ''],
  sort: ['date', 'new', 'freq', 'user'],
  statsPeriod: ['24h', '14d', ''],
  cursor: ['0:0:0', '0:100:0', ''],
  per_page: ['1', '100'],
  full: ['true', 'false'],
  project: ['1', '2'],
  id: ['1', '99'],
  event: ['issue.delete', 'event.delete'],
  actor: ['token:fuzz', 'system:retention'],
};

const pathSegment = (name: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(VALID_PARAMS[name]?.() ?? 'x') },
    { weight: 3, arbitrary: sqlString.map(percentEncode) },
    { weight: 1, arbitrary: rawComponent },
    { weight: 1, arbitrary: fc.tuple(fc.constant(VALID_PARAMS[name]?.() ?? 'x'), rawComponent).map(([valid, raw]) => valid + raw) },
  );

const queryString = (names: string[]) => {
  const pair = fc.tuple(
    fc.oneof({ weight: 4, arbitrary: names.length > 0 ? fc.constantFrom(...names) : fc.constant('x') }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '__proto__[x]', 'a[b]', '') }, { weight: 1, arbitrary: sqlString.map(percentEncode) }),
    fc.oneof({ weight: 3, arbitrary: sqlString.map(percentEncode) }, { weight: 1, arbitrary: rawComponent }),
  );
  const known = names.flatMap((name) => (VALID_QUERY[name] ?? []).map((value) => `${name}=${percentEncode(value)}`));
  return fc.array(fc.oneof(pair.map(([key, value]) => `${key}=${value}`), ...(known.length > 0 ? [fc.constantFrom(...known)] : []), fc.constantFrom('&', '=', '==', 'a', '&&=&')), { maxLength: 6 }).map((parts) => (parts.length === 0 ? '' : `?${parts.join('&')}`));
};

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double(), fc.integer(), fc.bigInt().map((n) => n * 10n ** 30n), sqlString, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(sqlString, tie('value'), { maxKeys: 5 })),
})).value;

const deep = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);
/** JSON.stringify for bigints too: huge numbers as they would arrive on the wire. */
const toJson = (value: unknown) => JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'bigint' ? `__big${inner}__` : inner))?.replace(/"__big(-?\d+)__"/g, '$1') ?? 'null';

type JsonSchema = { type?: string; enum?: unknown[]; properties?: Record<string, JsonSchema> };

/** A value for one property of a route's body schema: plausible for its type, or (unless `plausibleOnly`) hostile. */
function propertyValue(schema: JsonSchema, plausibleOnly: boolean) {
  const plausible = schema.enum
    ? fc.constantFrom(...schema.enum)
    : schema.type === 'boolean'
      ? fc.boolean()
      : schema.type === 'number' || schema.type === 'integer'
        ? fc.oneof(fc.integer({ min: -10, max: 1000 }), fc.double(), fc.constant(null))
        : fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary-ascii', maxLength: 30 }));
  return plausibleOnly ? plausible : fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 2, arbitrary: sqlString }, { weight: 1, arbitrary: jsonValue });
}

/** Bodies shaped by the route's own schema in the OpenAPI document, so a new body field is fuzzed too. */
const schemaBody = (schema: JsonSchema, plausibleOnly: boolean) =>
  fc.record(Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, propertyValue(property, plausibleOnly)])), { requiredKeys: [] }).map(toJson);

const hostileBody = fc.oneof(
  fc.constant(undefined),
  jsonValue.map(toJson),
  fc.constantFrom(
    '{"__proto__":{"isActive":false},"status":"resolved"}',
    '{"constructor":{"prototype":{"isActive":false}},"status":"resolved"}',
    '{"status":"resolved","__proto__":null}',
    '{"status":1e999}', '{"isActive":123456789012345678901234567890}', '{"name":-0}', '{"status":"resolved","status":"ignored"}',
    deep(10_000, '[', ']'), deep(10_000, '{"a":', '}'), deep(200, '{"status":', '}', '"resolved"'),
    '{"status": "resolved"', '{"status":"\\ud800"}', '\u0000', '', ' ', 'null', '[]', '"resolved"',
  ),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.concat([Buffer.from('{"status":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}')])),
  fc.constant(`{"name":"${'x'.repeat(2 * 1024 * 1024)}"}`),
);

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json\r\nX-Injected: 1', ';;;', 'application/json; charset="', ''];

const hostileAuthorization = fc.oneof(
  fc.constant(undefined),
  sqlString.map((text) => `Bearer ${text}`),
  sqlString,
  fc.constantFrom('Bearer', 'Bearer  ', `bearer ${tokenOf('admin')}`, `Bearer ${tokenOf('admin')} extra`, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${tokenOf('admin')}\r\nX-Injected: 1`, `Bearer ${hashToken(tokenOf('admin'))}`, 'Sentry sentry_key=x'),
);

type Operation = { method: string; path: string; pathParams: string[]; queryParams: string[]; body: JsonSchema | undefined };

function operationsOf(document: OpenAPIV3.Document): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    (['get', 'put', 'post', 'delete', 'patch'] as const).flatMap((method) => {
      const operation = item?.[method];
      if (!operation) return [];
      const parameters = (operation.parameters ?? []) as OpenAPIV3.ParameterObject[];
      return [{
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!),
        queryParams: parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
        body: (operation.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content['application/json']?.schema as JsonSchema | undefined,
      }];
    }),
  );
}

const DIMENSIONS = ['method', 'path', 'query', 'body', 'contentType', 'authorization', 'headers'] as const;
type Dimension = (typeof DIMENSIONS)[number];

/**
 * One request: each dimension either plausible (what a correct client sends) or hostile. Most
 * requests make one dimension hostile, so it meets the code behind the checks of the others;
 * some make every dimension hostile at once.
 */
function request(operations: Operation[]) {
  // Writes three times as often as reads: they are fewer, and what they accept must be projectable.
  const weighted = operations.flatMap((operation) => (operation.method === 'GET' ? [operation] : [operation, operation, operation]));
  return fc.tuple(fc.constantFrom(...weighted), fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DIMENSIONS) }, { weight: 1, arbitrary: fc.constant('all' as const) })).chain(([operation, focus]) => {
    const pick = <T, U>(dimension: Dimension, plausible: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>): fc.Arbitrary<T | U> => (focus === dimension || focus === 'all' ? hostile : plausible);
    const plausibleBody = operation.body ? schemaBody(operation.body, true) : fc.constant(undefined);
    return fc.record({
      operation: fc.constant(operation),
      focus: fc.constant(focus),
      method: pick('method', fc.constant(operation.method), fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH')),
      segments: pick('path', fc.constant(operation.pathParams.map((name) => VALID_PARAMS[name]?.() ?? 'x')), fc.tuple(...operation.pathParams.map(pathSegment))),
      trailing: pick('path', fc.constant(''), fc.constantFrom('', '/', '//', '%2F', '/..', '/.')),
      query: pick('query', fc.constant(''), queryString(operation.queryParams)),
      body: pick('body', plausibleBody, operation.body ? fc.oneof(schemaBody(operation.body, false), hostileBody) : hostileBody),
      contentType: pick('contentType', fc.constant('application/json'), fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined })),
      authorization: pick('authorization', fc.constantFrom(...(Object.keys(TOKENS) as (keyof typeof TOKENS)[]), 'admin', 'admin', 'user').map((name) => `Bearer ${tokenOf(name)}`), hostileAuthorization),
      extraHeaders: pick('headers', fc.constant({}), fc.dictionary(fc.constantFrom('x-forwarded-for', 'x-forwarded-host', 'host', 'origin', 'cookie', 'accept', 'accept-encoding', 'content-encoding', 'content-length', 'x-sentry-auth', 'transfer-encoding'), sqlString, { minKeys: 1, maxKeys: 3 })),
    });
  });
}

function urlOf(sample: { operation: Operation; segments: string[]; trailing: string; query: string }): string {
  let index = 0;
  const path = sample.operation.path.replace(/\{\w+\}/g, () => sample.segments[index++]!);
  return (sample.trailing === '' ? path : path.replace(/\/$/, sample.trailing)) + sample.query;
}

/** What a client would put on the wire: headers a real HTTP parser would refuse are left out. */
const sendable = (value: string) => !/[\r\n\0]/.test(value) && /^[\t\x20-\x7e\x80-\xff]*$/.test(value);

interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Sample = ReturnType<typeof request> extends fc.Arbitrary<infer T> ? T : never;

/** Sends one generated request and holds its answer to invariant 6; `send` says how it travels (undefined: a client could not send it). */
async function fuzz(runs: number, send: (sample: Sample, headers: Record<string, string>) => Promise<Answer | undefined>) {
  const operations = operationsOf(app.swagger() as OpenAPIV3.Document);
  expect(operations.length).toBeGreaterThan(20);
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request(operations), async (sample) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries({ ...sample.extraHeaders, authorization: sample.authorization, 'content-type': sample.body === undefined ? undefined : sample.contentType })) {
        if (value !== undefined && sendable(value)) headers[name] = value;
      }
      appended.request = [];
      const response = await send(sample, headers);
      if (response === undefined) return;
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      expect(response.statusCode, `${sample.method} ${urlOf(sample)}: ${response.body.slice(0, 300)}`).toBeLessThan(500);
      expect(response.headers['x-injected']).toBeUndefined();
      if (response.statusCode >= 400) {
        expect(response.headers['content-type'], `${sample.method} ${urlOf(sample)}: ${response.body.slice(0, 300)}`).toMatch(/^application\/json/);
        const answer = JSON.parse(response.body) as Record<string, unknown>;
        expect(Object.keys(answer)).toEqual(['detail']);
        expect(typeof answer.detail).toBe('string');
        expect(appended.request, `a refused ${sample.method} appended`).toEqual([]);
      } else if (appended.request.length > 0) {
        expect(await projectorRefusal(appended.request), `${sample.method} ${urlOf(sample)} was accepted but cannot be projected`).toBeUndefined();
      }
    }),
    { numRuns: runs, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
  );
  // The mix reached past validation: successes and each kind of refusal, not only 404s.
  for (const status of [200, 400, 401, 403, 404]) expect(statuses.get(status) ?? 0, `answers with ${status}: ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);
}

describe('the Web API under hostile input', () => {
  it(`answers ${RUNS} generated hostile requests over every route below 500, refusals as {"detail": …}, writing nothing on a refusal`, async () => {
    const logBefore = await endOffsets();
    const readModelBefore = await readModelDigest();
    await fuzz(RUNS, async (sample, headers) => {
      const response = await app.inject({ method: sample.method as 'GET', url: urlOf(sample), headers, ...(sample.body === undefined ? {} : { payload: sample.body }) });
      return { statusCode: response.statusCode, headers: response.headers as Answer['headers'], body: response.body };
    });
    // The log grew by exactly what accepted requests appended (nothing behind the API's back), and the read models are untouched.
    const logAfter = await endOffsets();
    for (const [topic, before] of logBefore) expect(logAfter.get(topic), topic).toBe(before + (appended.byTopic.get(topic) ?? 0));
    expect(await readModelDigest()).toBe(readModelBefore);
  }, 180_000);

  it(`answers ${DOOR_RUNS} of them over HTTP through the front door (nginx) the same way`, async () => {
    const apiPort = await freePort();
    await app.listen({ host: '127.0.0.1', port: apiPort });
    const door = serviceSet({ ...env.env, API_URL: `http://127.0.0.1:${apiPort}`, INGEST_URL: `http://127.0.0.1:${apiPort}` });
    try {
      await door.start('gateway');
      await fuzz(DOOR_RUNS, async (sample, headers) => {
        try {
          const response = await undiciRequest(`${env.config.PUBLIC_URL}${urlOf(sample)}`, { method: sample.method as 'GET', headers, ...(sample.body === undefined ? {} : { body: sample.body }) });
          return { statusCode: response.statusCode, headers: response.headers, body: await response.body.text() };
        } catch (error) {
          // What an HTTP client refuses to put on the wire (a raw byte in the path, a forged content-length) never reaches the door.
          // undici also asserts on a Host header it cannot parse (e.g. "[") while building the request.
          const code = (error as { code?: string }).code;
          if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' || code === 'ERR_ASSERTION') return undefined;
          throw error;
        }
      });
    } finally {
      await door.stopAll();
    }
  }, 180_000);
});
