import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Admin } from './kafka-admin.ts';
import { Gauge, type Registry } from 'prom-client';
import type { Pool } from './postgres.ts';
import { serviceMetrics } from './workers.ts';

// Liveness, readiness and /metrics, the same on every service. Live: the process answers HTTP.
// Ready: every readiness check of the service passes (Kafka or Postgres reachable, consumer in its
// group, DSN keys loaded…). `/health` answers as `/health/ready`: it came first, and the stack
// script, the tests and docker-compose's health checks wait on it.

/** One condition of readiness: undefined when it holds, otherwise what is wrong. */
export type ReadinessCheck = () => string | undefined | Promise<string | undefined>;
export type ReadinessChecks = Record<string, ReadinessCheck>;

export interface Readiness {
  ready: boolean;
  /** Each check's answer: `ok` or what is wrong. */
  checks: Record<string, string>;
}

/** A check that has not answered by then counts as failed: a probe must answer quickly. */
export const READINESS_TIMEOUT_MS = 2000;

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return (await Promise.race([Promise.resolve().then(check), timeout])) ?? 'ok';
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    clearTimeout(timer);
  }
}

export async function checkReadiness(checks: ReadinessChecks, timeoutMs = READINESS_TIMEOUT_MS): Promise<Readiness> {
  const answers = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const));
  return { ready: answers.every(([, answer]) => answer === 'ok'), checks: Object.fromEntries(answers) };
}

/** Postgres answers a query. */
export function postgresCheck(pool: Pool): ReadinessCheck {
  return async () => {
    await pool.query('SELECT 1');
    return undefined;
  };
}

/** A Kafka broker answers a metadata request; probes share one request while it is pending. */
export function kafkaCheck(admin: Admin): ReadinessCheck {
  let pending: Promise<unknown> | undefined;
  return async () => {
    pending ??= admin.describeCluster().finally(() => {
      pending = undefined;
    });
    await pending;
    return undefined;
  };
}

// Any instance, whatever its type provider.
type AnyFastify = FastifyInstance<any, any, any, any, any>;

/** `/health/live`, `/health/ready`, `/health` and `/metrics` on a service's HTTP server, and `trapline_ready` among its metrics. */
export function operationalRoutes(app: AnyFastify, metrics: Registry, checks: ReadinessChecks): void {
  if (!metrics.getSingleMetric('trapline_ready')) {
    new Gauge({
      name: 'trapline_ready',
      help: 'Whether every readiness check passes (1) or not (0), checked at scrape time',
      registers: [metrics],
      // A service of several workers (workers.ts) is ready when each of them is.
      aggregator: 'min',
      async collect() {
        this.set((await checkReadiness(checks)).ready ? 1 : 0);
      },
    });
  }
  const hidden = { schema: { hide: true } };
  const ready = async (_request: unknown, reply: FastifyReply) => {
    const readiness = await checkReadiness(checks);
    return reply.code(readiness.ready ? 200 : 503).send({ status: readiness.ready ? 'ok' : 'unavailable', checks: readiness.checks });
  };
  app.get('/health/live', hidden, async () => ({ status: 'ok' }));
  app.get('/health/ready', hidden, ready);
  app.get('/health', hidden, ready);
  const text = serviceMetrics(metrics);
  app.get('/metrics', hidden, async (_request, reply) => reply.type(metrics.contentType).send(await text()));
}

/** The HTTP server of the services that have no API of their own (projector, deleter): health and metrics only. */
export async function startHealthServer(host: string, port: number, metrics: Registry, checks: ReadinessChecks): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  operationalRoutes(app, metrics, checks);
  await app.listen({ host, port });
  return app;
}
