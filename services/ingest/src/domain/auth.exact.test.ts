import { describe, expect, it } from 'vitest';
import { authorize, findCredentials, parseDsn, parseSentryAuthHeader, type ProjectKey } from './auth.ts';

// Every form an SDK authenticates with, exactly as ingest reads it, and the refusals with the
// detail the SDK (or its user, reading the 401) gets.

const PUBLIC = 'a'.repeat(32);
const SECRET = 'b'.repeat(32);
const KEY: ProjectKey = { publicKey: PUBLIC, secretKey: SECRET, projectId: 7, active: true };

describe('the X-Sentry-Auth / Authorization: Sentry header', () => {
  it.each([
    [`Sentry sentry_key=${PUBLIC}, sentry_version=7, sentry_client=raven-js/3.0`, { publicKey: PUBLIC }],
    [`sentry_version=7,sentry_key=${PUBLIC}`, { publicKey: PUBLIC }],
    [`  SENTRY   sentry_key=${PUBLIC}, sentry_secret=${SECRET}  `, { publicKey: PUBLIC, secretKey: SECRET }],
    [`Sentry  Sentry_Key = ${PUBLIC} , SENTRY_SECRET = ${SECRET}`, { publicKey: PUBLIC, secretKey: SECRET }],
    [`Sentry sentry_key=${PUBLIC}, sentry_secret=`, { publicKey: PUBLIC }],
    [`Sentry garbage, sentry_key=${PUBLIC}, sentry_timestamp=1.5`, { publicKey: PUBLIC }],
    ['Sentry sentry_key=ab=cd', { publicKey: 'ab=cd' }],
    // A field without `=` is no field, whatever its name starts with.
    [`Sentry sentry_key=${PUBLIC}, sentry_secretx`, { publicKey: PUBLIC }],
    [`Sentry sentry_key=${PUBLIC}, x=1, sentry_secretx`, { publicKey: PUBLIC }],
  ])('reads %s', (header, credentials) => {
    expect(parseSentryAuthHeader(header)).toEqual({ ok: true, value: credentials });
  });

  it.each([['Sentry sentry_version=7'], ['Sentry sentry_key='], [''], ['Sentry sentry_key'], ['Sentry sentry_keyx'], ['Sentry x=1, sentry_keyx']])('refuses %j: no sentry_key', (header) => {
    expect(parseSentryAuthHeader(header)).toEqual({ ok: false, rejection: { reason: 'invalid_auth', detail: 'authentication header has no sentry_key' } });
  });
});

describe('the envelope header’s dsn', () => {
  it.each([
    [`https://${PUBLIC}@errors.example.com/7`, { publicKey: PUBLIC, projectId: '7' }],
    [`https://${PUBLIC}:${SECRET}@errors.example.com/7`, { publicKey: PUBLIC, secretKey: SECRET, projectId: '7' }],
    [`http://${PUBLIC}@localhost:9000/trapline/7/`, { publicKey: PUBLIC, projectId: '7' }],
    ['https://my%20key:s%2Fecret@errors.example.com/7', { publicKey: 'my key', secretKey: 's/ecret', projectId: '7' }],
    [`https://${PUBLIC}@errors.example.com`, { publicKey: PUBLIC, projectId: '' }],
  ])('reads %s', (dsn, credentials) => {
    expect(parseDsn(dsn)).toEqual({ ok: true, value: credentials });
  });

  it.each([
    ['not a url', 'the envelope header dsn is not a URL'],
    ['https://errors.example.com/7', 'the envelope header dsn has no public key'],
    [':secret@errors.example.com/7', 'the envelope header dsn is not a URL'],
  ])('refuses %s: %s', (dsn, detail) => {
    expect(parseDsn(dsn)).toEqual({ ok: false, rejection: { reason: 'invalid_auth', detail } });
  });
});

describe('finding the credentials', () => {
  const header = `Sentry sentry_key=${PUBLIC}`;

  it('reads X-Sentry-Auth before Authorization, the query and the dsn', () => {
    expect(findCredentials({ xSentryAuth: 'Sentry sentry_key=first', authorization: 'Sentry sentry_key=second', query: { sentry_key: 'third' }, envelopeDsn: 'https://fourth@h/7' })).toEqual({ ok: true, value: { publicKey: 'first' } });
    expect(findCredentials({ authorization: 'Sentry sentry_key=second', query: { sentry_key: 'third' }, envelopeDsn: 'https://fourth@h/7' })).toEqual({ ok: true, value: { publicKey: 'second' } });
    expect(findCredentials({ query: { sentry_key: 'third' }, envelopeDsn: 'https://fourth@h/7' })).toEqual({ ok: true, value: { publicKey: 'third' } });
    expect(findCredentials({ query: {}, envelopeDsn: 'https://fourth@h/7' })).toEqual({ ok: true, value: { publicKey: 'fourth' } });
  });

  it('refuses a malformed X-Sentry-Auth rather than looking further', () => {
    expect(findCredentials({ xSentryAuth: 'Sentry sentry_version=7', query: { sentry_key: PUBLIC } })).toMatchObject({ ok: false, rejection: { reason: 'invalid_auth' } });
    expect(findCredentials({ authorization: 'Sentry sentry_version=7', query: { sentry_key: PUBLIC } })).toMatchObject({ ok: false, rejection: { reason: 'invalid_auth' } });
  });

  it('passes over an Authorization header of another scheme (a proxy’s Basic or Bearer)', () => {
    expect(findCredentials({ authorization: `Bearer ${PUBLIC}`, query: { sentry_key: 'from-query' } })).toEqual({ ok: true, value: { publicKey: 'from-query' } });
    expect(findCredentials({ authorization: `Sentrysentry_key=${PUBLIC}`, query: {} })).toEqual({ ok: false, rejection: { reason: 'missing_auth' } });
    expect(findCredentials({ authorization: `sentry\t${header.slice(7)}`, query: {} })).toEqual({ ok: true, value: { publicKey: PUBLIC } });
    expect(findCredentials({ authorization: ` ${header}`, query: {} })).toEqual({ ok: false, rejection: { reason: 'missing_auth' } });
  });

  it('reads ?sentry_key= with an optional ?sentry_secret=', () => {
    expect(findCredentials({ query: { sentry_key: PUBLIC, sentry_secret: SECRET } })).toEqual({ ok: true, value: { publicKey: PUBLIC, secretKey: SECRET } });
    expect(findCredentials({ query: { sentry_key: PUBLIC, sentry_secret: '' } })).toEqual({ ok: true, value: { publicKey: PUBLIC } });
    expect(findCredentials({ query: { sentry_key: PUBLIC, sentry_secret: [SECRET] } })).toEqual({ ok: true, value: { publicKey: PUBLIC } });
  });

  it('passes over an empty or repeated ?sentry_key=', () => {
    expect(findCredentials({ query: { sentry_key: '' }, envelopeDsn: `https://${PUBLIC}@h/7` })).toEqual({ ok: true, value: { publicKey: PUBLIC } });
    expect(findCredentials({ query: { sentry_key: [PUBLIC, PUBLIC] } })).toEqual({ ok: false, rejection: { reason: 'missing_auth' } });
  });

  it('takes the dsn’s secret along and passes its refusal on', () => {
    expect(findCredentials({ query: {}, envelopeDsn: `https://${PUBLIC}:${SECRET}@h/7` })).toEqual({ ok: true, value: { publicKey: PUBLIC, secretKey: SECRET } });
    expect(findCredentials({ query: {}, envelopeDsn: 'https://h/7' })).toEqual({ ok: false, rejection: { reason: 'invalid_auth', detail: 'the envelope header dsn has no public key' } });
  });

  it('refuses a request with none of them', () => {
    expect(findCredentials({ xSentryAuth: '', authorization: '', query: {}, envelopeDsn: '' })).toEqual({ ok: false, rejection: { reason: 'missing_auth' } });
  });
});

describe('authorizing a key for the project in the URL', () => {
  it('answers the key it found', () => {
    expect(authorize({ publicKey: PUBLIC }, KEY, 7)).toEqual({ ok: true, value: KEY });
    expect(authorize({ publicKey: PUBLIC, secretKey: SECRET }, KEY, 7)).toEqual({ ok: true, value: KEY });
  });

  it.each([
    [{ publicKey: PUBLIC }, undefined, 7, 'unknown_key'],
    [{ publicKey: PUBLIC, secretKey: 'wrong' }, KEY, 7, 'unknown_key'],
    [{ publicKey: PUBLIC, secretKey: '' }, KEY, 7, 'unknown_key'],
    [{ publicKey: PUBLIC, secretKey: 'wrong' }, { ...KEY, active: false }, 7, 'unknown_key'],
    [{ publicKey: PUBLIC }, { ...KEY, active: false }, 8, 'key_disabled'],
    [{ publicKey: PUBLIC }, KEY, 8, 'wrong_project'],
  ])('refuses %j with key %j for project %i as %s', (credentials, key, projectId, reason) => {
    expect(authorize(credentials, key, projectId)).toEqual({ ok: false, rejection: { reason } });
  });
});
