import { describe, expect, it } from 'vitest';
import { compactCount, dateTime, timeAgo, toIso } from './format.ts';
import { sparklinePoints } from './sparkline.ts';
import { exceptionChain, sourceLines } from './exception.ts';

const now = Date.parse('2026-01-15T10:00:00Z');

describe('formatting', () => {
  it.each([
    ['2026-01-15T09:59:30Z', 'just now'],
    ['2026-01-15T09:58:00Z', '2min ago'],
    ['2026-01-15T07:00:00Z', '3h ago'],
    ['2026-01-13T10:00:00Z', '2d ago'],
    ['2025-10-01T10:00:00Z', '3mo ago'],
    ['2024-01-01T00:00:00Z', '2y ago'],
    ['2026-01-15T10:05:00Z', 'just now'],
  ])('%s is %s', (iso, text) => {
    expect(timeAgo(iso, now)).toBe(text);
  });

  it.each([
    [7, '7'],
    ['999', '999'],
    [1000, '1k'],
    [1250, '1.3k'],
    [34567, '34k'],
    [1_500_000, '1.5M'],
  ])('%j events read %s', (count, text) => {
    expect(compactCount(count)).toBe(text);
  });

  it('reads SDK timestamps in seconds and ISO text', () => {
    expect(toIso(1768471200.5)).toBe('2026-01-15T10:00:00.500Z');
    expect(toIso('2026-01-15T10:00:00Z')).toBe('2026-01-15T10:00:00.000Z');
    expect(toIso('yesterday')).toBeUndefined();
    expect(dateTime('2026-01-15T10:00:00.000Z')).toBe('2026-01-15 10:00:00 UTC');
  });
});

describe('the sparkline', () => {
  it('puts the busiest bucket at the top and zero at the bottom', () => {
    expect(sparklinePoints([0, 2, 1], 80, 20)).toBe('0,20 40,0 80,10');
    expect(sparklinePoints([0, 0], 80, 20)).toBe('0,20 80,20');
    expect(sparklinePoints([], 80, 20)).toBe('');
  });
});

describe('the exception chain', () => {
  it('shows the exception raised last first, each stack most recent call first', () => {
    const chain = exceptionChain([
      { type: 'Cause', stacktrace: { frames: [{ function: 'outer' }, { function: 'inner' }] } },
      { type: 'Raised', stacktrace: null },
    ]);
    expect(chain.map(({ exception }) => exception.type)).toEqual(['Raised', 'Cause']);
    expect(chain[1]!.frames.map((frame) => frame.function)).toEqual(['inner', 'outer']);
  });

  it('numbers context lines around the frame line', () => {
    expect(sourceLines({ lineno: 10, pre_context: ['a', 'b'], context_line: 'c', post_context: ['d'] })).toEqual([
      { lineno: 8, code: 'a', current: false },
      { lineno: 9, code: 'b', current: false },
      { lineno: 10, code: 'c', current: true },
      { lineno: 11, code: 'd', current: false },
    ]);
    expect(sourceLines({ lineno: 10 })).toEqual([]);
  });
});
