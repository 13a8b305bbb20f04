import type { NormalizedEvent } from '@trapline/schemas';
import { describe, expect, it } from 'vitest';
import { LIMITS, normalizeEvent, normalizeEventId, normalizeTimestamp, serializeEvent, trimString } from './normalize.ts';

// The normalize stage with plain payloads and exact results: what an SDK sends (in any of its
// historical shapes) and what the projector and the API then see, limit by limit.

const RECEIVED = 1_700_000_000;
const NEW_ID = '0123456789abcdef0123456789abcdef';

const normalize = (event: Record<string, unknown>, platformFallback?: string): NormalizedEvent => {
  const result = normalizeEvent({ event, received: RECEIVED, platformFallback, newEventId: () => NEW_ID });
  if (!result.ok) throw new Error(result.rejection.reason);
  return result.value;
};

describe('text limits', () => {
  it.each([
    ['abc', 3, 'abc'],
    ['abcd', 3, 'ab…'],
    ['', 3, ''],
    [42, 3, '42'],
    [false, 3, 'false'],
    [null, 3, undefined],
    [{ a: 1 }, 3, undefined],
    [['a'], 3, undefined],
  ])('%j held to %i characters is %j', (value, max, expected) => {
    expect(trimString(value, max)).toBe(expected);
  });

  it('holds text to 8192 characters unless told otherwise', () => {
    expect(trimString('x'.repeat(LIMITS.string))).toBe('x'.repeat(8192));
    expect(trimString('x'.repeat(LIMITS.string + 1))).toBe(`${'x'.repeat(8191)}…`);
  });
});

describe('event ids', () => {
  it.each([
    [undefined, NEW_ID],
    [null, NEW_ID],
    ['', NEW_ID],
    ['9EC79C33EC9942AB8353589FCB2E04DC', '9ec79c33ec9942ab8353589fcb2e04dc'],
    ['9ec79c33-ec99-42ab-8353-589fcb2e04dc', '9ec79c33ec9942ab8353589fcb2e04dc'],
  ])('%j becomes %s', (value, expected) => {
    expect(normalizeEventId(value, () => NEW_ID)).toEqual({ ok: true, value: expected });
  });

  it('makes a new id of 32 lowercase hex digits from a dashed UUID generator', () => {
    expect(normalizeEventId(undefined, () => '9EC79C33-EC99-42AB-8353-589FCB2E04DC')).toEqual({ ok: true, value: '9ec79c33ec9942ab8353589fcb2e04dc' });
    const generated = normalizeEventId(undefined);
    expect(generated.ok && generated.value).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([[12345], [{}], ['9ec79c33ec9942ab8353589fcb2e04d'], ['9ec79c33ec9942ab8353589fcb2e04dcc'], ['x9ec79c33ec9942ab8353589fcb2e04dc'], ['9ec79c33ec9942ab8353589fcb2e04dx'], ['g'.repeat(32)]])('refuses %j', (value) => {
    expect(normalizeEventId(value, () => NEW_ID)).toEqual({ ok: false, rejection: { reason: 'invalid_event_id' } });
  });
});

function inZone<T>(zone: string, run: () => T): T {
  const before = process.env.TZ;
  process.env.TZ = zone;
  try {
    return run();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

describe('timestamps', () => {
  it.each([
    [1_795_600_800.5, 1_795_600_800.5],
    [1e11, 1e11],
    [1e11 + 1000, 1e8 + 1],
    [1_795_600_800_500, 1_795_600_800.5],
    [0, RECEIVED],
    [-5, RECEIVED],
    [Number.NaN, RECEIVED],
    [Number.POSITIVE_INFINITY, RECEIVED],
    ['1764064800.5', 1_764_064_800.5],
    [' 1764064800 ', 1_764_064_800],
    ['1795600800500', 1_795_600_800.5],
    ['0', RECEIVED],
    ['-5', RECEIVED],
    ['   ', RECEIVED],
    ['', RECEIVED],
    ['2026-11-25T10:00:00Z', 1_795_600_800],
    ['2026-11-25T10:00:00z', 1_795_600_800],
    ['2026-11-25T10:00:00', 1_795_600_800],
    ['2026-11-25T10:00:00.250', 1_795_600_800.25],
    ['2026-11-25T12:00:00+02:00', 1_795_600_800],
    ['2026-11-25T12:00:00+0200', 1_795_600_800],
    ['2026-11-25T08:00:00-02:00', 1_795_600_800],
    ['not a time', RECEIVED],
    [{}, RECEIVED],
  ])('%j becomes %f', (value, expected) => {
    expect(normalizeTimestamp(value, RECEIVED)).toBe(expected);
  });

  // Date.parse reads a date-time without a zone as local time: the UTC the SDKs mean must not
  // depend on where ingest runs (the tests otherwise run in UTC, where both read alike). Only a
  // process's main thread can change its zone: vitest's forks (the default) can, worker threads
  // cannot, and there the test is skipped, saying so (the mutation run takes this file with forks:
  // STRYKER_VITEST_POOL in test/mutation/run-files.sh).
  it.skipIf(!inZone('Asia/Kolkata', () => new Date(2026, 10, 25, 10).getTimezoneOffset() === -330))('reads a date-time without a zone as UTC wherever ingest runs', () => {
    inZone('Asia/Kolkata', () => {
      expect(normalizeTimestamp('2026-11-25T10:00:00', RECEIVED)).toBe(1_795_600_800);
      expect(normalizeTimestamp('2026-11-25T10:00:00.250', RECEIVED)).toBe(1_795_600_800.25);
      // A zone is an offset at the end: the signed digits of an expanded year are none.
      expect(normalizeTimestamp('+012026-11-25T10:00:00', RECEIVED)).toBe(317_365_120_800);
    });
  });
});

describe('a whole event', () => {
  it('without anything but an id: the received time, info, platform other, no tags', () => {
    expect(normalize({})).toEqual({ event_id: NEW_ID, timestamp: RECEIVED, received: RECEIVED, level: 'info', platform: 'other', tags: [] });
  });

  it('takes the endpoint’s platform when the SDK names none, and holds the SDK’s to 64 characters', () => {
    expect(normalize({}, 'javascript').platform).toBe('javascript');
    expect(normalize({ platform: 'python' }, 'javascript').platform).toBe('python');
    expect(normalize({ platform: 'p'.repeat(70) }).platform).toBe(`${'p'.repeat(63)}…`);
  });

  it.each([
    ['fatal', 'fatal'],
    ['critical', 'fatal'],
    ['error', 'error'],
    ['warning', 'warning'],
    ['warn', 'warning'],
    ['info', 'info'],
    ['log', 'info'],
    ['debug', 'debug'],
    ['trace', 'debug'],
    ['ERROR', 'error'],
    ['verbose', 'info'],
  ])('level %s is %s', (level, expected) => {
    expect(normalize({ level, message: 'm' }).level).toBe(expected);
  });

  it('gives an unknown level of an exception error, and keeps a known one', () => {
    expect(normalize({ level: 'verbose', exception: [{ type: 'E' }] }).level).toBe('error');
    expect(normalize({ level: 'warning', exception: [{ type: 'E' }] }).level).toBe('warning');
  });

  it('keeps the promoted fields as text of at most 256 characters and drops empty ones', () => {
    const event = normalize({ logger: 'app', transaction: '/cart', server_name: 'web-1', release: 'web@1.0', dist: 7, environment: 'e'.repeat(300) });
    expect(event).toMatchObject({ logger: 'app', transaction: '/cart', server_name: 'web-1', release: 'web@1.0', dist: '7', environment: `${'e'.repeat(255)}…` });
    const empty = normalize({ logger: '', release: '', transaction: {} });
    expect(['logger', 'release', 'transaction'].filter((key) => key in empty)).toEqual([]);
  });
});

describe('exceptions and stack traces', () => {
  it('keeps each frame’s fields, held to their limits, and drops what is not a frame', () => {
    const event = normalize({
      exception: {
        values: [
          {
            type: 'TypeError',
            value: 'x is undefined',
            module: 'app/cart',
            mechanism: { type: 'onerror', handled: false },
            stacktrace: {
              frames: [
                'not a frame',
                null,
                {
                  filename: 'app.js',
                  abs_path: 'https://shop.example.com/app.js',
                  module: 'app',
                  function: 'render',
                  context_line: 'x.y()',
                  lineno: 10,
                  colno: 4,
                  in_app: true,
                  pre_context: ['a', 1, null, 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'],
                  post_context: ['z'.repeat(1100)],
                },
                { function: 'f'.repeat(1100), lineno: Number.NaN, colno: 'four', in_app: 'yes', pre_context: 'no', unknown: 1 },
              ],
            },
          },
        ],
      },
    });
    expect(event.exception).toEqual({
      values: [
        {
          type: 'TypeError',
          value: 'x is undefined',
          module: 'app/cart',
          mechanism: { type: 'onerror', handled: false },
          stacktrace: {
            frames: [
              {
                filename: 'app.js',
                abs_path: 'https://shop.example.com/app.js',
                module: 'app',
                function: 'render',
                context_line: 'x.y()',
                lineno: 10,
                colno: 4,
                in_app: true,
                pre_context: ['a', '1', '', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
                post_context: [`${'z'.repeat(1023)}…`],
              },
              { function: `${'f'.repeat(1023)}…` },
            ],
          },
        },
      ],
    });
    expect(event.level).toBe('error');
  });

  it('holds an exception’s type and module to 256 characters, its value to 8192, and drops a mechanism that is not an object', () => {
    const [value] = normalize({ exception: [{ type: 't'.repeat(300), module: 'm'.repeat(300), value: 'v'.repeat(9000), mechanism: 'generic' }] }).exception!.values;
    expect(value).toEqual({ type: `${'t'.repeat(255)}…`, module: `${'m'.repeat(255)}…`, value: `${'v'.repeat(8191)}…` });
  });

  it('keeps an exception with only a value or only a stack trace, and drops one with neither (nor a type)', () => {
    expect(normalize({ exception: [{ value: 'v' }] }).exception).toEqual({ values: [{ value: 'v' }] });
    expect(normalize({ exception: [{ stacktrace: { frames: [] } }] }).exception).toEqual({ values: [{ stacktrace: { frames: [] } }] });
    expect(normalize({ exception: [{ module: 'm', mechanism: { type: 'x' } }, 'junk', { stacktrace: 'junk' }] }).exception).toBeUndefined();
    expect(normalize({ exception: { values: 'junk' } }).exception).toBeUndefined();
    expect(normalize({ exception: 'junk' }).exception).toBeUndefined();
    expect(normalize({ exception: { values: [] } })).not.toHaveProperty('exception');
  });

  it('keeps the innermost 25 exceptions of a chain', () => {
    const values = Array.from({ length: 30 }, (_, n) => ({ type: `E${n}` }));
    const kept = normalize({ exception: { values } }).exception!.values;
    expect(kept.map((value) => value.type)).toEqual(Array.from({ length: 25 }, (_, n) => `E${n + 5}`));
  });

  it('keeps the innermost 250 frames of a stack trace', () => {
    const frames = Array.from({ length: 260 }, (_, n) => ({ function: `f${n}` }));
    const kept = normalize({ exception: [{ type: 'E', stacktrace: { frames } }] }).exception!.values[0]!.stacktrace!.frames;
    expect(kept).toHaveLength(LIMITS.frames);
    expect([kept[0]!.function, kept.at(-1)!.function]).toEqual(['f10', 'f259']);
  });

  it('keeps threads with their stack traces and crashed/current flags, at most 50', () => {
    const event = normalize({
      threads: {
        values: [{ stacktrace: { frames: [{ function: 'main' }] }, crashed: true, current: 'yes' }, 'junk', { id: 2, current: true }, ...Array.from({ length: 60 }, () => ({}))],
      },
    });
    expect(event.threads!.values).toHaveLength(50);
    expect(event.threads!.values.slice(0, 3)).toEqual([
      { stacktrace: { frames: [{ function: 'main' }] }, crashed: true, current: false },
      { crashed: false, current: true },
      { crashed: false, current: false },
    ]);
    expect(normalize({ threads: { values: 'junk' } })).not.toHaveProperty('threads');
    expect(normalize({ threads: [{}] })).not.toHaveProperty('threads');
  });
});

describe('tags', () => {
  it('trims keys, holds keys and values to 200 characters, skips empty keys and values that are not text', () => {
    const tags = normalize({ tags: { ' padded ': 'v', '   ': 'blank', k: { nested: 1 }, n: null, b: true, ['k'.repeat(210)]: 'v'.repeat(210) } }).tags;
    expect(tags).toEqual([
      ['padded', 'v'],
      ['b', 'true'],
      [`${'k'.repeat(199)}…`, `${'v'.repeat(199)}…`],
    ]);
  });

  it('keeps the last value of a repeated key and ignores pairs of another length', () => {
    expect(normalize({ tags: [['a', '1'], ['a', '2'], ['b', '1', 'x'], 'c'] }).tags).toEqual([['a', '2']]);
    expect(normalize({ tags: 'a:1' }).tags).toEqual([]);
  });

  it('stops at 200 tags', () => {
    const tags = normalize({ tags: Array.from({ length: 205 }, (_, n) => [`k${n}`, 'v']) }).tags;
    expect(tags).toHaveLength(200);
    expect(tags.at(-1)).toEqual(['k199', 'v']);
  });
});

describe('messages', () => {
  it.each([
    ['%s is %d years and %i days, %f%% done: %o %O', ['ann', 3, 4, 0.5, 'o', 'O'], 'ann is 3 years and 4 days, 0.5% done: o O'],
    ['%s and %s', ['one'], 'one and %s'],
    ['100%% and %x', [], '100% and %x'],
  ])('formats %s with %j as %s', (message, params, formatted) => {
    expect(normalize({ logentry: { message, params } })).toMatchObject({ message: formatted, logentry: { message, formatted, params } });
  });

  it('prefers the SDK’s formatted text to formatting the template itself', () => {
    expect(normalize({ logentry: { message: 'user %s', params: ['ann'], formatted: 'user Ann' } })).toMatchObject({ message: 'user Ann', logentry: { message: 'user %s', formatted: 'user Ann', params: ['ann'] } });
  });

  it('takes the template as the text when there are no params', () => {
    expect(normalize({ logentry: { message: 'disk 93% full' } })).toMatchObject({ message: 'disk 93% full', logentry: { message: 'disk 93% full', formatted: 'disk 93% full' } });
    expect(normalize({ logentry: { message: 'disk %s', params: 'full' } }).logentry).toEqual({ message: 'disk %s', formatted: 'disk %s' });
  });

  it('keeps at most 50 params', () => {
    const params = Array.from({ length: 60 }, (_, n) => n);
    expect(normalize({ logentry: { message: '%s', params } }).logentry!.params).toHaveLength(50);
  });

  it('reads the legacy message interface and a message object', () => {
    expect(normalize({ 'sentry.interfaces.Message': { message: 'legacy %s', params: ['x'] } })).toMatchObject({ message: 'legacy x' });
    expect(normalize({ message: { message: 'obj %s', params: ['y'] } })).toMatchObject({ message: 'obj y' });
    expect(normalize({ message: { formatted: 'only formatted' } })).toMatchObject({ message: 'only formatted', logentry: { formatted: 'only formatted' } });
  });

  it('has no message for a logentry without text', () => {
    const event = normalize({ logentry: { params: [1] } });
    expect(event).not.toHaveProperty('message');
    expect(event).not.toHaveProperty('logentry');
  });

  it('takes a plain message as its formatted text, held to 8192 characters', () => {
    expect(normalize({ message: 'hello' })).toMatchObject({ message: 'hello', logentry: { formatted: 'hello' } });
    expect(normalize({ message: 42 }).message).toBe('42');
    expect(normalize({ message: 'm'.repeat(9000) }).logentry!.formatted).toBe(`${'m'.repeat(8191)}…`);
    expect(normalize({ logentry: { message: 'm'.repeat(9000) } }).logentry!.message).toBe(`${'m'.repeat(8191)}…`);
    expect(normalize({ logentry: { formatted: 'm'.repeat(9000) } }).message).toBe(`${'m'.repeat(8191)}…`);
  });
});

describe('the interfaces kept as they came', () => {
  it('keeps user, contexts, request, extra and sdk objects, under their legacy names too', () => {
    const event = normalize({ user: { id: 'u1' }, contexts: { os: { name: 'Linux' } }, request: { url: 'https://a/' }, extra: { n: 1 }, sdk: { name: 's', version: '1' } });
    expect(event).toMatchObject({ user: { id: 'u1' }, contexts: { os: { name: 'Linux' } }, request: { url: 'https://a/' }, extra: { n: 1 }, sdk: { name: 's', version: '1' } });
    expect(normalize({ 'sentry.interfaces.User': { id: 'u2' }, 'sentry.interfaces.Http': { url: 'https://b/' } })).toMatchObject({ user: { id: 'u2' }, request: { url: 'https://b/' } });
  });

  it('drops those that are not objects', () => {
    const event = normalize({ user: 'u1', contexts: ['os'], request: null, extra: 3, sdk: 'sentry' });
    expect(['user', 'contexts', 'request', 'extra', 'sdk'].filter((key) => key in event)).toEqual([]);
  });

  it('keeps the last 100 breadcrumbs, as a list or as {values}, objects only', () => {
    const crumbs = Array.from({ length: 105 }, (_, n) => ({ message: `c${n}` }));
    const kept = normalize({ breadcrumbs: crumbs }).breadcrumbs!.values;
    expect(kept).toHaveLength(100);
    expect(kept[0]).toEqual({ message: 'c5' });
    expect(normalize({ breadcrumbs: { values: [{ message: 'a' }, 'junk', null] } }).breadcrumbs).toEqual({ values: [{ message: 'a' }] });
    expect(normalize({ breadcrumbs: { values: 'junk' } })).not.toHaveProperty('breadcrumbs');
  });

  it('keeps the modules as text, at most 1000, and drops unnamed or unversioned ones', () => {
    expect(normalize({ modules: { react: '19.0.0', pg: 8, '': '1', bad: null, ['n'.repeat(300)]: 'v'.repeat(300) } }).modules).toEqual({ react: '19.0.0', pg: '8', [`${'n'.repeat(255)}…`]: `${'v'.repeat(255)}…` });
  });

  it('keeps the source-map debug images that name type, file and debug id, held to their limits', () => {
    const image = { type: 'sourcemap', code_file: 'https://shop.example.com/app.js', debug_id: 'c941d872-1b2c-4f3e-9d1a-0b1c2d3e4f50' };
    const event = normalize({
      debug_meta: { images: [image, 'junk', { ...image, type: '' }, { ...image, code_file: undefined }, { ...image, debug_id: null }, { type: 't'.repeat(70), code_file: 'c'.repeat(2100), debug_id: 'd'.repeat(70) }] },
    });
    expect(event.debug_meta).toEqual({ images: [image, { type: `${'t'.repeat(63)}…`, code_file: `${'c'.repeat(2047)}…`, debug_id: `${'d'.repeat(63)}…` }] });
    expect(normalize({ debug_meta: { images: Array.from({ length: 260 }, () => image) } }).debug_meta!.images).toHaveLength(250);
    expect(normalize({ debug_meta: { images: [] } })).not.toHaveProperty('debug_meta');
    expect(normalize({ debug_meta: { images: 'junk' } })).not.toHaveProperty('debug_meta');
    expect(normalize({ debug_meta: 'junk' })).not.toHaveProperty('debug_meta');
  });

  it('keeps the fingerprint’s text parts, each held to 512 characters', () => {
    expect(normalize({ fingerprint: ['{{ default }}', 42, { no: 1 }, 'f'.repeat(600)] }).fingerprint).toEqual(['{{ default }}', '42', `${'f'.repeat(511)}…`]);
    expect(normalize({ fingerprint: [{ no: 1 }] })).not.toHaveProperty('fingerprint');
    expect(normalize({ fingerprint: 'one' })).not.toHaveProperty('fingerprint');
  });
});

describe('the payload text', () => {
  it('is the event’s JSON, without NUL characters', () => {
    const event = normalize({ message: 'a\u0000b', extra: { k: 'c\u0000d', n: 1 } });
    expect(JSON.parse(serializeEvent(event))).toEqual({ ...event, message: 'ab', logentry: { formatted: 'ab' }, extra: { k: 'cd', n: 1 } });
    const clean = normalize({ message: 'a\\u0000b' });
    expect(serializeEvent(clean)).toBe(JSON.stringify(clean));
  });
});

describe('exact shapes (no key set to undefined)', () => {
  it('builds each object with only the fields it has', () => {
    const event = normalize({
      exception: { values: [{ type: 'E' }, { value: 'v', stacktrace: { frames: [{ function: 'f' }, { lineno: 3 }] } }] },
      logentry: { formatted: 'done' },
      modules: { '': '1' },
    });
    expect(event).toStrictEqual({
      event_id: NEW_ID,
      timestamp: RECEIVED,
      received: RECEIVED,
      level: 'error',
      platform: 'other',
      tags: [],
      message: 'done',
      logentry: { formatted: 'done' },
      exception: { values: [{ type: 'E' }, { value: 'v', stacktrace: { frames: [{ function: 'f' }, { lineno: 3 }] } }] },
    });
  });

  it('refuses an event whose id is not one, with nothing else', () => {
    expect(normalizeEvent({ event: { event_id: 'xyz', message: 'hi' }, received: RECEIVED })).toStrictEqual({ ok: false, rejection: { reason: 'invalid_event_id' } });
  });

  it('reads the legacy exception interface and a single exception object, and skips values that are not objects', () => {
    const expected = { values: [{ type: 'E', value: 'v' }] };
    expect(normalize({ 'sentry.interfaces.Exception': { values: [{ type: 'E', value: 'v' }] } }).exception).toStrictEqual(expected);
    expect(normalize({ exception: { type: 'E', value: 'v' } }).exception).toStrictEqual(expected);
    expect(normalize({ exception: { values: [null, 'junk', 7, { type: 'E', value: 'v' }] } }).exception).toStrictEqual(expected);
  });

  it('skips tag pairs whose key is not text', () => {
    expect(normalize({ tags: [[null, 'v'], [{}, 'w'], ['a', 'b']] }).tags).toStrictEqual([['a', 'b']]);
  });

  it('keeps the first 1000 modules, only named and versioned ones, and none when none is', () => {
    const modules = Object.fromEntries(Array.from({ length: LIMITS.modules + 5 }, (_, n) => [`pkg-${n}`, '1.0.0']));
    expect(normalize({ modules }).modules).toStrictEqual(Object.fromEntries(Array.from({ length: 1000 }, (_, n) => [`pkg-${n}`, '1.0.0'])));
    expect(normalize({ modules: { react: '19.0.0', bad: null, worse: {} } }).modules).toStrictEqual({ react: '19.0.0' });
    expect(normalize({ modules: { '': '1', bad: null } })).not.toHaveProperty('modules');
  });

  it('skips debug images that are not objects, null among them', () => {
    const image = { type: 'sourcemap', code_file: 'app.js', debug_id: 'c941d872-1b2c-4f3e-9d1a-0b1c2d3e4f50' };
    expect(normalize({ debug_meta: { images: [null, image, 3] } }).debug_meta).toStrictEqual({ images: [image] });
  });
});
