import { describe, expect, it } from 'vitest';
import type { ExceptionValue, NormalizedEvent, StackFrame } from '@trapline/schemas';
import { GROUPING_VERSION, groupHashes, normalizeFilename, stripMessageParameters } from './grouping.ts';

const frame = (fn: string, filename: string, lineno = 10, inApp?: boolean): StackFrame => ({ function: fn, filename, lineno, ...(inApp === undefined ? {} : { in_app: inApp }) });

const event = (overrides: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [], ...overrides,
});

const error = (type: string, value: string, frames: StackFrame[]): Partial<NormalizedEvent> => ({
  exception: { values: [{ type, value, stacktrace: { frames } } satisfies ExceptionValue] },
});

const hash = (input: Partial<NormalizedEvent>) => groupHashes(event(input)).hashes[0];

const appFrames = [frame('handle', '/srv/app/routes/users.js', 10), frame('loadUser', '/srv/app/models/user.js', 42)];

describe('grouping', () => {
  it('is versioned and gives the same hash for the same input', () => {
    const first = groupHashes(event(error('TypeError', 'x is undefined', appFrames)));
    expect(first.version).toBe(GROUPING_VERSION);
    expect(groupHashes(event(error('TypeError', 'x is undefined', appFrames)))).toEqual(first);
  });

  it.each([
    ['the same error from two releases (other line numbers, other deploy paths)', error('TypeError', 'x is undefined', appFrames),
      { ...error('TypeError', 'x is undefined', [frame('handle', '/deploy/v2.3.1/app/routes/users.js', 11), frame('loadUser', '/deploy/v2.3.1/app/models/user.js', 57)]), release: 'web@2' }],
    ['the same frames with a different message', error('TypeError', 'x is undefined', appFrames), error('TypeError', 'y is undefined', appFrames)],
    ['extra frames inside node_modules', error('TypeError', 'x', appFrames),
      error('TypeError', 'x', [frame('Layer.handle', '/srv/app/node_modules/express/lib/router/layer.js', 95), ...appFrames])],
    ['a bundle hash in the file name', error('Error', 'x', [frame('render', 'https://cdn.example.com/static/js/main.3f9a2b1c.js')]),
      error('Error', 'x', [frame('render', 'https://cdn.example.com/static/js/main.8e7d6c5b.js')])],
    ['messages that differ only in their parameters', { message: 'User 1234 not found at 2026-11-25T10:00:00Z' }, { message: 'User 99 not found at 2026-01-01T00:00:00Z' }],
    ['logentries with the same template', { message: 'Order 5 failed', logentry: { message: 'Order %s failed', params: [5] } },
      { message: 'Order 6 failed', logentry: { message: 'Order %s failed', params: [6] } }],
    ['the same custom fingerprint', { message: 'a', fingerprint: ['db-timeout'] }, { message: 'b', fingerprint: ['db-timeout'] }],
  ] as [string, Partial<NormalizedEvent>, Partial<NormalizedEvent>][])('groups together: %s', (_case, a, b) => {
    expect(hash(a)).toBe(hash(b));
  });

  it.each([
    ['different exception types', error('TypeError', 'x', appFrames), error('RangeError', 'x', appFrames)],
    ['different in-app functions', error('TypeError', 'x', appFrames), error('TypeError', 'x', [frame('saveUser', '/srv/app/models/user.js', 42)])],
    ['different messages', { message: 'cache miss' }, { message: 'disk full' }],
    ['different custom fingerprints', { message: 'a', fingerprint: ['one'] }, { message: 'a', fingerprint: ['two'] }],
    ['a fingerprint with {{ default }} plus a part', { ...error('E', 'x', appFrames), fingerprint: ['{{ default }}', 'tenant-a'] },
      { ...error('E', 'x', appFrames), fingerprint: ['{{ default }}', 'tenant-b'] }],
    ['frames marked in-app by the SDK', error('E', 'x', [frame('a', 'lib.js', 1, true), frame('b', 'vendor.js', 1, false)]),
      error('E', 'x', [frame('a', 'lib.js', 1, true), frame('c', 'other.js', 1, true)])],
  ] as [string, Partial<NormalizedEvent>, Partial<NormalizedEvent>][])('keeps apart: %s', (_case, a, b) => {
    expect(hash(a)).not.toBe(hash(b));
  });

  it('lets a custom fingerprint win over the stack trace', () => {
    expect(hash({ ...error('E', 'x', appFrames), fingerprint: ['custom'] })).toBe(hash({ message: 'anything', fingerprint: ['custom'] }));
  });

  it('treats a lone {{ default }} fingerprint as no fingerprint', () => {
    expect(hash({ ...error('E', 'x', appFrames), fingerprint: ['{{ default }}'] })).toBe(hash(error('E', 'x', appFrames)));
  });

  it('groups by the crashed thread when there is no exception', () => {
    const threads = (fn: string) => ({ threads: { values: [{ crashed: false, stacktrace: { frames: [frame('idle', 'main.c')] } }, { crashed: true, stacktrace: { frames: [frame(fn, 'worker.c')] } }] } });
    expect(hash(threads('parse'))).toBe(hash(threads('parse')));
    expect(hash(threads('parse'))).not.toBe(hash(threads('render')));
  });
});

describe('noise removal', () => {
  it.each([
    ['/srv/app/node_modules/express/lib/router.js?v=3', 'node_modules/express/lib/router.js'],
    ['https://cdn.example.com/static/js/main.3f9a2b1c.js', 'js/main.js'],
  ])('normalizes the file name %s', (input, expected) => {
    expect(normalizeFilename(input)).toBe(expected);
  });

  it('strips numbers, hex, UUIDs, emails, IPs and timestamps from messages', () => {
    expect(stripMessageParameters('user 42 (a@b.io) from 10.0.0.1 at 2026-11-25T10:00:00Z id 0xdeadbeef req 6f1c2d3e-1111-2222-3333-444455556666')).toBe(
      'user <int> (<email>) from <ip> at <date> id <hex> req <uuid>',
    );
  });
});
