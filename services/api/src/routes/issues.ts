import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { TokenRow } from '../adapters/read-model.ts';
import { parseIssueSearch, parseSort, parseStatsPeriod } from '../domain/search.ts';
import { serializeEvent, serializeIssue, serializeSimpleEvent, serializeTags, serializeTagValue, type GroupRow, type ProjectRow } from '../domain/serialize.ts';
import { ApiError, NOT_FOUND, parsePath, type ApiContext } from './context.ts';
import { page } from './paging.ts';

// Issues: lists with Sentry's search, sort and cursors; detail, status, deletion; an issue's
// events and tags. Served under both /api/0/issues/{id}/ and /api/0/organizations/{org}/issues/{id}/.

const statusBody = z.object({ status: z.enum(['resolved', 'unresolved', 'ignored', 'resolvedInNextRelease']) }).passthrough();

type IssueParams = { id: string; org?: string; key?: string };
type ListQuery = Record<string, string | string[] | undefined>;

const ISSUE_PREFIXES = ['/api/0/issues/:id', '/api/0/organizations/:org/issues/:id'];

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function ids(value: string | string[] | undefined): number[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((id) => parsePath(z.string().regex(/^\d{1,16}$/).transform(Number), id));
}

export function issueRoutes(app: FastifyInstance, context: ApiContext): void {
  const { readModel, appender, eventsTopic, publicUrl } = context;

  const listIssues = async (request: FastifyRequest, reply: FastifyReply, projects: ProjectRow[]) => {
    const query = request.query as ListQuery;
    const search = parseIssueSearch(single(query.query) ?? 'is:unresolved');
    if (!search.ok) throw new ApiError(400, search.detail);
    const sort = parseSort(single(query.sort));
    if (!sort) throw new ApiError(400, 'Invalid sort: use date, new, freq or user.');
    const periodMs = parseStatsPeriod(single(query.statsPeriod));
    if (periodMs === undefined) throw new ApiError(400, 'Invalid statsPeriod, e.g. 24h or 14d.');
    const paging = page(request, 100);
    const { rows, hasNext } = await readModel.issues({ projectIds: projects.map((project) => project.id), search: search.search, sort, periodMs, now: context.now(), offset: paging.offset, limit: paging.limit });
    paging.link(reply, publicUrl, hasNext);
    const byId = new Map(projects.map((project) => [project.id, project]));
    return rows.map((group) => serializeIssue(group, byId.get(group.project_id)!, publicUrl));
  };

  const appendStatus = async (token: TokenRow, targets: { group: GroupRow; project: ProjectRow }[], body: unknown) => {
    const parsed = statusBody.safeParse(body);
    if (!parsed.success) throw new ApiError(400, 'status must be one of resolved, unresolved, ignored');
    const status = parsed.data.status === 'resolvedInNextRelease' ? 'resolved' : parsed.data.status;
    await appender.append(
      eventsTopic,
      targets.map(({ group, project }) => ({
        key: `${project.id}/status/${group.id}`,
        name: 'GroupStatusChanged' as const,
        value: { projectId: project.id, groupId: group.id, status, actor: context.actor(token), changedAt: context.now() },
      })),
    );
    return { status, statusDetails: {} };
  };

  const appendDeletion = async (token: TokenRow, targets: { group: GroupRow; project: ProjectRow }[]) => {
    const records = await Promise.all(
      targets.map(async ({ group, project }) => {
        const transactionId = randomUUID().replaceAll('-', '');
        return {
          key: `${project.id}/deletion/${transactionId}`,
          name: 'GroupDeletionRequested' as const,
          value: { projectId: project.id, groupId: group.id, hashes: await readModel.groupHashes(group.id), transactionId, actor: context.actor(token), requestedAt: context.now() },
        };
      }),
    );
    await appender.append(eventsTopic, records);
    return records.map((record) => record.value.transactionId);
  };

  /** Bulk targets: `?id=…` (each must be visible), else the issues matching `query` (first 1000). */
  const bulkTargets = async (request: FastifyRequest, project: ProjectRow) => {
    const query = request.query as ListQuery;
    const requested = ids(query.id);
    if (requested.length > 0) {
      const found = await Promise.all(requested.map((id) => readModel.issue(id)));
      return found.filter((group): group is GroupRow => group !== undefined && group.project_id === project.id).map((group) => ({ group, project }));
    }
    const search = parseIssueSearch(single(query.query) ?? 'is:unresolved');
    if (!search.ok) throw new ApiError(400, search.detail);
    const { rows } = await readModel.issues({ projectIds: [project.id], search: search.search, sort: 'date', periodMs: null, now: context.now(), offset: 0, limit: 1000 });
    return rows.map((group) => ({ group, project }));
  };

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/issues/', async (request, reply) => {
    const token = await context.authenticate(request, 'event:read');
    return listIssues(request, reply, [await context.project(token, request.params.org, request.params.project)]);
  });

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/issues/', async (request, reply) => {
    const token = await context.authenticate(request, 'event:read');
    const org = context.organization(token, request.params.org);
    const wanted = ids((request.query as ListQuery).project);
    const projects = (await readModel.projects(org)).filter((project) => wanted.length === 0 || wanted.includes(project.id));
    return listIssues(request, reply, projects);
  });

  app.put<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/issues/', async (request, reply) => {
    const token = await context.authenticate(request, 'event:write');
    const targets = await bulkTargets(request, await context.project(token, request.params.org, request.params.project));
    if (targets.length === 0) return reply.code(204).send();
    return appendStatus(token, targets, request.body);
  });

  app.delete<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/issues/', async (request, reply) => {
    const token = await context.authenticate(request, 'event:admin');
    const project = await context.project(token, request.params.org, request.params.project);
    if (ids((request.query as ListQuery).id).length === 0) throw new ApiError(400, 'Select issues to delete with ?id=…');
    const targets = await bulkTargets(request, project);
    await appendDeletion(token, targets);
    return reply.code(204).send();
  });

  for (const prefix of ISSUE_PREFIXES) {
    const visible = async (request: FastifyRequest<{ Params: IssueParams }>, scope: Parameters<ApiContext['authenticate']>[1]) => {
      const token = await context.authenticate(request, scope);
      if (request.params.org !== undefined) context.organization(token, request.params.org);
      return { token, ...(await context.issue(token, request.params.id)) };
    };

    app.get<{ Params: IssueParams }>(`${prefix}/`, async (request) => {
      const { group, project } = await visible(request, 'event:read');
      return serializeIssue(group, project, publicUrl);
    });

    app.put<{ Params: IssueParams }>(`${prefix}/`, async (request) => {
      const { token, group, project } = await visible(request, 'event:write');
      return appendStatus(token, [{ group, project }], request.body);
    });

    app.delete<{ Params: IssueParams }>(`${prefix}/`, async (request, reply) => {
      const { token, group, project } = await visible(request, 'event:admin');
      const [transactionId] = await appendDeletion(token, [{ group, project }]);
      return reply.code(202).send({ transactionId });
    });

    app.get<{ Params: IssueParams }>(`${prefix}/events/`, async (request, reply) => {
      const { group, project } = await visible(request, 'event:read');
      const paging = page(request, 100);
      const { rows, hasNext } = await readModel.events({ groupId: group.id }, paging);
      paging.link(reply, publicUrl, hasNext);
      const full = (request.query as Record<string, unknown>).full === 'true';
    return rows.map((row) => (full ? serializeEvent(row, project) : serializeSimpleEvent(row, project)));
    });

    for (const which of ['latest', 'oldest'] as const) {
      app.get<{ Params: IssueParams }>(`${prefix}/events/${which}/`, async (request) => {
        const { group, project } = await visible(request, 'event:read');
        const { rows } = await readModel.events({ groupId: group.id }, { offset: 0, limit: 1, oldestFirst: which === 'oldest' });
        if (!rows[0]) throw new ApiError(404, 'Event not found');
        return serializeEvent(rows[0], project);
      });
    }

    app.get<{ Params: IssueParams }>(`${prefix}/tags/`, async (request) => {
      const { group } = await visible(request, 'event:read');
      return serializeTags(await readModel.tagValues(group.id));
    });

    app.get<{ Params: IssueParams }>(`${prefix}/tags/:key/values/`, async (request) => {
      const { group } = await visible(request, 'event:read');
      const key = parsePath(z.string().min(1).max(200), request.params.key, NOT_FOUND);
      return (await readModel.tagValues(group.id, key)).map(serializeTagValue);
    });
  }
}
