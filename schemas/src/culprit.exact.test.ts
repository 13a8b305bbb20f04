import { describe, expect, it } from 'vitest';
import { appFrames, crashLocation, eventCulprit, frameCulprit } from './culprit.ts';
import type { NormalizedEvent, StackFrame } from './event.ts';

// Exact culprits as Sentry's src/sentry/culprit.py writes them (generate_culprit,
// get_stacktrace_culprit, get_frame_culprit, truncatechars to MAX_CULPRIT_LENGTH = 200).

const base: NormalizedEvent = { event_id: '0'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'python', tags: [] };
const withFrames = (platform: string, frames: StackFrame[], extra: Partial<NormalizedEvent> = {}): NormalizedEvent => ({ ...base, platform, exception: { values: [{ type: 'E', value: 'v', stacktrace: { frames } }] }, ...extra });

describe("one frame's culprit (get_frame_culprit)", () => {
  const frame: StackFrame = { module: 'shop.cart', filename: 'shop/cart.py', function: 'checkout' };
  it.each([
    ['python', frame, 'shop.cart in checkout'],
    ['python', { ...frame, module: undefined }, 'shop/cart.py in checkout'],
    ['python', { ...frame, function: undefined }, 'shop.cart in ?'],
    ['python', { function: 'checkout' }, ''],
    ['java', { module: 'com.shop.Cart', function: 'pay' }, 'com.shop.Cart in pay'],
    ['javascript', { filename: 'app.js', function: 'onClick' }, 'onClick(app.js)'],
    ['javascript', { module: 'app/button', filename: 'app.js', function: 'onClick' }, 'onClick(app/button)'],
    ['node', { filename: '/srv/app.js' }, '?(/srv/app.js)'],
    ['node', { function: 'f' }, ''],
    ['objc', frame, 'checkout'],
    ['cocoa', { ...frame, function: undefined }, '?'],
    ['native', {}, '?'],
  ] as const)('on %s, %j: %j', (platform, candidate, culprit) => {
    expect(frameCulprit(candidate, platform)).toBe(culprit);
  });
});

describe('which frames are the app’s', () => {
  const lib = { filename: 'node_modules/express/index.js', function: 'handle' };
  const site = { abs_path: '/usr/lib/python3/site-packages/django/core.py', function: 'get' };
  const dist = { filename: '/usr/lib/python3/dist-packages/x.py', function: 'y' };
  const own = { filename: 'src/app.js', function: 'main' };
  it('takes the frames the SDK marked in app, when it marked any', () => {
    const marked = { ...lib, in_app: true };
    expect(appFrames([own, marked, { ...own, in_app: false }])).toEqual([marked]);
  });

  it('else every frame not marked out of the app and outside node_modules, site-packages and dist-packages', () => {
    const unmarkedOut = { ...own, in_app: false };
    expect(appFrames([lib, own, site, dist, unmarkedOut, { function: 'anon' }])).toEqual([own, { function: 'anon' }]);
  });
});

describe("an event's culprit (generate_culprit)", () => {
  const sys = (name: string): StackFrame => ({ module: `lib.${name}`, function: name, in_app: false });
  const app = (name: string): StackFrame => ({ module: `shop.${name}`, function: name, in_app: true });

  it('takes the innermost app frame that has a culprit', () => {
    expect(eventCulprit(withFrames('python', [app('outer'), sys('middle'), app('inner'), sys('top')]))).toBe('shop.inner in inner');
    expect(eventCulprit(withFrames('python', [app('outer'), { function: 'nofile', in_app: true }]))).toBe('shop.outer in outer');
  });

  it('falls back to the innermost other frame with a culprit when no app frame has one', () => {
    expect(eventCulprit(withFrames('python', [sys('outer'), sys('inner'), { function: 'nofile', in_app: true }]))).toBe('lib.inner in inner');
    expect(eventCulprit(withFrames('python', [sys('outer'), { function: 'nofile', in_app: false }]))).toBe('');
  });

  it('reads the last exception that has frames', () => {
    const event: NormalizedEvent = {
      ...base,
      exception: { values: [{ type: 'A', stacktrace: { frames: [app('first')] } }, { type: 'B', stacktrace: { frames: [app('second')] } }, { type: 'C', stacktrace: { frames: [] } }, { type: 'D' }] },
    };
    expect(eventCulprit(event)).toBe('shop.second in second');
  });

  it('gives a synthetic last exception no culprit, even with frames or a URL', () => {
    const event: NormalizedEvent = { ...base, request: { url: 'https://shop/cart' }, exception: { values: [{ type: 'A', stacktrace: { frames: [app('a')] } }, { type: 'B', mechanism: { synthetic: true } }] } };
    expect(eventCulprit(event)).toBe('');
    expect(eventCulprit({ ...event, exception: { values: [{ type: 'B', mechanism: { synthetic: false }, stacktrace: { frames: [app('b')] } }] } })).toBe('shop.b in b');
  });

  it('takes the request URL when the frames give none, and nothing else', () => {
    expect(eventCulprit(withFrames('python', [{ function: 'f' }], { request: { url: 'https://shop/cart' } }))).toBe('https://shop/cart');
    expect(eventCulprit(withFrames('python', [app('a')], { request: { url: 'https://shop/cart' } }))).toBe('shop.a in a');
    expect(eventCulprit({ ...base, request: { url: 42 as unknown as string } })).toBe('');
    expect(eventCulprit({ ...base, request: {} })).toBe('');
    expect(eventCulprit(base)).toBe('');
  });

  it('takes the transaction before all, cut to 200 characters', () => {
    expect(eventCulprit(withFrames('python', [app('a')], { transaction: '/cart' }))).toBe('/cart');
    expect(eventCulprit({ ...base, transaction: 't'.repeat(250) })).toBe('t'.repeat(200));
  });

  it('truncates a longer culprit to 200 characters ending in "..." (truncatechars)', () => {
    expect(eventCulprit({ ...base, request: { url: 'u'.repeat(200) } })).toBe('u'.repeat(200));
    expect(eventCulprit({ ...base, request: { url: 'u'.repeat(201) } })).toBe(`${'u'.repeat(197)}...`);
    expect(eventCulprit(withFrames('python', [{ module: 'm'.repeat(300), function: 'f', in_app: true }]))).toBe(`${'m'.repeat(197)}...`);
  });
});

describe('the crash location', () => {
  it('is the file of the innermost app frame with a real function of the last exception', () => {
    const frames: StackFrame[] = [
      { filename: 'outer.py', function: 'outer', in_app: true },
      { filename: 'inner.py', function: 'inner', in_app: true },
      { filename: 'redacted.py', function: '<redacted>', in_app: true },
      { filename: 'unknown.py', function: '<unknown>', in_app: true },
      { filename: 'anon.py', in_app: true },
      { filename: 'lib.py', function: 'lib', in_app: false },
    ];
    expect(crashLocation(withFrames('python', frames))).toBe('inner.py');
  });

  it('falls back to the innermost frame with a function, and to abs_path', () => {
    expect(crashLocation(withFrames('python', [{ filename: 'a.py', function: 'a', in_app: false }, { filename: 'b.py', function: 'b', in_app: false }, { filename: 'c.py', function: 'c', in_app: false }]))).toBe('c.py');
    expect(crashLocation(withFrames('python', [{ abs_path: '/srv/a.py', function: 'a', in_app: true }]))).toBe('/srv/a.py');
    expect(crashLocation(withFrames('python', [{ function: 'a', in_app: true }]))).toBeNull();
  });

  it('reads the last exception only', () => {
    const event: NormalizedEvent = { ...base, exception: { values: [{ type: 'A', stacktrace: { frames: [{ filename: 'a.py', function: 'a' }] } }, { type: 'B' }] } };
    expect(crashLocation(event)).toBeNull();
    expect(crashLocation({ ...base, exception: { values: [] } })).toBeNull();
  });
});
