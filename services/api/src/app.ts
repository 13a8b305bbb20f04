import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Appender, Logger } from '@trapline/runtime';
import type { Registry } from 'prom-client';
import type { ReadModel } from './adapters/read-model.ts';
import { ApiError, apiContext, NOT_FOUND } from './routes/context.ts';
import { eventRoutes } from './routes/events.ts';
import { issueRoutes } from './routes/issues.ts';
import { organizationRoutes } from './routes/organizations.ts';

export { ApiError } from './routes/context.ts';

export interface ApiDeps {
  readModel: ReadModel;
  appender: Appender;
  eventsTopic: string;
  publicUrl: string;
  logger: Logger;
  metrics: Registry;
  now?: () => number;
}

export function buildApiApp(deps: ApiDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    if (error instanceof ApiError) return reply.code(error.status).send({ detail: error.message });
    if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send({ detail: error.message });
    deps.logger.error({ err: error }, 'request failed');
    return reply.code(500).send({ detail: 'Internal Error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: NOT_FOUND }));

  const context = apiContext({ readModel: deps.readModel, appender: deps.appender, eventsTopic: deps.eventsTopic, publicUrl: deps.publicUrl, now: deps.now ?? Date.now });
  organizationRoutes(app, context);
  issueRoutes(app, context);
  eventRoutes(app, context);

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  return app;
}
