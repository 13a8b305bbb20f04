import type { FastifyInstance } from 'fastify';
import type { Consumer, ConsumerConfig } from 'kafkajs';
import type { Kafka } from './kafka.ts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { ReadinessCheck } from './health.ts';

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

/** Consumer lag per partition and batch sizes and durations: the same names for kafkajs consumers and the consume loop. */
export function consumerMetrics(registry: Registry) {
  return {
    lag: once(registry, 'trapline_consumer_lag', () =>
      new Gauge({ name: 'trapline_consumer_lag', help: 'Records behind the end of the partition after the last batch', labelNames: ['group', 'topic', 'partition'], registers: [registry] }),
    ),
    batchRecords: once(registry, 'trapline_consumer_batch_records', () =>
      new Histogram({ name: 'trapline_consumer_batch_records', help: 'Records per consumed batch', labelNames: ['group', 'topic'], buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000], registers: [registry] }),
    ),
    batchSeconds: once(registry, 'trapline_consumer_batch_seconds', () =>
      new Histogram({ name: 'trapline_consumer_batch_seconds', help: 'Time to process a consumed batch, durable effects included', labelNames: ['group', 'topic'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    ),
  };
}

export interface ObservedConsumers {
  /** Kafka whose consumers are observed: build the service's consumers from this one. */
  kafka: Kafka;
  /** Readiness: every consumer built so far is in its group (joined, not crashed or stopped). */
  check: ReadinessCheck;
}

/**
 * Consumer lag, batch sizes and durations from kafkajs' own instrumentation events, so observing
 * costs no request to Kafka. Works for consumers built inside adapters (the deleter's pipeline)
 * without touching them: `kafka` is wrapped, not changed.
 *
 * Lag is what kafkajs reports at the end of each batch (high watermark − 1 − the batch's last
 * offset, transaction markers included), per assigned partition; partitions this instance no
 * longer owns after a rebalance are dropped, so with several instances each reports its own.
 */
export function observeConsumers(kafka: Kafka, registry: Registry): ObservedConsumers {
  const { lag, batchRecords, batchSeconds } = consumerMetrics(registry);
  const states = new Map<string, string>();

  const observe = (consumer: Consumer, group: string) => {
    const { GROUP_JOIN, END_BATCH_PROCESS, CRASH, STOP } = consumer.events;
    const reported = new Map<string, { topic: string; partition: string }>();
    states.set(group, 'not joined yet');
    consumer.on(GROUP_JOIN, ({ payload }) => {
      states.set(group, 'joined');
      const assigned = payload.memberAssignment;
      for (const [id, labels] of reported) {
        if (assigned[labels.topic]?.includes(Number(labels.partition))) continue;
        lag.remove({ group, ...labels });
        reported.delete(id);
      }
    });
    consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      const labels = { topic: payload.topic, partition: String(payload.partition) };
      reported.set(`${labels.topic}/${labels.partition}`, labels);
      lag.set({ group, ...labels }, Number(payload.offsetLag));
      // A batch of transaction markers only carries no record: it moves the lag, not the batch figures.
      if (payload.batchSize === 0) return;
      batchRecords.observe({ group, topic: payload.topic }, payload.batchSize);
      batchSeconds.observe({ group, topic: payload.topic }, payload.duration / 1000);
    });
    consumer.on(CRASH, ({ payload }) => states.set(group, payload.restart ? `rejoining after: ${payload.error.message}` : `crashed: ${payload.error.message}`));
    consumer.on(STOP, () => states.set(group, 'stopped'));
  };

  const observed = Object.create(kafka, {
    consumer: {
      value: (config: ConsumerConfig): Consumer => {
        const consumer = kafka.consumer(config);
        observe(consumer, config.groupId);
        return consumer;
      },
    },
  }) as Kafka;

  return {
    kafka: observed,
    check: () => {
      if (states.size === 0) return 'no consumer started yet';
      const problems = [...states].filter(([, state]) => state !== 'joined').map(([group, state]) => `${group}: ${state}`);
      return problems.length > 0 ? problems.join('; ') : undefined;
    },
  };
}
