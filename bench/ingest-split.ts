// Where an ingest request's time goes, from ingest's own histograms between two readings: the
// request (arrival to answer), the wait for Kafka's ack, the Redis lookup before it and the Redis
// mark after it. Means, and p50/p99 as the upper bound of the bucket they fall in.

/** One histogram series: cumulative bucket counts by upper bound, sum and count. */
interface Series {
  buckets: [number, number][];
  sum: number;
  count: number;
}

const PARTS = {
  request: { name: 'trapline_http_request_duration_seconds', labels: /route="\/api\/:projectId\/store\/".*status="200"|status="200".*route="\/api\/:projectId\/store\/"/ },
  ack: { name: 'trapline_ingest_append_seconds', labels: /result="acked"/ },
  check: { name: 'trapline_ingest_redis_seconds', labels: /step="check"/ },
  mark: { name: 'trapline_ingest_redis_seconds', labels: /step="mark"/ },
} as const;

export type Part = keyof typeof PARTS;
export type Reading = Record<Part, Series>;

function series(metrics: string, name: string, labels: RegExp): Series {
  const lines = metrics.split('\n').filter((line) => labels.test(line));
  const value = (line: string) => Number(line.slice(line.lastIndexOf(' ') + 1));
  const buckets = new Map<number, number>();
  for (const line of lines.filter((entry) => entry.startsWith(`${name}_bucket{`))) {
    const bound = /le="([^"]+)"/.exec(line)![1]!;
    const le = bound === '+Inf' ? Infinity : Number(bound);
    buckets.set(le, (buckets.get(le) ?? 0) + value(line));
  }
  const total = (suffix: string) => lines.filter((line) => line.startsWith(`${name}_${suffix}{`)).reduce((sum, line) => sum + value(line), 0);
  return { buckets: [...buckets].sort((a, b) => a[0] - b[0]), sum: total('sum'), count: total('count') };
}

/** Ingest's histograms now (its /metrics on `port`). */
export async function readSplit(port: number): Promise<Reading> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Object.fromEntries(Object.entries(PARTS).map(([part, { name, labels }]) => [part, series(metrics, name, labels)])) as Reading;
}

export interface PartFigures {
  count: number;
  meanMs: number;
  /** Upper bounds of the buckets holding the 50th and 99th percentile, in ms. */
  p50ms: number;
  p99ms: number;
}

/** What happened between two readings, per part. */
export function splitBetween(before: Reading, after: Reading): Record<Part, PartFigures> {
  const figures = (part: Part): PartFigures => {
    const [from, to] = [before[part], after[part]];
    const count = to.count - from.count;
    const deltas = to.buckets.map(([le, cumulative]) => [le, cumulative - (from.buckets.find(([bound]) => bound === le)?.[1] ?? 0)] as const);
    const quantile = (q: number) => {
      const bound = deltas.find(([, cumulative]) => cumulative >= q * count)?.[0] ?? Infinity;
      return Number.isFinite(bound) ? bound * 1000 : Infinity;
    };
    return { count, meanMs: count === 0 ? 0 : +(((to.sum - from.sum) / count) * 1000).toFixed(2), p50ms: quantile(0.5), p99ms: quantile(0.99) };
  };
  return { request: figures('request'), ack: figures('ack'), check: figures('check'), mark: figures('mark') };
}

/** One line: each part's mean and bucketed p50/p99. */
export function formatSplit(split: Record<Part, PartFigures>): string {
  return (Object.entries(split) as [Part, PartFigures][]).map(([part, { meanMs, p50ms, p99ms }]) => `${part} ${meanMs} ms (p50 ≤ ${p50ms}, p99 ≤ ${p99ms})`).join('; ');
}
