import { randomUUID } from 'node:crypto';
import { serializeEvent, serializeSimpleEvent } from '../domain/serialize.ts';
import { ApiError, type ApiContext, type ZodApp } from './context.ts';
import { EVENT_KEY } from '../domain/keyset.ts';
import { keysetPaging } from './paging.ts';
import { eventParams, keysetPageQuery, normalizeEventId, projectParams } from './schemas.ts';

// A project's events: list, detail, and single-event deletion (202, or 404 Event not found).

const tags = ['events'];

export function eventRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, eventsTopic, publicUrl } = context;

  app.get('/api/0/projects/:org/:project/events/', { schema: { tags, summary: "List a project's events", params: projectParams, querystring: keysetPageQuery } }, async (request, reply) => {
    const token = await context.authenticate(request, 'event:read');
    const project = await context.project(token, request.params.org, request.params.project);
    const paging = keysetPaging(request, request.query, EVENT_KEY);
    const rows = paging.finish(reply, publicUrl, await readModel.events({ projectId: project.id }, paging), (row) => row.event_id);
    return rows.map((row) => (request.query.full === 'true' ? serializeEvent(row, project) : serializeSimpleEvent(row, project)));
  });

  app.get('/api/0/projects/:org/:project/events/:eventId/', { schema: { tags, summary: 'Retrieve an event', params: eventParams } }, async (request) => {
    const token = await context.authenticate(request, 'event:read');
    const project = await context.project(token, request.params.org, request.params.project);
    const row = await readModel.event(project.id, normalizeEventId(request.params.eventId));
    if (!row) throw new ApiError(404, 'Event not found');
    return serializeEvent(row, project);
  });

  app.delete('/api/0/projects/:org/:project/events/:eventId/', { schema: { tags, summary: 'Delete an event: 202, hidden at once', params: eventParams } }, async (request, reply) => {
    const token = await context.authenticate(request, 'event:admin');
    const project = await context.project(token, request.params.org, request.params.project);
    const row = await readModel.event(project.id, normalizeEventId(request.params.eventId));
    if (!row) throw new ApiError(404, 'Event not found');
    const transactionId = randomUUID().replaceAll('-', '');
    await context.appendAndAwait(reply, eventsTopic, [
      { key: `${project.id}/deletion/${transactionId}`, name: 'EventDeletionRequested', value: { projectId: project.id, eventId: row.event_id, transactionId, actor: context.actor(token), requestedAt: context.now() } },
    ]);
    return reply.code(202).send({ transactionId });
  });
}
