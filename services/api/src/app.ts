import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { Appender, Logger } from '@trapline/runtime';
import type { Registry } from 'prom-client';
import { ReadModel, type TokenRow } from './adapters/read-model.ts';
import { serializeEvent, serializeIssue } from './domain/serialize.ts';
import { hashToken, hasScope, type Scope } from './domain/tokens.ts';

export interface ApiDeps {
  readModel: ReadModel;
  appender: Appender;
  eventsTopic: string;
  now?: () => number;
  publicUrl: string;
  logger: Logger;
  metrics: Registry;
}

declare module 'fastify' {
  interface FastifyRequest {
    token?: TokenRow;
  }
}

/** An expected refusal, answered as Sentry does: a status and `{"detail": …}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

const slug = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/);
const numericId = z.string().regex(/^\d{1,16}$/).transform(Number);
const eventId = z.string().regex(/^[0-9a-fA-F-]{32,36}$/).transform((id) => id.replaceAll('-', '').toLowerCase());

function parse<T>(schema: z.ZodType<T>, value: unknown, notFound = 'The requested resource does not exist'): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError(404, notFound);
  return parsed.data;
}

export function buildApiApp(deps: ApiDeps): FastifyInstance {
  const { readModel, publicUrl, appender, eventsTopic } = deps;
  const now = deps.now ?? Date.now;
  const actorOf = (token: TokenRow) => `token:${token.token_hash.slice(0, 12)}`;
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    if (error instanceof ApiError) return reply.code(error.status).send({ detail: error.message });
    if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send({ detail: error.message });
    deps.logger.error({ err: error }, 'request failed');
    return reply.code(500).send({ detail: 'Internal Error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'The requested resource does not exist' }));

  /** Bearer token with a scope; the token's organization must own what the path names (else 404). */
  const authenticate = async (request: FastifyRequest, scope: Scope): Promise<TokenRow> => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, 'Authentication credentials were not provided.');
    const token = await readModel.token(hashToken(match[1]!));
    if (!token || !token.active) throw new ApiError(401, 'Invalid token');
    if (!hasScope(token.scopes, scope)) throw new ApiError(403, 'You do not have permission to perform this action.');
    return token;
  };

  const projectFor = async (token: TokenRow, orgSlug: string, projectSlug: string) => {
    const org = parse(slug, orgSlug);
    if (org !== token.organization_slug) throw new ApiError(404, 'The requested resource does not exist');
    const project = await readModel.project(org, parse(slug, projectSlug));
    if (!project) throw new ApiError(404, 'The requested resource does not exist');
    return project;
  };

  app.get('/api/0/', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const token = header ? await authenticate(request, 'org:read').catch(() => undefined) : undefined;
    return reply.send({ version: '0', auth: token ? { scopes: token.scopes } : null, user: null });
  });

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/issues/', async (request) => {
    const token = await authenticate(request, 'event:read');
    const project = await projectFor(token, request.params.org, request.params.project);
    const groups = await readModel.issues(project.id, 100);
    return groups.map((group) => serializeIssue(group, project, publicUrl));
  });


  /** The issue the token's organization may see, with its project; 404 otherwise (nothing leaks). */
  const visibleIssue = async (token: TokenRow, id: string) => {
    const group = await readModel.issue(parse(numericId, id));
    const project = group && (await readModel.projectById(group.project_id));
    if (!group || !project || project.organization_slug !== token.organization_slug) throw new ApiError(404, 'The requested resource does not exist');
    return { group, project };
  };

  app.get<{ Params: { id: string } }>('/api/0/issues/:id/', async (request) => {
    const token = await authenticate(request, 'event:read');
    const { group, project } = await visibleIssue(token, request.params.id);
    return serializeIssue(group, project, publicUrl);
  });

  const statusBody = z.object({ status: z.enum(['resolved', 'unresolved', 'ignored', 'resolvedInNextRelease']) }).passthrough();

  app.put<{ Params: { id: string } }>('/api/0/issues/:id/', async (request) => {
    const token = await authenticate(request, 'event:write');
    const { group, project } = await visibleIssue(token, request.params.id);
    const body = statusBody.safeParse(request.body);
    if (!body.success) throw new ApiError(400, 'status must be one of resolved, unresolved, ignored');
    const status = body.data.status === 'resolvedInNextRelease' ? 'resolved' : body.data.status;
    await appender.append(eventsTopic, [
      { key: `${project.id}/status/${group.id}`, name: 'GroupStatusChanged', value: { projectId: project.id, groupId: group.id, status, actor: actorOf(token), changedAt: now() } },
    ]);
    return { status, statusDetails: {} };
  });

  app.delete<{ Params: { id: string } }>('/api/0/issues/:id/', async (request, reply) => {
    const token = await authenticate(request, 'event:admin');
    const { group, project } = await visibleIssue(token, request.params.id);
    const transactionId = randomUUID().replaceAll('-', '');
    await appender.append(eventsTopic, [
      {
        key: `${project.id}/deletion/${transactionId}`,
        name: 'GroupDeletionRequested',
        value: { projectId: project.id, groupId: group.id, hashes: await readModel.groupHashes(group.id), transactionId, actor: actorOf(token), requestedAt: now() },
      },
    ]);
    return reply.code(202).send({ transactionId });
  });

  app.delete<{ Params: { org: string; project: string; eventId: string } }>('/api/0/projects/:org/:project/events/:eventId/', async (request, reply) => {
    const token = await authenticate(request, 'event:admin');
    const project = await projectFor(token, request.params.org, request.params.project);
    const row = await readModel.event(project.id, parse(eventId, request.params.eventId, 'Event not found'));
    if (!row) throw new ApiError(404, 'Event not found');
    const transactionId = randomUUID().replaceAll('-', '');
    await appender.append(eventsTopic, [
      { key: `${project.id}/deletion/${transactionId}`, name: 'EventDeletionRequested', value: { projectId: project.id, eventId: row.event_id, transactionId, actor: actorOf(token), requestedAt: now() } },
    ]);
    return reply.code(202).send({ transactionId });
  });

  app.get<{ Params: { org: string; project: string; eventId: string } }>('/api/0/projects/:org/:project/events/:eventId/', async (request) => {
    const token = await authenticate(request, 'event:read');
    const project = await projectFor(token, request.params.org, request.params.project);
    const row = await readModel.event(project.id, parse(eventId, request.params.eventId, 'Event not found'));
    if (!row) throw new ApiError(404, 'Event not found');
    return serializeEvent(row, project);
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_request, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  return app;
}
