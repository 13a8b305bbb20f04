import { describe, expect, it } from 'vitest';
import { crashLocation, eventCulprit, hasSystemFrames } from './culprit.ts';
import type { NormalizedEvent, StackFrame } from './event.ts';

const event = (platform: string, frames: StackFrame[], extra: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  event_id: '0'.repeat(32),
  timestamp: 1,
  received: 1,
  level: 'error',
  platform,
  tags: [],
  exception: { values: [{ type: 'E', value: 'v', stacktrace: { frames } }] },
  ...extra,
});

const system = { module: 'runtime', function: 'goexit', filename: 'asm.s', in_app: false };
const app = { module: 'shop.cart', function: 'checkout', filename: 'cart.py', in_app: true };

describe("an event's culprit, as Sentry's culprit.py writes it", () => {
  it.each([
    ['python', [system, app], 'shop.cart in checkout'],
    ['java', [system, { ...app, module: 'com.shop.Cart' }], 'com.shop.Cart in checkout'],
    ['go', [system, { ...app, module: 'shop/checkout', function: undefined }], 'shop/checkout in ?'],
    ['node', [system, { ...app, module: undefined, filename: 'app/cart.js' }], 'checkout(app/cart.js)'],
    ['javascript', [{ ...app, module: undefined, filename: 'https://shop/app.js' }], 'checkout(https://shop/app.js)'],
    ['cocoa', [system, app], 'checkout'],
    ['python', [system], 'runtime in goexit'],
    ['python', [{ function: 'f' }], ''],
  ] as const)('on %s, frames %j: %s', (platform, frames, culprit) => {
    expect(eventCulprit(event(platform, [...frames]))).toBe(culprit);
  });

  it('takes the transaction first, then the frames, then the request URL; none for a synthetic exception', () => {
    expect(eventCulprit(event('python', [app], { transaction: '/cart' }))).toBe('/cart');
    expect(eventCulprit({ ...event('python', []), exception: undefined, request: { url: 'https://shop/cart' } })).toBe('https://shop/cart');
    expect(eventCulprit({ ...event('python', [app]), exception: { values: [{ value: 'm', mechanism: { synthetic: true }, stacktrace: { frames: [app] } }] } })).toBe('');
  });
});

describe('crash location and system frames', () => {
  it('locates the crash in the innermost app frame with a function', () => {
    expect(crashLocation(event('python', [app, system]))).toBe('cart.py');
    expect(crashLocation(event('python', [{ filename: 'a.py' }]))).toBeNull();
    expect(crashLocation({ ...event('python', []), exception: undefined })).toBeNull();
  });

  it.each([
    [[system, app], true],
    [[app], false],
    [[system], false],
    [[], false],
  ] as const)('frames %j have system frames: %s', (frames, expected) => {
    expect(hasSystemFrames([...frames])).toBe(expected);
  });
});
