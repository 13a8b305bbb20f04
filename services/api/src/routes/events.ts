import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { serializeEvent, serializeSimpleEvent } from '../domain/serialize.ts';
import { ApiError, eventId, parsePath, type ApiContext } from './context.ts';
import { page } from './paging.ts';

// A project's events: list, detail, and single-event deletion (202, or 404 Event not found).

type EventParams = { org: string; project: string; eventId: string };

export function eventRoutes(app: FastifyInstance, context: ApiContext): void {
  const { readModel, appender, eventsTopic, publicUrl } = context;

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/events/', async (request, reply) => {
    const token = await context.authenticate(request, 'event:read');
    const project = await context.project(token, request.params.org, request.params.project);
    const paging = page(request, 100);
    const { rows, hasNext } = await readModel.events({ projectId: project.id }, paging);
    paging.link(reply, publicUrl, hasNext);
    const full = (request.query as Record<string, unknown>).full === 'true';
    return rows.map((row) => (full ? serializeEvent(row, project) : serializeSimpleEvent(row, project)));
  });

  app.get<{ Params: EventParams }>('/api/0/projects/:org/:project/events/:eventId/', async (request) => {
    const token = await context.authenticate(request, 'event:read');
    const project = await context.project(token, request.params.org, request.params.project);
    const row = await readModel.event(project.id, parsePath(eventId, request.params.eventId, 'Event not found'));
    if (!row) throw new ApiError(404, 'Event not found');
    return serializeEvent(row, project);
  });

  app.delete<{ Params: EventParams }>('/api/0/projects/:org/:project/events/:eventId/', async (request, reply) => {
    const token = await context.authenticate(request, 'event:admin');
    const project = await context.project(token, request.params.org, request.params.project);
    const row = await readModel.event(project.id, parsePath(eventId, request.params.eventId, 'Event not found'));
    if (!row) throw new ApiError(404, 'Event not found');
    const transactionId = randomUUID().replaceAll('-', '');
    await appender.append(eventsTopic, [
      { key: `${project.id}/deletion/${transactionId}`, name: 'EventDeletionRequested', value: { projectId: project.id, eventId: row.event_id, transactionId, actor: context.actor(token), requestedAt: context.now() } },
    ]);
    return reply.code(202).send({ transactionId });
  });
}
