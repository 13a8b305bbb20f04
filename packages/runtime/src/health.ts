import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** /health and /metrics for the services that have no HTTP API of their own (projector, deleter). */
export async function startHealthServer(host: string, port: number, isReady: () => boolean, metrics: Registry): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/health', (_request, reply) => (isReady() ? reply.send({ status: 'ok' }) : reply.code(503).send({ status: 'starting' })));
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  await app.listen({ host, port });
  return app;
}
