import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';

// One service, several event loops: a stateless HTTP service (ingest) runs as a primary process
// that forks `count` workers sharing its port (node:cluster hands each new connection to the next
// worker). JavaScript runs on one thread, so one process uses at most about one core; a host
// with more cores than services uses them this way without a second instance, port or scrape
// target. The primary serves nothing itself: it starts the workers, replaces one that dies after
// it had started, stops them all on SIGTERM/SIGINT (each drains its requests as a single process
// does) and answers the workers' requests for the metrics of all of them, so any worker's
// /metrics is the service's. A worker whose primary dies exits at once (node:cluster's own rule:
// its IPC channel closes), so a killed service leaves nothing behind.

/** How long the primary waits for its workers after SIGTERM: past their own 15 s stop timer (lifecycle.ts). */
const STOP_GRACE_MS = 20000;
/** A worker that dies after it had started is replaced after this long. */
const REPLACE_DELAY_MS = 1000;
/** How long a worker waits for the primary's aggregate of every worker's metrics. */
const METRICS_TIMEOUT_MS = 5000;

const METRICS_REQUEST = 'trapline:metrics-request';
const METRICS_ANSWER = 'trapline:metrics-answer';

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsAnswer {
  type: typeof METRICS_ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/** True in the process that should run the service itself: a single process, or one of the workers. */
export function runsService(count: number): boolean {
  return count <= 1 || cluster.isWorker;
}

/**
 * The primary of a service with `count` workers: forks them and supervises them until a signal
 * stops them all, then exits (0 when every worker stopped cleanly). A worker that exits before it
 * ever listened means the service cannot start (a bad setting, a server it needs down): the
 * others are stopped and the primary exits 1, for the supervisor above it (npm start, systemd,
 * docker) to see and restart as it would a single process.
 */
export function superviseWorkers(logger: Logger, count: number): Promise<never> {
  const listened = new WeakSet<Worker>();
  const alive = new Set<Worker>();
  let stopping = false;
  let exitCode = 0;
  const aggregator = new AggregatorRegistry();

  const stopAll = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    logger.info({ reason }, 'stopping the workers');
    if (alive.size === 0) process.exit(exitCode);
    for (const worker of alive) worker.process.kill('SIGTERM');
    setTimeout(() => {
      logger.error('workers did not stop in time: killing them');
      for (const worker of alive) worker.process.kill('SIGKILL');
      process.exit(1);
    }, STOP_GRACE_MS).unref();
  };

  const fork = () => {
    const worker = cluster.fork();
    alive.add(worker);
    worker.once('listening', () => listened.add(worker));
    worker.on('message', (message: MetricsRequest) => {
      if (message?.type !== METRICS_REQUEST) return;
      const answer = (fields: Partial<MetricsAnswer>) => {
        if (worker.isConnected()) worker.send({ type: METRICS_ANSWER, id: message.id, ...fields } satisfies MetricsAnswer);
      };
      aggregator.clusterMetrics().then((text) => answer({ text }), (error: Error) => answer({ error: error.message }));
    });
    worker.once('exit', (code, signal) => {
      alive.delete(worker);
      if (stopping) {
        // A worker still starting has no handler for SIGTERM yet and ends by the signal: stopped as asked.
        if (code !== 0 && !(code === null && signal === 'SIGTERM')) exitCode = 1;
        if (alive.size === 0) {
          logger.info('stopped');
          process.exit(exitCode);
        }
        return;
      }
      if (!listened.has(worker)) {
        logger.fatal({ code, signal }, 'a worker exited before it started: stopping the service');
        stopAll('a worker failed to start', 1);
        return;
      }
      logger.error({ code, signal, replaceInMs: REPLACE_DELAY_MS }, 'a worker exited: starting another');
      setTimeout(() => {
        if (!stopping) fork();
      }, REPLACE_DELAY_MS);
    });
  };

  for (let i = 0; i < count; i += 1) fork();
  logger.info({ workers: count }, 'started the workers');
  process.on('SIGTERM', () => stopAll('SIGTERM', 0));
  process.on('SIGINT', () => stopAll('SIGINT', 0));
  return new Promise<never>(() => {});
}

/**
 * The text of `registry` for /metrics: in a worker, every worker's metrics aggregated by the
 * primary (counters and histograms summed, gauges by their own `aggregator`); in a single
 * process, the registry's own.
 */
export function serviceMetrics(registry: Registry): () => Promise<string> {
  if (!cluster.isWorker) return () => registry.metrics();
  // The primary asks each worker for its registry's JSON: this is where this worker answers.
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  let next = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (message: MetricsAnswer) => {
    if (message?.type !== METRICS_ANSWER) return;
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    clearTimeout(request.timer);
    if (message.text !== undefined) request.resolve(message.text);
    else request.reject(new Error(`metrics of the workers: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`metrics of the workers: no answer within ${METRICS_TIMEOUT_MS} ms`));
      }, METRICS_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      process.send!({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}
