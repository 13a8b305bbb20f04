import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { observeRequests, operationalRoutes, type Appender, type Logger, type ReadinessChecks } from '@trapline/runtime';
import { Counter, type Registry } from 'prom-client';
import type { ReadModel } from './adapters/read-model.ts';
import type { WebAsset } from './adapters/web-assets.ts';
import type { ProjectionState } from './domain/projection-health.ts';
import multipart from '@fastify/multipart';
import { artifactRoutes } from './routes/artifacts.ts';
import { alertRoutes } from './routes/alerts.ts';
import { auditRoutes } from './routes/audit.ts';
import { ApiError, apiContext, NOT_FOUND, type WriteVisibility } from './routes/context.ts';
import { deletionRoutes } from './routes/deletions.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { issueRoutes } from './routes/issues.ts';
import { memberRoutes } from './routes/members.ts';
import { organizationRoutes } from './routes/organizations.ts';
import { teamRoutes } from './routes/teams.ts';
import { teamMemberRoutes } from './routes/team-members.ts';
import { releaseFileRoutes } from './routes/release-files.ts';
import { releaseRoutes } from './routes/releases.ts';
import { CHUNK_SIZE, CHUNKS_PER_REQUEST } from './domain/artifact-bundle.ts';
import { userRoutes } from './routes/users.ts';
import type { SessionStore, SignInThrottle } from './adapters/sessions.ts';
import { webRoutes } from './routes/web.ts';

export { ApiError, VISIBILITY_HEADER } from './routes/context.ts';

export interface ApiDeps {
  readModel: ReadModel;
  appender: Appender;
  eventsTopic: string;
  adminTopic: string;
  /** Where member changes are audited; default: the admin topic's sibling `<prefix>.audit`. */
  auditTopic?: string;
  /** Sign-in sessions and throttling (Redis); without them only tokens authenticate. */
  sessions?: SessionStore;
  throttle?: SignInThrottle;
  publicUrl: string;
  logger: Logger;
  metrics: Registry;
  /** The web UI's built files (loadWebAssets); without them only the API is served. */
  webAssets?: ReadonlyMap<string, WebAsset> | undefined;
  /** The projector's group and lag, for /api/0/internal/health/; without it the projection counts as healthy. */
  projection?: () => Promise<ProjectionState>;
  /** What /health/ready checks (Postgres, Kafka); none by default. */
  readiness?: ReadinessChecks;
  now?: () => number;
  /** Writes answer once projected (read your own writes); without it, once Kafka acknowledged them. */
  visibility?: WriteVisibility;
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
}

/** Sentry answers a malformed path with 404 (it names nothing) and bad query or body with 400. */
function validationAnswer(error: { validationContext?: string; validation?: ValidationIssue[] }): { status: number; detail: string } {
  if (error.validationContext === 'params') return { status: 404, detail: NOT_FOUND };
  const first = error.validation?.[0];
  const where = `${error.validationContext ?? 'request'}${first?.instancePath ? first.instancePath.replaceAll('/', '.') : ''}`;
  return { status: 400, detail: `Invalid ${where}: ${first?.message ?? 'invalid value'}` };
}

export async function buildApiApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // The router's own refusals (a path that is not valid percent-encoding or UTF-8, a segment
    // over maxParamLength) come before any route: such a path names nothing, so 404 in Sentry's shape.
    frameworkErrors: (_error, _request, reply: FastifyReply) => void reply.code(404).send({ detail: NOT_FOUND }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  observeRequests(app, deps.metrics);

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    if (error instanceof ApiError) return reply.code(error.status).send({ detail: error.message });
    if (hasZodFastifySchemaValidationErrors(error)) {
      const { status, detail } = validationAnswer(error as never);
      return reply.code(status).send({ detail });
    }
    if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send({ detail: error.message });
    deps.logger.error({ err: error }, 'request failed');
    return reply.code(500).send({ detail: 'Internal Error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: NOT_FOUND }));

  await app.register(swagger, {
    openapi: {
      info: { title: 'Trapline Web API', description: "Sentry's /api/0/ as Trapline serves it", version: '0' },
      servers: [{ url: deps.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const writes = new Counter({ name: 'trapline_api_writes_total', help: 'API writes by whether the projector applied them before the answer', labelNames: ['visibility'], registers: [deps.metrics] });
  const visibility = deps.visibility && { ...deps.visibility, observe: (result: 'visible' | 'pending') => writes.inc({ visibility: result }) };
  const context = apiContext({
    readModel: deps.readModel, appender: deps.appender, eventsTopic: deps.eventsTopic, adminTopic: deps.adminTopic, publicUrl: deps.publicUrl, now: deps.now ?? Date.now, visibility,
    auditTopic: deps.auditTopic ?? deps.adminTopic.replace(/admin$/, 'audit'), sessions: deps.sessions, throttle: deps.throttle,
  });
  organizationRoutes(app, context);
  teamRoutes(app, context);
  issueRoutes(app, context);
  eventRoutes(app, context);
  deletionRoutes(app, context);
  auditRoutes(app, context);
  userRoutes(app, context);
  memberRoutes(app, context);
  teamMemberRoutes(app, context);
  healthRoutes(app, context, deps.projection);
  releaseRoutes(app, context);
  // Uploads (chunks of source map bundles) are multipart: parsed only in this scope.
  await app.register(async (uploads) => {
    await uploads.register(multipart, { limits: { fileSize: CHUNK_SIZE + 64 * 1024, files: CHUNKS_PER_REQUEST, fields: 16, parts: CHUNKS_PER_REQUEST + 16 } });
    artifactRoutes(uploads.withTypeProvider<ZodTypeProvider>(), context);
    releaseFileRoutes(uploads.withTypeProvider<ZodTypeProvider>(), context);
  });
  alertRoutes(app, context);

  app.get('/api/0/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  operationalRoutes(app, deps.metrics, deps.readiness ?? {});
  if (deps.webAssets) webRoutes(app, deps.webAssets);
  await app.ready();
  return app;
}
