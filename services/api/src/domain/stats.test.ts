import { describe, expect, it } from 'vitest';
import { parseGroupStatsPeriod, statsSeries, statsWindow } from './stats.ts';

const now = Date.UTC(2026, 0, 15, 10, 30); // 10:30 UTC
const hour = 3600;
const nowHour = Date.UTC(2026, 0, 15, 10) / 1000;

describe('issue stats series', () => {
  it.each([
    ['24h', '24h'],
    ['14d', '14d'],
    ['auto', '24h'],
    ['', undefined],
    [undefined, undefined],
  ])('groupStatsPeriod %j computes %j', (value, period) => {
    expect(parseGroupStatsPeriod(value)).toBe(period);
  });

  it('ends 24 hourly buckets with the hour that holds now', () => {
    expect(statsWindow('24h', now)).toEqual({ since: nowHour - 23 * hour, rollupSeconds: hour });
    const series = statsSeries('24h', now, new Map([[nowHour, 3], [nowHour - 2 * hour, 1]]));
    expect(series).toHaveLength(24);
    expect(series.at(-1)).toEqual([nowHour, 3]);
    expect(series.at(-3)).toEqual([nowHour - 2 * hour, 1]);
    expect(series.reduce((sum, [, count]) => sum + count, 0)).toBe(4);
  });

  it('has 14 daily buckets starting at midnight UTC', () => {
    const series = statsSeries('14d', now, new Map());
    expect(series).toHaveLength(14);
    expect(series.at(-1)).toEqual([Date.UTC(2026, 0, 15) / 1000, 0]);
    expect(series[0]![0]).toBe(Date.UTC(2026, 0, 2) / 1000);
  });
});
