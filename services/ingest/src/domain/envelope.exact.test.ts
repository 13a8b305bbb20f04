import { describe, expect, it } from 'vitest';
import type { ProjectKey } from './auth.ts';
import { parseEnvelope } from './envelope.ts';
import { parseProjectId, runIngest, type IngestRequest } from './pipeline.ts';

// Envelopes byte by byte, and the pipeline's exact answers: what an SDK's request becomes (the
// id it is answered with, the events stored, the other items counted) or the refusal it gets.

const PUBLIC = 'a'.repeat(32);
const KEY: ProjectKey = { publicKey: PUBLIC, secretKey: 'b'.repeat(32), projectId: 7, active: true };
const lookup = (publicKey: string) => (publicKey === PUBLIC ? KEY : undefined);
const LIMITS = { maxEventBytes: 64, maxRequestBytes: 256 };
const ID = '9ec79c33ec9942ab8353589fcb2e04dc';

describe('envelopes', () => {
  it('reads the header, items with a length (binary, CRLF-separated) and items up to the newline', () => {
    const raw = Buffer.from(`{"event_id":"${ID}"}\r\n{"type":"attachment","length":3,"filename":"a.txt"}\nabc{"type":"event"}\n{"message":"hi"}\r\n\r\n\n{"type":"session"}\n{"sid":"x"}`);
    const parsed = parseEnvelope(raw);
    // A CRLF line's payload keeps its CR, which JSON reads as white space.
    expect(parsed.ok && JSON.parse(parsed.value.items[1]!.payload.toString())).toEqual({ message: 'hi' });
    expect(parsed).toEqual({
      ok: true,
      value: {
        headers: { event_id: ID },
        items: [
          { type: 'attachment', headers: { type: 'attachment', length: 3, filename: 'a.txt' }, payload: Buffer.from('abc') },
          { type: 'event', headers: { type: 'event' }, payload: expect.any(Buffer) },
          { type: 'session', headers: { type: 'session' }, payload: Buffer.from('{"sid":"x"}') },
        ],
      },
    });
  });

  it('reads an item whose length ends the body, and an empty payload', () => {
    expect(parseEnvelope(Buffer.from('{}\n{"type":"a","length":2}\nxy'))).toEqual({ ok: true, value: { headers: {}, items: [{ type: 'a', headers: { type: 'a', length: 2 }, payload: Buffer.from('xy') }] } });
    expect(parseEnvelope(Buffer.from('{}\n{"type":"a","length":0}\n\n{"type":"b"}\n'))).toEqual({
      ok: true,
      value: { headers: {}, items: [{ type: 'a', headers: { type: 'a', length: 0 }, payload: Buffer.alloc(0) }, { type: 'b', headers: { type: 'b' }, payload: Buffer.alloc(0) }] },
    });
    expect(parseEnvelope(Buffer.from('{}'))).toEqual({ ok: true, value: { headers: {}, items: [] } });
    // A line that starts with a CR is no blank line: JSON reads the CR as white space.
    expect(parseEnvelope(Buffer.from('{}\n\r{"type":"a"}\nxy\n'))).toEqual({ ok: true, value: { headers: {}, items: [{ type: 'a', headers: { type: 'a' }, payload: Buffer.from('xy') }] } });
  });

  it.each([
    ['[]\n', 'the envelope header is not a JSON object'],
    ['null\n', 'the envelope header is not a JSON object'],
    ['', 'the envelope header is not a JSON object'],
    ['"x"\n', 'the envelope header is not a JSON object'],
    ['5\n', 'the envelope header is not a JSON object'],
    // A one-character line is blank only when it is a CR.
    ['{}\nx\n', 'an item header is not a JSON object with a type'],
    ['{}\n[1]\n', 'an item header is not a JSON object with a type'],
    ['{}\n{"type":7}\n{}\n', 'an item header is not a JSON object with a type'],
    ['{}\n{"type":"a","length":"3"}\nabc\n', 'an item length does not fit the body'],
    ['{}\n{"type":"a","length":1.5}\nabc\n', 'an item length does not fit the body'],
    ['{}\n{"type":"a","length":-1}\nabc\n', 'an item length does not fit the body'],
    ['{}\n{"type":"a","length":4}\nabc', 'an item length does not fit the body'],
  ])('refuses %j: %s', (text, detail) => {
    expect(parseEnvelope(Buffer.from(text))).toEqual({ ok: false, rejection: { reason: 'invalid_envelope', detail } });
  });
});

describe('project ids in the URL', () => {
  it.each([['1', 1], ['42', 42], ['1234567890123456', 1_234_567_890_123_456]])('reads %s', (text, id) => {
    expect(parseProjectId(text)).toEqual({ ok: true, value: id });
  });

  it.each([['0'], ['07'], ['-1'], ['1.5'], ['abc'], [''], ['12345678901234567'], [' 1'], ['1 ']])('refuses %j', (text) => {
    expect(parseProjectId(text)).toEqual({ ok: false, rejection: { reason: 'invalid_project' } });
  });
});

describe('the pipeline’s answers', () => {
  const request = (overrides: Partial<IngestRequest>): IngestRequest => ({ endpoint: 'store', projectId: '7', body: Buffer.from('{}'), query: { sentry_key: PUBLIC }, received: 1_700_000_000, ...overrides });
  const envelope = (text: string, overrides: Partial<IngestRequest> = {}) => runIngest(request({ endpoint: 'envelope', query: {}, body: Buffer.from(text), ...overrides }), lookup, LIMITS);

  it('answers a store request with its event’s id and the key it was sent with', () => {
    const result = runIngest(request({ body: Buffer.from(`{"event_id":"${ID}","message":"hi"}`) }), lookup, LIMITS);
    expect(result).toEqual({ ok: true, value: { projectKey: KEY, answerId: ID, events: [expect.objectContaining({ event_id: ID, message: 'hi', received: 1_700_000_000 })], otherItems: [] } });
  });

  it('holds a store event to the event limit once decoded, the limit itself allowed', () => {
    const fits = `{"message":"${'x'.repeat(LIMITS.maxEventBytes - 14)}"}`;
    expect(fits).toHaveLength(LIMITS.maxEventBytes);
    expect(runIngest(request({ body: Buffer.from(fits) }), lookup, LIMITS).ok).toBe(true);
    expect(runIngest(request({ body: Buffer.from(`${fits} `) }), lookup, LIMITS)).toEqual({ ok: false, rejection: { reason: 'too_large', detail: 'event exceeds 64 bytes' } });
  });

  it('authenticates a store request before it reads the body', () => {
    expect(runIngest(request({ query: {}, body: Buffer.from('{nope') }), lookup, LIMITS)).toEqual({ ok: false, rejection: { reason: 'missing_auth' } });
    expect(runIngest(request({ query: { sentry_key: 'nope' }, body: Buffer.from('{nope') }), lookup, LIMITS)).toEqual({ ok: false, rejection: { reason: 'unknown_key' } });
    expect(runIngest(request({ projectId: '8', body: Buffer.from('{nope') }), lookup, LIMITS)).toEqual({ ok: false, rejection: { reason: 'wrong_project' } });
  });

  it('stores each event item of an envelope, giving an item without id the header’s', () => {
    const result = envelope(`{"event_id":"${ID}","dsn":"https://${PUBLIC}@h/7"}\n{"type":"event"}\n{"message":"a"}\n{"type":"client_report"}\n{}\n{"type":"event"}\n{"event_id":"${'c'.repeat(32)}"}\n`);
    expect(result.ok && result.value.events.map((event) => event.event_id)).toEqual([ID, 'c'.repeat(32)]);
    expect(result).toMatchObject({ ok: true, value: { projectKey: KEY, answerId: ID, otherItems: ['client_report'] } });
  });

  it('answers an envelope without events with its header’s id as 32 lowercase digits, or null', () => {
    expect(envelope(`{"event_id":"9EC79C33-EC99-42AB-8353-589FCB2E04DC","dsn":"https://${PUBLIC}@h/7"}\n{"type":"session"}\n{}\n`)).toEqual({ ok: true, value: { projectKey: KEY, answerId: ID, events: [], otherItems: ['session'] } });
    expect(envelope(`{"dsn":"https://${PUBLIC}@h/7","event_id":7}\n`)).toEqual({ ok: true, value: { projectKey: KEY, answerId: null, events: [], otherItems: [] } });
  });

  it('takes the key from the query before the envelope’s dsn, and refuses a dsn that is no text', () => {
    expect(envelope('{"dsn":"https://other@h/7"}\n', { query: { sentry_key: PUBLIC } })).toMatchObject({ ok: true, value: { projectKey: KEY } });
    expect(envelope('{"dsn":7}\n')).toEqual({ ok: false, rejection: { reason: 'missing_auth' } });
    expect(envelope(`{"dsn":"https://${PUBLIC}@h/7"}\n`, { projectId: '8' })).toEqual({ ok: false, rejection: { reason: 'wrong_project' } });
  });

  it('refuses an envelope event beyond the event limit, or one that is not an event object', () => {
    const dsn = `{"dsn":"https://${PUBLIC}@h/7"}\n`;
    expect(envelope(`${dsn}{"type":"event"}\n{"message":"${'x'.repeat(60)}"}\n`)).toEqual({ ok: false, rejection: { reason: 'too_large', detail: 'event exceeds 64 bytes' } });
    expect(envelope(`${dsn}{"type":"event","length":64}\n{"message":"${'x'.repeat(50)}"}\n`)).toMatchObject({ ok: true });
    expect(envelope(`${dsn}{"type":"event"}\n[1]\n`)).toEqual({ ok: false, rejection: { reason: 'invalid_event' } });
    expect(envelope(`${dsn}{"type":"event"}\n{"event_id":"x"}\n`)).toEqual({ ok: false, rejection: { reason: 'invalid_event_id' } });
  });

  it('holds the request to the request limit before anything else', () => {
    expect(runIngest(request({ projectId: 'x', body: Buffer.alloc(1000) }), lookup, LIMITS)).toEqual({ ok: false, rejection: { reason: 'invalid_project' } });
    expect(runIngest(request({ body: Buffer.alloc(257) }), lookup, LIMITS)).toEqual({ ok: false, rejection: { reason: 'too_large' } });
  });
});
