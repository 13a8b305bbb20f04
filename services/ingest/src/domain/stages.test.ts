import { brotliCompressSync, constants as zlibConstants, deflateRawSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { authorize, findCredentials, type ProjectKey } from './auth.ts';
import { decodeLegacyStoreBody, decompress } from './body.ts';
import { parseEnvelope } from './envelope.ts';
import { LIMITS, normalizeEvent, serializeEvent } from './normalize.ts';
import { parseProjectId, runIngest, type IngestRequest } from './pipeline.ts';
import { describeRejection, reject, REJECTIONS, type RejectionReason } from './rejections.ts';

// The ingest stages with plain inputs: auth forms, encodings, envelopes, normalization, and one
// request per rejection reason through the whole pipeline.

const KEY: ProjectKey = { publicKey: 'a'.repeat(32), secretKey: 'b'.repeat(32), projectId: 7, active: true };
const lookup = (publicKey: string) => (publicKey === KEY.publicKey ? KEY : publicKey === 'disabled' ? { ...KEY, publicKey, active: false } : publicKey === 'other' ? { ...KEY, publicKey, projectId: 8 } : undefined);
const LIMITS_1K = { maxEventBytes: 1024, maxRequestBytes: 4096 };
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

const request = (overrides: Partial<IngestRequest>): IngestRequest => ({
  endpoint: 'store',
  projectId: '7',
  body: json({ message: 'hi' }),
  query: { sentry_key: KEY.publicKey },
  received: 1_700_000_000,
  ...overrides,
});

describe('authentication', () => {
  it.each([
    ['X-Sentry-Auth', { xSentryAuth: `Sentry sentry_key=${KEY.publicKey}, sentry_version=7, sentry_client=raven-js/3.0`, query: {} }],
    ['Authorization: Sentry', { authorization: `Sentry sentry_version=7, sentry_key=${KEY.publicKey}`, query: {} }],
    ['the query string', { query: { sentry_key: KEY.publicKey, sentry_version: '7' } }],
    ['the envelope dsn', { query: {}, envelopeDsn: `https://${KEY.publicKey}@example.com/7` }],
  ])('reads the key from %s', (_form, sources) => {
    expect(findCredentials(sources)).toEqual({ ok: true, value: { publicKey: KEY.publicKey } });
  });

  it.each([
    [{ query: {} }, 'missing_auth'],
    [{ xSentryAuth: 'Sentry sentry_version=7', query: {} }, 'invalid_auth'],
    [{ query: {}, envelopeDsn: 'not a url' }, 'invalid_auth'],
  ])('refuses %j as %s', (sources, reason) => {
    expect(findCredentials(sources)).toMatchObject({ ok: false, rejection: { reason } });
  });

  it.each([
    [{ publicKey: 'nope' }, 7, 'unknown_key'],
    [{ publicKey: KEY.publicKey, secretKey: 'wrong' }, 7, 'unknown_key'],
    [{ publicKey: 'disabled' }, 7, 'key_disabled'],
    [{ publicKey: 'other' }, 7, 'wrong_project'],
  ])('refuses %j for project %i as %s', (credentials, projectId, reason) => {
    expect(authorize(credentials, lookup(credentials.publicKey), projectId)).toMatchObject({ ok: false, rejection: { reason } });
  });

  it('accepts the right key with or without its secret', () => {
    expect(authorize({ publicKey: KEY.publicKey }, KEY, 7).ok).toBe(true);
    expect(authorize({ publicKey: KEY.publicKey, secretKey: KEY.secretKey }, KEY, 7).ok).toBe(true);
  });
});

describe('body decoding', () => {
  const body = json({ message: 'compressed' });
  it.each([
    ['gzip', gzipSync(body)],
    ['deflate', deflateSync(body)],
    ['deflate', deflateRawSync(body)],
    ['br', brotliCompressSync(body)],
    ['zstd', zstdCompressSync(body)],
    ['identity', body],
    [undefined, body],
  ])('decodes %s', (encoding, raw) => {
    expect(decompress(raw, encoding, 1024)).toEqual({ ok: true, value: body });
  });

  it.each([
    ['gzip', gzipSync],
    // Brotli's default quality (11) takes seconds for 50 MB on a busy machine; the bomb is as small at 5.
    ['br', (raw: Buffer) => brotliCompressSync(raw, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } })],
    ['zstd', zstdCompressSync],
  ])('refuses a %s decompression bomb without inflating it', (encoding, compress) => {
    const bomb = compress(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100 * 1024);
    expect(decompress(bomb, encoding, 1024 * 1024)).toMatchObject({ ok: false, rejection: { reason: 'too_large' } });
  });

  it.each([
    ['compress', body, 'unsupported_encoding'],
    ['zstd', Buffer.from('not zstd at all'), 'invalid_compression'],
    ['zstd', zstdCompressSync(body).subarray(0, 10), 'invalid_compression'],
    ['gzip', Buffer.from('not gzip at all'), 'invalid_compression'],
    ['gzip', gzipSync(body).subarray(0, 10), 'invalid_compression'],
  ])('refuses %s of a bad body as %s', (encoding, raw, reason) => {
    expect(decompress(raw, encoding, 1024)).toMatchObject({ ok: false, rejection: { reason } });
  });

  it('decodes a legacy Raven store body (base64 of zlib JSON)', () => {
    expect(decodeLegacyStoreBody(Buffer.from(deflateSync(body).toString('base64')), 1024)).toEqual({ ok: true, value: body });
    expect(decodeLegacyStoreBody(body, 1024)).toEqual({ ok: true, value: body });
  });
});

describe('envelopes', () => {
  it('reads items with and without length, binary payloads and blank lines', () => {
    const binary = Buffer.from([0x00, 0x0a, 0xff, 0x0a]);
    const raw = Buffer.concat([
      Buffer.from('{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://k@h/7"}\n'),
      Buffer.from('{"type":"event"}\n{"message":"a"}\n\n'),
      Buffer.from(`{"type":"attachment","length":${binary.length}}\n`),
      binary,
      Buffer.from('\n{"type":"session"}\n{"sid":"x"}\n'),
    ]);
    const parsed = parseEnvelope(raw);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.headers.event_id).toBe('9ec79c33ec9942ab8353589fcb2e04dc');
    expect(parsed.value.items.map((item) => item.type)).toEqual(['event', 'attachment', 'session']);
    expect(parsed.value.items[1]!.payload).toEqual(binary);
  });

  it.each([
    ['a header that is not JSON', 'nope\n'],
    ['an item header without type', '{}\n{"length":1}\nx\n'],
    ['a length beyond the body', '{}\n{"type":"event","length":999}\n{}\n'],
    ['a negative length', '{}\n{"type":"event","length":-1}\n{}\n'],
  ])('refuses %s', (_case, text) => {
    expect(parseEnvelope(Buffer.from(text))).toMatchObject({ ok: false, rejection: { reason: 'invalid_envelope' } });
  });
});

describe('normalization', () => {
  const received = 1_700_000_000;
  const normalize = (event: Record<string, unknown>) => {
    const result = normalizeEvent({ event, received, newEventId: () => '0123456789abcdef0123456789abcdef' });
    if (!result.ok) throw new Error(result.rejection.reason);
    return result.value;
  };

  it.each([
    [undefined, '0123456789abcdef0123456789abcdef'],
    ['9EC79C33-EC99-42AB-8353-589FCB2E04DC', '9ec79c33ec9942ab8353589fcb2e04dc'],
  ])('event_id %j becomes %s', (eventId, expected) => {
    expect(normalize({ event_id: eventId }).event_id).toBe(expected);
  });

  it.each([
    ['2026-11-25T10:00:00Z', Date.parse('2026-11-25T10:00:00Z') / 1000],
    ['2026-11-25T10:00:00', Date.parse('2026-11-25T10:00:00Z') / 1000],
    [1_764_064_800.5, 1_764_064_800.5],
    [1_764_064_800_500, 1_764_064_800.5],
    ['garbage', received],
    [undefined, received],
  ])('timestamp %j becomes %f', (timestamp, expected) => {
    expect(normalize({ timestamp }).timestamp).toBe(expected);
  });

  it.each([
    [{ level: 'warn' }, 'warning'],
    [{ level: 'CRITICAL' }, 'fatal'],
    [{ exception: { values: [{ type: 'E' }] } }, 'error'],
    [{ message: 'm' }, 'info'],
  ])('level of %j is %s', (event, level) => {
    expect(normalize(event).level).toBe(level);
  });

  it('reads exceptions in every historical form', () => {
    const frames = { frames: [{ function: 'f', filename: 'a.js', lineno: 1 }] };
    const expected = [{ type: 'E', value: 'v', stacktrace: { frames: [{ function: 'f', filename: 'a.js', lineno: 1 }] } }];
    expect(normalize({ exception: { values: [{ type: 'E', value: 'v', stacktrace: frames }] } }).exception?.values).toEqual(expected);
    expect(normalize({ exception: [{ type: 'E', value: 'v', stacktrace: frames }] }).exception?.values).toEqual(expected);
    expect(normalize({ exception: { type: 'E', value: 'v', stacktrace: frames } }).exception?.values).toEqual(expected);
    expect(normalize({ 'sentry.interfaces.Exception': { values: [{ type: 'E', value: 'v', stacktrace: frames }] } }).exception?.values).toEqual(expected);
  });

  it.each([
    [{ modules: { express: '4.21.0', pg: 8 } }, { express: '4.21.0', pg: '8' }],
    [{ modules: { '': '1', bad: { nested: true } } }, undefined],
    [{ modules: ['express'] }, undefined],
    [{}, undefined],
  ])("keeps the SDK's modules as package → version text: %j", (event, modules) => {
    expect(normalize(event).modules).toEqual(modules);
  });

  it('keeps at most LIMITS.modules modules, and the dist', () => {
    const modules = Object.fromEntries(Array.from({ length: LIMITS.modules + 5 }, (_, n) => [`pkg-${n}`, '1.0.0']));
    expect(Object.keys(normalize({ modules }).modules ?? {})).toHaveLength(LIMITS.modules);
    expect(normalize({ release: 'web@1', dist: '42' }).dist).toBe('42');
  });

  it('formats logentry params and keeps the template', () => {
    expect(normalize({ logentry: { message: 'user %s failed %d times', params: ['ann', 3] } })).toMatchObject({ message: 'user ann failed 3 times', logentry: { message: 'user %s failed %d times' } });
  });

  it.each([
    [{ a: 'b', n: 1 }, [['a', 'b'], ['n', '1']]],
    [[['a', 'b'], ['bad'], ['c', 'd']], [['a', 'b'], ['c', 'd']]],
  ])('reads tags %j', (tags, expected) => {
    expect(normalize({ tags }).tags).toEqual(expected);
  });

  it('trims oversize input instead of rejecting it', () => {
    const event = normalize({
      message: 'x'.repeat(100_000),
      tags: Object.fromEntries(Array.from({ length: 1000 }, (_, n) => [`k${n}`, 'v'])),
      exception: { values: [{ type: 'E', stacktrace: { frames: Array.from({ length: 1000 }, (_, n) => ({ function: `f${n}` })) } }] },
    });
    expect(event.message!.length).toBe(LIMITS.message);
    expect(event.tags).toHaveLength(LIMITS.tags);
    const frames = event.exception!.values[0]!.stacktrace!.frames;
    expect(frames).toHaveLength(LIMITS.frames);
    expect(frames.at(-1)!.function).toBe('f999');
  });

  it('does not let __proto__ keys pollute objects', () => {
    normalize(JSON.parse('{"tags":{"__proto__":{"polluted":1}},"user":{"__proto__":{"polluted":1}},"contexts":{"constructor":{"prototype":{"polluted":1}}}}') as Record<string, unknown>);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('drops NUL characters from the serialized payload', () => {
    expect(serializeEvent(normalize({ message: 'a\u0000b', extra: { k: 'c\u0000d' } }))).not.toContain('\\u0000');
  });
});

describe('the pipeline', () => {
  const gzipBomb = gzipSync(Buffer.alloc(1024 * 1024));
  const cases: [RejectionReason, Partial<IngestRequest>][] = [
    ['missing_auth', { query: {} }],
    ['invalid_auth', { query: {}, xSentryAuth: 'Sentry sentry_version=7' }],
    ['unknown_key', { query: { sentry_key: 'nope' } }],
    ['key_disabled', { query: { sentry_key: 'disabled' } }],
    ['wrong_project', { query: { sentry_key: 'other' } }],
    ['invalid_project', { projectId: 'abc' }],
    ['unsupported_encoding', { contentEncoding: 'compress' }],
    ['invalid_compression', { contentEncoding: 'gzip', body: Buffer.from('nope') }],
    ['too_large', { contentEncoding: 'gzip', body: gzipBomb }],
    ['too_large', { body: json({ message: 'x'.repeat(2000) }) }],
    ['invalid_json', { body: Buffer.from('{nope') }],
    ['invalid_event', { body: json([1, 2]) }],
    ['invalid_event_id', { body: json({ event_id: 'xyz' }) }],
    ['invalid_envelope', { endpoint: 'envelope', body: Buffer.from('nope\n') }],
  ];

  it.each(cases)('refuses with %s', (reason, overrides) => {
    const result = runIngest(request(overrides), lookup, LIMITS_1K);
    expect(result).toMatchObject({ ok: false, rejection: { reason } });
    expect(REJECTIONS[reason].status).toBeGreaterThanOrEqual(400);
    expect(REJECTIONS[reason].status).toBeLessThan(500);
  });

  // invalid_origin: the HTTP adapter decides it before the body is read (origins.test.ts, test/allowed-origins.test.ts).
  it('reaches every reason in the table except those decided outside the pipeline', () => {
    const reached = new Set(cases.map(([reason]) => reason));
    expect(Object.keys(REJECTIONS).filter((reason) => !reached.has(reason as RejectionReason))).toEqual(['invalid_origin', 'rate_limited', 'unavailable']);
  });

  it('accepts a store request and answers with the event id', () => {
    const result = runIngest(request({ body: json({ event_id: '9ec79c33ec9942ab8353589fcb2e04dc', message: 'hi' }) }), lookup, LIMITS_1K);
    expect(result).toMatchObject({ ok: true, value: { answerId: '9ec79c33ec9942ab8353589fcb2e04dc', events: [{ message: 'hi' }], otherItems: [] } });
  });

  it('stores the event of an envelope and counts its other items', () => {
    const body = Buffer.from(
      `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://${KEY.publicKey}@h/7"}\n{"type":"event"}\n{"message":"hi"}\n{"type":"session"}\n{}\n{"type":"attachment","length":3}\nabc\n`,
    );
    const result = runIngest(request({ endpoint: 'envelope', query: {}, body }), lookup, LIMITS_1K);
    expect(result).toMatchObject({ ok: true, value: { answerId: '9ec79c33ec9942ab8353589fcb2e04dc', otherItems: ['session', 'attachment'] } });
    expect(result.ok && result.value.events.map((event) => event.event_id)).toEqual(['9ec79c33ec9942ab8353589fcb2e04dc']);
  });

  it('accepts an envelope without an event (a client report) with nothing to store', () => {
    const body = Buffer.from(`{"dsn":"https://${KEY.publicKey}@h/7"}\n{"type":"client_report"}\n{"discarded_events":[]}\n`);
    expect(runIngest(request({ endpoint: 'envelope', query: {}, body }), lookup, LIMITS_1K)).toMatchObject({ ok: true, value: { events: [], answerId: null, otherItems: ['client_report'] } });
  });
});

describe('rejections, exactly', () => {
  it('makes a rejection with a detail only when one is given', () => {
    expect(reject('too_large')).toStrictEqual({ ok: false, rejection: { reason: 'too_large' } });
    expect(reject('too_large', 'event exceeds 9 bytes')).toStrictEqual({ ok: false, rejection: { reason: 'too_large', detail: 'event exceeds 9 bytes' } });
  });

  it.each(Object.entries(REJECTIONS))("answers %s with the table's status and detail", (reason, entry) => {
    expect(describeRejection({ reason: reason as RejectionReason })).toStrictEqual({ status: entry.status, detail: entry.detail });
  });

  it("answers a rejection's own detail instead of the table's", () => {
    expect(describeRejection({ reason: 'too_large', detail: 'event exceeds 9 bytes' })).toStrictEqual({ status: 413, detail: 'event exceeds 9 bytes' });
    expect(describeRejection({ reason: 'invalid_auth', detail: '' })).toStrictEqual({ status: 401, detail: '' });
  });
});

describe('the pipeline, exact answers', () => {
  const DSN = `https://${KEY.publicKey}@h/7`;
  const envelope = (header: Record<string, unknown>, ...items: [Record<string, unknown>, string][]) =>
    Buffer.from(`${[JSON.stringify(header), ...items.flatMap(([item, payload]) => [JSON.stringify(item), payload])].join('\n')}\n`);
  const viaEnvelope = (body: Buffer, query: Record<string, unknown> = {}) => runIngest(request({ endpoint: 'envelope', query, body }), lookup, LIMITS_1K);
  const normalized = (event: Record<string, unknown>) => {
    const result = normalizeEvent({ event, received: 1_700_000_000 });
    if (!result.ok) throw new Error('not an event');
    return result.value;
  };
  const ID = '9ec79c33ec9942ab8353589fcb2e04dc';
  const OTHER_ID = '0123456789abcdef0123456789abcdef';
  // `{"message":""}` is 14 bytes.
  const ofSize = (bytes: number) => ({ message: 'x'.repeat(bytes - 14) });

  it.each([
    ['7', { ok: true, value: 7 }],
    ['1234567890123456', { ok: true, value: 1234567890123456 }],
    ['12345678901234567', { ok: false, rejection: { reason: 'invalid_project' } }],
    ['0', { ok: false, rejection: { reason: 'invalid_project' } }],
    ['07', { ok: false, rejection: { reason: 'invalid_project' } }],
    ['x7', { ok: false, rejection: { reason: 'invalid_project' } }],
    ['7x', { ok: false, rejection: { reason: 'invalid_project' } }],
    ['', { ok: false, rejection: { reason: 'invalid_project' } }],
  ])('reads the project id %j as %j', (text, expected) => {
    expect(parseProjectId(text)).toStrictEqual(expected);
  });

  it('takes a store event of exactly the size limit and refuses one byte more, naming the limit', () => {
    expect(json(ofSize(1024))).toHaveLength(1024);
    expect(runIngest(request({ body: json({ ...ofSize(1024 - 46), event_id: ID }) }), lookup, LIMITS_1K)).toStrictEqual({
      ok: true,
      value: { projectKey: KEY, answerId: ID, events: [normalized({ ...ofSize(1024 - 46), event_id: ID })], otherItems: [] },
    });
    expect(runIngest(request({ body: json(ofSize(1025)) }), lookup, LIMITS_1K)).toStrictEqual({ ok: false, rejection: { reason: 'too_large', detail: 'event exceeds 1024 bytes' } });
  });

  it("answers the legacy store body's own decoding refusal", () => {
    expect(runIngest(request({ body: Buffer.from(Buffer.alloc(2000, 'a').toString('base64')) }), lookup, LIMITS_1K)).toStrictEqual({ ok: false, rejection: { reason: 'too_large' } });
    expect(runIngest(request({ body: Buffer.from(Buffer.from([0x78, 1, 2, 3]).toString('base64')) }), lookup, LIMITS_1K)).toStrictEqual({ ok: false, rejection: { reason: 'invalid_compression' } });
  });

  it('takes an envelope event of exactly the size limit and refuses one byte more, naming the limit', () => {
    const fits = JSON.stringify({ ...ofSize(1024 - 46), event_id: ID });
    expect(fits).toHaveLength(1024);
    expect(viaEnvelope(envelope({ dsn: DSN }, [{ type: 'event' }, fits]))).toStrictEqual({
      ok: true,
      value: { projectKey: KEY, answerId: ID, events: [normalized({ ...ofSize(1024 - 46), event_id: ID })], otherItems: [] },
    });
    expect(viaEnvelope(envelope({ dsn: DSN }, [{ type: 'event' }, JSON.stringify(ofSize(1025))]))).toStrictEqual({ ok: false, rejection: { reason: 'too_large', detail: 'event exceeds 1024 bytes' } });
  });

  it("gives an event without an id the envelope header's, and keeps an event's own", () => {
    const header = { dsn: DSN, event_id: '9EC79C33-EC99-42AB-8353-589FCB2E04DC' };
    expect(viaEnvelope(envelope(header, [{ type: 'event' }, '{"message":"hi"}']))).toStrictEqual({
      ok: true,
      value: { projectKey: KEY, answerId: ID, events: [normalized({ message: 'hi', event_id: ID })], otherItems: [] },
    });
    expect(viaEnvelope(envelope(header, [{ type: 'event' }, `{"message":"hi","event_id":"${OTHER_ID}"}`]))).toStrictEqual({
      ok: true,
      value: { projectKey: KEY, answerId: OTHER_ID, events: [normalized({ message: 'hi', event_id: OTHER_ID })], otherItems: [] },
    });
  });

  it("answers an envelope without an event with its header's event id, normalized, or null", () => {
    const report: [Record<string, unknown>, string] = [{ type: 'client_report' }, '{}'];
    expect(viaEnvelope(envelope({ dsn: DSN, event_id: '9EC79C33-EC99-42AB-8353-589FCB2E04DC' }, report))).toStrictEqual({
      ok: true,
      value: { projectKey: KEY, answerId: ID, events: [], otherItems: ['client_report'] },
    });
    // An event id that is no string is not one: no answer id, and nothing thrown.
    expect(viaEnvelope(envelope({ dsn: DSN, event_id: 5 }, report))).toStrictEqual({ ok: true, value: { projectKey: KEY, answerId: null, events: [], otherItems: ['client_report'] } });
  });

  it.each([
    ['no credentials', envelope({}, [{ type: 'event' }, '{}']), {}, { reason: 'missing_auth' }],
    ['a dsn that is no string', envelope({ dsn: 7 }, [{ type: 'event' }, '{}']), {}, { reason: 'missing_auth' }],
    ['an unknown key', envelope({ dsn: 'https://nope@h/7' }, [{ type: 'event' }, '{}']), {}, { reason: 'unknown_key' }],
    ['a disabled key', envelope({}, [{ type: 'event' }, '{}']), { sentry_key: 'disabled' }, { reason: 'key_disabled' }],
    ['an event that is not JSON', envelope({ dsn: DSN }, [{ type: 'event' }, '{nope']), {}, { reason: 'invalid_json' }],
    ['an event with a bad id', envelope({ dsn: DSN }, [{ type: 'event' }, '{"event_id":"xyz"}']), {}, { reason: 'invalid_event_id' }],
    ['a second event that is not JSON', envelope({ dsn: DSN }, [{ type: 'event' }, '{}'], [{ type: 'event' }, '[1']), {}, { reason: 'invalid_json' }],
  ])('refuses an envelope with %s, exactly', (_case, body, query, rejection) => {
    expect(viaEnvelope(body, query)).toStrictEqual({ ok: false, rejection });
  });
});
