import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

// The metrics every service shares: the registry, HTTP requests, Kafka consumers and dead letters.
// Service-specific counters (ingest outcomes, projected records, deletion steps) are declared by
// their service on the same registry. Names and labels are listed in docs/metrics.md.

/** One registry per service process, with the process metrics (RSS, event loop lag, GC). */
export function createMetrics(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** A metric registered once per registry, however many times it is asked for. */
function once<M extends Metric>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

// Anything is an HTTP server: the instance's type provider does not matter here.
type AnyFastify = FastifyInstance<any, any, any, any, any>;

/** Request count and latency by method, route pattern (never the raw URL) and status. */
export function observeRequests(app: AnyFastify, registry: Registry): void {
  const seconds = once(registry, 'trapline_http_request_duration_seconds', () =>
    new Histogram({
      name: 'trapline_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status: latency until the answer was sent (_count is the request count)',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
  );
  // A callback hook: an async one costs every request a promise.
  app.addHook('onResponse', (request, reply, done) => {
    seconds.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}

/** Records appended to a dead-letter topic (the projector's and the deleter's). */
export function deadLetterCounter(registry: Registry): Counter<'topic'> {
  return once(registry, 'trapline_dead_letters_total', () =>
    new Counter({ name: 'trapline_dead_letters_total', help: 'Records appended to a dead-letter topic', labelNames: ['topic'], registers: [registry] }),
  );
}

/** Consumer lag per partition and batch sizes and durations, as the consume loop reports them. */
export function consumerMetrics(registry: Registry) {
  return {
    lag: once(registry, 'trapline_consumer_lag', () =>
      new Gauge({ name: 'trapline_consumer_lag', help: 'Records behind the end of the partition after the last batch', labelNames: ['group', 'topic', 'partition'], registers: [registry] }),
    ),
    batchRecords: once(registry, 'trapline_consumer_batch_records', () =>
      new Histogram({ name: 'trapline_consumer_batch_records', help: 'Records per consumed batch', labelNames: ['group', 'topic'], buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000], registers: [registry] }),
    ),
    batchSeconds: once(registry, 'trapline_consumer_batch_seconds', () =>
      new Histogram({ name: 'trapline_consumer_batch_seconds', help: 'Time to process a consumed batch, durable effects included', labelNames: ['group', 'topic'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    ),
  };
}
