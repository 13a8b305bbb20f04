import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeEvent } from './normalize.ts';
import { runIngest, type IngestRequest } from './pipeline.ts';
import { REJECTIONS } from './rejections.ts';

// Invariant 6 for the pure pipeline: whatever arrives, the answer is an accepted value or one
// named 4xx rejection; nothing throws (a throw would become a 5xx).

const KEY = { publicKey: 'a'.repeat(32), secretKey: 's', projectId: 7, active: true };
const lookup = (publicKey: string) => (publicKey === KEY.publicKey ? KEY : undefined);

const hostileString = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', "'; DROP TABLE events; --", '\u0000', '\ud800', '%s%s%s', 'a'.repeat(5000), '\r\nX-Injected: 1'),
);

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double(), fc.integer(), fc.bigInt().map(String), hostileString, fc.array(tie('value'), { maxLength: 5 }), fc.dictionary(hostileString, tie('value'), { maxKeys: 6 })),
})).value;

const eventLike = fc.record(
  {
    event_id: fc.oneof(fc.uuid(), hostileString, fc.integer()),
    message: fc.oneof(hostileString, jsonValue),
    timestamp: fc.oneof(fc.double(), hostileString),
    level: hostileString,
    tags: jsonValue,
    exception: jsonValue,
    logentry: jsonValue,
    user: jsonValue,
    fingerprint: jsonValue,
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
  jsonValue.map((value) => Buffer.from(JSON.stringify(value) ?? '')),
  eventLike.map((event) => Buffer.from(JSON.stringify(event))),
  eventLike.map((event) => Buffer.from(`{"dsn":"https://${KEY.publicKey}@h/7"}\n{"type":"event"}\n${JSON.stringify(event)}\n`)),
  fc.string().map((text) => Buffer.from(`{}\n${text}`)),
);

const requests: fc.Arbitrary<IngestRequest> = fc.record({
  endpoint: fc.constantFrom('store', 'envelope') as fc.Arbitrary<'store' | 'envelope'>,
  projectId: fc.oneof(fc.constant('7'), hostileString),
  body,
  contentEncoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown', ''), { nil: undefined }),
  xSentryAuth: fc.option(fc.oneof(fc.constant(`Sentry sentry_key=${KEY.publicKey}, sentry_version=7`), hostileString), { nil: undefined }),
  authorization: fc.option(hostileString, { nil: undefined }),
  query: fc.oneof(fc.constant({ sentry_key: KEY.publicKey }), fc.dictionary(hostileString, fc.oneof(hostileString, fc.array(fc.string()))) as fc.Arbitrary<Record<string, unknown>>),
  received: fc.constant(1_700_000_000),
}).map((request) => (request.contentEncoding === 'gzip' && request.body.length % 2 === 0 ? { ...request, body: gzipSync(request.body) } : request));

describe('the ingest pipeline under hostile input', () => {
  it('answers every request with a value or a named 4xx rejection, never a throw', () => {
    fc.assert(
      fc.property(requests, (request) => {
        const result = runIngest(request, lookup, { maxEventBytes: 64 * 1024, maxRequestBytes: 256 * 1024 });
        if (!result.ok) {
          const status = REJECTIONS[result.rejection.reason].status;
          expect(status).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
        } else {
          for (const event of result.value.events) {
            expect(event.event_id).toMatch(/^[0-9a-f]{32}$/);
            expect(JSON.parse(serializeEvent(event))).toHaveProperty('event_id', event.event_id);
          }
        }
      }),
      { numRuns: 10000 },
    );
    // Ten thousand runs take about a second alone; a shared, loaded machine needs more room.
  }, 60_000);
});
