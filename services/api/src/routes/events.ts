import { randomUUID } from 'node:crypto';
import { serializeEvent, serializeSimpleEvent } from '../domain/serialize.ts';
import { ApiError, type ApiContext, type ZodApp } from './context.ts';
import { EVENT_KEY } from '../domain/keyset.ts';
import { keysetPaging } from './paging.ts';
import { eventParams, keysetPageQuery, normalizeEventId, projectParams } from './schemas.ts';
import { eventAnswer, eventListAnswer, refusals, transactionAnswer } from '../domain/answers.ts';
import { listedSymbolicatedEvent, symbolicated } from './symbolicated.ts';
import { eventKeys } from '@trapline/schemas';

// A project's events: list, detail, and single-event deletion (202, or 404 Event not found).

const tags = ['events'];

export function eventRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, eventsTopic, publicUrl } = context;

  app.get('/api/0/projects/:org/:project/events/', { schema: { tags, summary: "List a project's events", params: projectParams, querystring: keysetPageQuery, response: { 200: eventListAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'event:read');
    const project = await context.project(token, request.params.org, request.params.project);
    const paging = keysetPaging(request, request.query, EVENT_KEY);
    const rows = paging.finish(reply, publicUrl, await readModel.events({ projectId: project.id }, paging), (row) => row.event_id);
    return Promise.all(rows.map(async (row) => (request.query.full === 'true' ? listedSymbolicatedEvent(readModel.pool, row, project) : serializeSimpleEvent(row, project))));
  });

  app.get('/api/0/projects/:org/:project/events/:eventId/', { schema: { tags, summary: 'Retrieve an event', params: eventParams, response: { 200: eventAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'event:read');
    const project = await context.project(token, request.params.org, request.params.project);
    const row = await readModel.event(project.id, normalizeEventId(request.params.eventId));
    if (!row) throw new ApiError(404, 'Event not found');
    const shown = await symbolicated(readModel.pool, row);
    return { ...serializeEvent(shown.row, project, await readModel.adjacentEvents(row)), errors: shown.errors };
  });

  app.delete('/api/0/projects/:org/:project/events/:eventId/', { schema: { tags, summary: 'Delete an event: 202, hidden at once', params: eventParams, response: { 202: transactionAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'event:admin');
    const project = await context.project(token, request.params.org, request.params.project);
    const row = await readModel.event(project.id, normalizeEventId(request.params.eventId));
    if (!row) throw new ApiError(404, 'Event not found');
    const transactionId = randomUUID().replaceAll('-', '');
    await context.appendAndAwait(reply, eventsTopic, [
      { key: eventKeys.deletion(project.id, transactionId), name: 'EventDeletionRequested', value: { projectId: project.id, eventId: row.event_id, transactionId, actor: context.actor(token), requestedAt: context.now() } },
    ]);
    return reply.code(202).send({ transactionId });
  });
}
