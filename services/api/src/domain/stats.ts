// Sentry's per-issue event volume in issue lists (`groupStatsPeriod`): `stats: {"24h": [[bucket
// start in unix seconds, events], …]}`, 24 hourly or 14 daily buckets, the last one holding `now`.
// Sentry computes 24h when the parameter is absent; Trapline only when asked (`24h`, `14d`,
// `auto` = 24h), so lists stay as cheap as before for clients that never read them.

export const GROUP_STATS_PERIODS = {
  '24h': { buckets: 24, rollupSeconds: 3600 },
  '14d': { buckets: 14, rollupSeconds: 86400 },
} as const;

export type GroupStatsPeriod = keyof typeof GROUP_STATS_PERIODS;

/** `groupStatsPeriod` → the period to compute, or undefined for none (absent or ''). */
export function parseGroupStatsPeriod(value: string | undefined): GroupStatsPeriod | undefined {
  if (value === 'auto') return '24h';
  return value === '24h' || value === '14d' ? value : undefined;
}

/** Start of the first bucket (unix seconds) and the bucket width of a period at `now` (ms). */
export function statsWindow(period: GroupStatsPeriod, now: number): { since: number; rollupSeconds: number } {
  const { buckets, rollupSeconds } = GROUP_STATS_PERIODS[period];
  const current = Math.floor(now / 1000 / rollupSeconds) * rollupSeconds;
  return { since: current - (buckets - 1) * rollupSeconds, rollupSeconds };
}

/** Every bucket of the window, zero where `counts` (bucket start → events) has nothing. */
export function statsSeries(period: GroupStatsPeriod, now: number, counts: ReadonlyMap<number, number>): [number, number][] {
  const { since, rollupSeconds } = statsWindow(period, now);
  return Array.from({ length: GROUP_STATS_PERIODS[period].buckets }, (_, index) => {
    const start = since + index * rollupSeconds;
    return [start, counts.get(start) ?? 0];
  });
}
