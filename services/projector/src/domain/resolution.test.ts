import { describe, expect, it } from 'vitest';
import { reopens, type Resolution } from './resolution.ts';

const at = 1_000_000;
const plain: Resolution = { inRelease: null, inNextRelease: null, resolvedAt: at };
const nextAfter1: Resolution = { inRelease: null, inNextRelease: 'web@1', resolvedAt: at };
const in2: Resolution = { inRelease: 'web@2', inNextRelease: null, resolvedAt: at };

describe('reopens: regression by release (Sentry GroupResolution semantics)', () => {
  it.each([
    ['resolved outright, any event', plain, { release: null, releaseFirstSeen: null }, true],
    ['resolved outright, a release event', plain, { release: 'web@1', releaseFirstSeen: at - 5 }, true],
    ['next release, no release on the event', nextAfter1, { release: null, releaseFirstSeen: null }, false],
    ['next release, the same release', nextAfter1, { release: 'web@1', releaseFirstSeen: at - 5 }, false],
    ['next release, the same release never seen before', nextAfter1, { release: 'web@1', releaseFirstSeen: null }, false],
    ['next release, an older release', nextAfter1, { release: 'web@0', releaseFirstSeen: at - 50 }, false],
    ['next release, a newer release (first seen after)', nextAfter1, { release: 'web@2', releaseFirstSeen: at + 5 }, true],
    ['next release, a release never seen before', nextAfter1, { release: 'web@2', releaseFirstSeen: null }, true],
    ["next release, a release first seen at the resolution's own millisecond (not before it: newer)", nextAfter1, { release: 'web@2', releaseFirstSeen: at }, true],
    ['in release, the release itself', in2, { release: 'web@2', releaseFirstSeen: at - 5 }, true],
    ['in release, an older release', in2, { release: 'web@1', releaseFirstSeen: at - 50 }, false],
    ['in release, a newer release', in2, { release: 'web@3', releaseFirstSeen: null }, true],
    ['in release, no release on the event', in2, { release: null, releaseFirstSeen: null }, false],
  ] as const)('%s → %s', (_name, resolution, event, expected) => {
    expect(reopens(resolution, event)).toBe(expected);
  });
});
