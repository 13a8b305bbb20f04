import { describe, expect, it } from 'vitest';
import type { NormalizedEvent, StackFrame } from '@trapline/schemas';
import { GROUPING_VERSION, groupHashes, groupingFrames, normalizeFilename, normalizeFunction, stripMessageParameters } from './grouping.ts';

// Grouping's exact outputs, one table row per noise rule (found by mutation testing: each rule of a
// regular expression a test did not pin could change without a test failing, and with it every
// issue's hash on the next replay).

const event = (overrides: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [], ...overrides,
});
const hash = (overrides: Partial<NormalizedEvent>) => groupHashes(event(overrides)).hashes[0];
const withFrames = (frames: StackFrame[], value = 'boom', type = 'Error'): Partial<NormalizedEvent> => ({ exception: { values: [{ type, value, stacktrace: { frames } }] } });

describe('normalizeFilename', () => {
  it.each([
    ['https://cdn.example.com/assets/app.3f2a9c1b7d.js?v=2#frag', 'assets/app.js'],
    ['/assets/app.js#frag?x', 'assets/app.js'],
    ['webpack-internal:///./src/pages/checkout.tsx', 'pages/checkout.tsx'],
    ['file:///C:/work/src/main.py', 'src/main.py'],
    ['/srv/app/releases/2024/node_modules/express/lib/router/index.js', 'node_modules/express/lib/router/index.js'],
    ['/opt/app/lib/billing/invoice-5d41402abc4b2a76b9719d911017c592.js', 'billing/invoice.js'],
    ['/deploy/12345678/app.min.js', '12345678/app.min.js'],
    ['app/vendor/lib-1.22.333.js', 'vendor/lib-<version>.js'],
    ['app/vendor/lib-10.2.3.js', 'vendor/lib-<version>.js'],
    ['a//b///c.js', 'b/c.js'],
    ['https://host.example/app.js', 'app.js'],
    ['/x/https://host.example/app.js', 'host.example/app.js'],
    ['x', 'x'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeFilename(input)).toBe(expected);
  });
});

describe('normalizeFunction', () => {
  it.each([
    ['Object.<anonymous>', ''],
    ['new Foo', 'Foo'],
    ['new   Bar', 'Bar'],
    ['renew', 'renew'],
    ['Router.handle [as handle_request]', 'Router.handle'],
    ['Array.map [as x]', 'Array.map'],
    ['x [as ]', 'x [as ]'],
    ['render$12', 'render'],
    ['fn$1$23', 'fn'],
    ['cost$x', 'cost$x'],
    [' padded ', 'padded'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeFunction(input)).toBe(expected);
  });
});

describe('stripMessageParameters', () => {
  it.each([
    ['user 3f2504e0-4f89-11d3-9a0c-0305e82c3301 failed', 'user <uuid> failed'],
    ['mail a.b+c@mx-1.example.co.uk bounced', 'mail <email> bounced'],
    ['x@y.z', '<email>'],
    ['at 2024-11-26T10:01:02.345+01:00 ok', 'at <date> ok'],
    ['at 2024-11-26T10:01:02.345 ok', 'at <date> ok'],
    ['at 2024-11-26 10:01 ok', 'at <date> ok'],
    ['at 2024-11-26T10:01:02Z ok', 'at <date> ok'],
    ['at 2024-11-26T10:01:02.5-0530 ok', 'at <date> ok'],
    ['at 2024-11-26T10:01:02+11:30 ok', 'at <date> ok'],
    ['from 10.0.0.254 port 8080', 'from <ip> port <int>'],
    ['ptr 0xDEADbeef', 'ptr <hex>'],
    ['id 0123456789abcdef0', 'id <hex>'],
    ['took 12.5 ms and 3 tries', 'took <int> ms and <int> tries'],
    ['took 12.55 ms', 'took <int> ms'],
  ])('%s → %s', (input, expected) => {
    expect(stripMessageParameters(input)).toBe(expected);
  });
});

describe('which frames group', () => {
  const app = { function: 'handle', filename: '/srv/app/routes/users.js' };
  const library = { function: 'dispatch', filename: '/srv/app/node_modules/express/router.js' };
  it.each([
    ['the frames marked in-app, when any is', [{ ...app, in_app: true }, { ...library, in_app: false }, { function: 'other', filename: 'x.js' }], [0]],
    ['else every frame outside node_modules, site-packages, dist-packages and not marked out', [app, library, { function: 'q', abs_path: '/usr/lib/python3/site-packages/q.py' }, { function: 'r', filename: '/usr/lib/python3/dist-packages/r.py' }, { ...app, in_app: false }, { function: 'bare' }], [0, 5]],
  ])('%s', (_what, frames: StackFrame[], kept) => {
    expect(groupingFrames(frames)).toEqual(kept.map((index) => frames[index]));
  });
});

describe('grouping components', () => {
  it('records its version, which names this exact function', () => {
    expect(GROUPING_VERSION).toBe('trapline:2026-11');
    expect(groupHashes(event({ message: 'x' })).version).toBe(GROUPING_VERSION);
  });

  it('keys a frame by its module before its file name, and by its function', () => {
    const frame = (extra: Partial<StackFrame>) => hash(withFrames([{ function: 'f', ...extra }]));
    expect(frame({ module: 'billing.invoice', filename: 'a.py' })).toBe(frame({ module: 'billing.invoice', filename: 'b.py' }));
    expect(frame({ filename: 'a.py' })).not.toBe(frame({ filename: 'b.py' }));
    expect(frame({ abs_path: '/x/a.py' })).not.toBe(frame({ abs_path: '/x/b.py' }));
    expect(hash(withFrames([{ filename: 'a.py' }]))).not.toBe(hash(withFrames([{ filename: 'a.py', function: 'g' }])));
    expect(hash(withFrames([{ function: 'g' }]))).not.toBe(hash(withFrames([{ function: 'h' }])));
  });

  it('uses the exception value only while no usable frame was seen, the message noise stripped', () => {
    expect(hash(withFrames([], 'user 1 missing'))).toBe(hash(withFrames([], 'user 2 missing')));
    expect(hash(withFrames([], 'user missing'))).not.toBe(hash(withFrames([], 'order missing')));
    expect(hash(withFrames([{ lineno: 3 }], 'a'))).not.toBe(hash(withFrames([{ lineno: 3 }], 'b'))); // a frame with nothing to key on is no frame
    expect(hash(withFrames([{ function: 'f' }], 'a'))).toBe(hash(withFrames([{ function: 'f' }], 'b')));
    const chain = (value: string) => hash({ exception: { values: [{ type: 'Cause', value: 'x', stacktrace: { frames: [{ function: 'f' }] } }, { type: 'Error', value }] } });
    expect(chain('a')).toBe(chain('b'));
    expect(hash({ exception: { values: [{ type: 'E' }] } })).not.toBe(hash({ exception: { values: [{ type: 'F' }] } }));
    expect(hash({ exception: { values: [] }, message: 'm1' })).not.toBe(hash({ exception: { values: [] }, message: 'm2' }));
  });

  it('groups by the crashed thread, else the current one, else the first; a thread without usable frames falls back to the message', () => {
    const threads = (...values: { crashed?: boolean; current?: boolean; fn: string }[]) => hash({ message: 'same', threads: { values: values.map(({ fn, ...flags }) => ({ ...flags, stacktrace: { frames: [{ function: fn }] } })) } });
    expect(threads({ fn: 'a' }, { current: true, fn: 'b' })).toBe(threads({ fn: 'c' }, { current: true, fn: 'b' }));
    expect(threads({ fn: 'a' }, { current: true, fn: 'b' })).not.toBe(threads({ fn: 'a' }, { current: true, fn: 'c' }));
    expect(threads({ fn: 'a' }, { fn: 'b' })).not.toBe(threads({ fn: 'c' }, { fn: 'b' }));
    expect(hash({ message: 'm1', threads: { values: [{ stacktrace: { frames: [{ lineno: 1 }] } }] } })).not.toBe(hash({ message: 'm2', threads: { values: [{ stacktrace: { frames: [{ lineno: 1 }] } }] } }));
    expect(hash({ message: 'm1', threads: { values: [{}] } })).not.toBe(hash({ message: 'm2', threads: { values: [{}] } }));
  });

  it('groups a message by its template when it has parameters, else by the message with its noise stripped', () => {
    expect(hash({ message: 'user 1 gone', logentry: { message: 'user %s gone', params: ['1'] } })).toBe(hash({ message: 'user 2 gone', logentry: { message: 'user %s gone', params: ['2'] } }));
    expect(hash({ message: 'a', logentry: { message: 'user %s gone', params: [] } })).not.toBe(hash({ message: 'b', logentry: { message: 'user %s gone', params: [] } }));
    expect(hash({ message: 'a', logentry: { message: 't' } })).not.toBe(hash({ message: 'b', logentry: { message: 't' } }));
  });
});

describe('fingerprints', () => {
  const base = withFrames([{ function: 'f' }]);
  const other = withFrames([{ function: 'g' }]);
  it.each([[['{{ default }}']], [['{{default}}']], [['{{  default  }}']], [[]]])('%j is the default grouping', (fingerprint) => {
    expect(hash({ ...base, fingerprint })).toBe(hash(base));
  });
  it.each([[['x{{ default }}']], [['{{ default }}x']], [['{{ defaults }}']], [['{{ def ault }}']]])('%j is a literal fingerprint', (fingerprint) => {
    expect(hash({ ...base, fingerprint })).not.toBe(hash(base));
    expect(hash({ ...base, fingerprint })).toBe(hash({ ...other, fingerprint }));
  });
  it('mixes {{ default }} with the other parts, in any spacing', () => {
    const mixed = (input: Partial<NormalizedEvent>, marker = '{{ default }}') => hash({ ...input, fingerprint: [marker, 'checkout'] });
    expect(mixed(base)).not.toBe(mixed(other));
    expect(mixed(base)).toBe(mixed(base, '{{default}}'));
    expect(mixed(base)).toBe(mixed(base, '{{  default  }}'));
    expect(mixed(base)).not.toBe(hash({ ...base, fingerprint: ['checkout'] }));
    expect(hash({ ...base, fingerprint: ['x{{ default }}', 'checkout'] })).toBe(hash({ ...other, fingerprint: ['x{{ default }}', 'checkout'] }));
    expect(hash({ ...base, fingerprint: ['{{ default }}x', 'checkout'] })).toBe(hash({ ...other, fingerprint: ['{{ default }}x', 'checkout'] }));
  });
  it('gives the hashes of this version exactly (a change needs a new GROUPING_VERSION)', () => {
    expect(hash({ message: 'user 42 gone' })).toBe('52a92144815bd79dd9986731e1954aa0'); // md5 of "message:user <int> gone"
    expect(hash({ fingerprint: ['a', 'b'] })).toBe('1f1fe1ef7af642e609b3e3319d38d37c');
    expect(hash({ exception: { values: [{ type: 'E', value: 'v', stacktrace: { frames: [{ function: 'f' }, { filename: '/srv/app/x.js' }] } }] } })).toBe('7a3bb7ac43a0100b7d9acc2d2ac5e61d');
  });

  it('keeps the parts apart', () => {
    expect(hash({ fingerprint: ['ab', 'c'] })).not.toBe(hash({ fingerprint: ['a', 'bc'] }));
  });
});
