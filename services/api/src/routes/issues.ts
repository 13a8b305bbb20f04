import { randomUUID } from 'node:crypto';
import type { GroupRow, ProjectRow } from '@trapline/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseIssueSearch, parseSort, parseStatsPeriod } from '../domain/search.ts';
import { parseGroupStatsPeriod, statsSeries, statsWindow, type GroupStatsPeriod } from '../domain/stats.ts';
import { serializeEvent, serializeIssue, serializeIssueDetail, serializeSimpleEvent, serializeTags, serializeTagValue } from '../domain/serialize.ts';
import type { Scope } from '../domain/tokens.ts';
import { ReleaseReadModel } from '../adapters/releases-read-model.ts';
import { ApiError, type ApiContext, type Principal, type ZodApp } from './context.ts';
import { keysetPaging } from './paging.ts';
import { EVENT_KEY, ISSUE_KEY, TAG_VALUE_KEY, tagValueKey } from '../domain/keyset.ts';
import { asList, issueListQuery, issueParams, keysetPageQuery, orgParams, projectParams, statusBody, tagParams, tagValuesQuery } from './schemas.ts';
import { z } from 'zod';
import { empty, eventAnswer, eventListAnswer, issueAnswer, issueDetailAnswer, refusals, statusAnswer, tagAnswer, tagValueAnswer, transactionAnswer } from '../domain/answers.ts';
import { issueReleases } from './issue-releases.ts';
import { releaseResolution } from './resolution.ts';
import { listedSymbolicatedEvent, symbolicated } from './symbolicated.ts';
import { eventKeys } from '@trapline/schemas';

// Issues: lists with Sentry's search, sort and cursors; detail, status, deletion; an issue's
// events and tags. Served under both /api/0/issues/{id}/ and /api/0/organizations/{org}/issues/{id}/.

type ListQuery = z.infer<typeof issueListQuery>;
const tags = ['issues'];

export function issueRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, eventsTopic, publicUrl } = context;
  const releases = new ReleaseReadModel(readModel.pool);

  const search = (query: ListQuery) => {
    const parsed = parseIssueSearch(query.query ?? 'is:unresolved');
    if (!parsed.ok) throw new ApiError(400, parsed.detail);
    return parsed.search;
  };

  const listIssues = async (request: FastifyRequest, reply: FastifyReply, query: ListQuery, projects: ProjectRow[]) => {
    const paging = keysetPaging(request, query, ISSUE_KEY);
    const read = await readModel.issues({
      projectIds: projects.map((project) => project.id),
      search: search(query),
      sort: parseSort(query.sort)!,
      periodMs: parseStatsPeriod(query.statsPeriod) ?? null,
      now: context.now(),
      cursor: paging.cursor,
      limit: paging.limit,
    });
    const rows = paging.finish(reply, publicUrl, read, (group) => String(group.id));
    const byId = new Map(projects.map((project) => [project.id, project]));
    const stats = await issueStats(rows, parseGroupStatsPeriod(query.groupStatsPeriod));
    return rows.map((group) => serializeIssue(group, byId.get(group.project_id)!, publicUrl, stats(group.id)));
  };

  /** Each issue's `stats` for the period: one query for the whole page. */
  const issueStats = async (groups: GroupRow[], period: GroupStatsPeriod | undefined) => {
    if (!period || groups.length === 0) return () => ({});
    const now = context.now();
    const { since, rollupSeconds } = statsWindow(period, now);
    const counts = new Map<number, Map<number, number>>();
    for (const row of await readModel.issueStats(groups.map((group) => group.id), since, rollupSeconds)) {
      counts.set(row.group_id, (counts.get(row.group_id) ?? new Map()).set(row.bucket, row.count));
    }
    return (groupId: number) => ({ [period]: statsSeries(period, now, counts.get(groupId) ?? new Map()) });
  };

  const appendStatus = async (reply: FastifyReply, token: Principal, targets: { group: GroupRow; project: ProjectRow }[], body: z.infer<typeof statusBody>) => {
    const status = body.status === 'resolvedInNextRelease' ? 'resolved' : body.status === 'muted' ? 'ignored' : body.status;
    // Every target of one call is in one project (bulk updates are project-scoped).
    const resolution = status === 'resolved' && targets[0] ? await releaseResolution(releases, targets[0].project, body.status, body.statusDetails) : { inRelease: null, inNextRelease: null, statusDetails: {} };
    await context.appendAndAwait(
      reply,
      eventsTopic,
      targets.map(({ group, project }) => ({
        key: `${project.id}/status/${group.id}`,
        name: 'GroupStatusChanged' as const,
        value: { projectId: project.id, groupId: group.id, status, actor: context.actor(token), changedAt: context.now(), inRelease: resolution.inRelease, inNextRelease: resolution.inNextRelease },
      })),
    );
    return { isPublic: false, status, statusDetails: resolution.statusDetails };
  };

  const appendDeletion = async (reply: FastifyReply, token: Principal, targets: { group: GroupRow; project: ProjectRow }[]) => {
    const records = await Promise.all(
      targets.map(async ({ group, project }) => {
        const transactionId = randomUUID().replaceAll('-', '');
        return {
          key: eventKeys.deletion(project.id, transactionId),
          name: 'GroupDeletionRequested' as const,
          value: { projectId: project.id, groupId: group.id, hashes: await readModel.groupHashes(group.id), transactionId, actor: context.actor(token), requestedAt: context.now() },
        };
      }),
    );
    await context.appendAndAwait(reply, eventsTopic, records);
    return records.map((record) => record.value.transactionId);
  };

  /** Bulk targets: `?id=…` (only this project's), else the issues matching `query` (first 1000). */
  const bulkTargets = async (query: ListQuery, project: ProjectRow) => {
    const requested = asList(query.id).map(Number);
    if (requested.length > 0) {
      const found = await Promise.all(requested.map((id) => readModel.issue(id)));
      return found.filter((group): group is GroupRow => group !== undefined && group.project_id === project.id).map((group) => ({ group, project }));
    }
    const rows = await readModel.issues({ projectIds: [project.id], search: search(query), sort: 'date', periodMs: null, now: context.now(), cursor: undefined, limit: 1000 });
    return rows.slice(0, 1000).map((group) => ({ group, project }));
  };

  app.get('/api/0/projects/:org/:project/issues/', { schema: { tags, summary: "List a project's issues", params: projectParams, querystring: issueListQuery, response: { 200: z.array(issueAnswer), ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'event:read');
    return listIssues(request, reply, request.query, [await context.project(token, request.params.org, request.params.project)]);
  });

  app.get('/api/0/organizations/:org/issues/', { schema: { tags, summary: "List an organization's issues", params: orgParams, querystring: issueListQuery, response: { 200: z.array(issueAnswer), ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'event:read');
    const org = context.organization(token, request.params.org);
    const wanted = asList(request.query.project).map(Number);
    const projects = (await readModel.projects(org)).filter((project) => wanted.length === 0 || wanted.includes(project.id));
    return listIssues(request, reply, request.query, projects);
  });

  app.put('/api/0/projects/:org/:project/issues/', { schema: { tags, summary: 'Bulk-update issue status', params: projectParams, querystring: issueListQuery, body: statusBody, response: { 200: statusAnswer, 204: empty, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'event:write');
    const targets = await bulkTargets(request.query, await context.project(token, request.params.org, request.params.project));
    if (targets.length === 0) return reply.code(204).send(null);
    return appendStatus(reply, token, targets, request.body);
  });

  app.delete('/api/0/projects/:org/:project/issues/', { schema: { tags, summary: 'Bulk-delete issues (?id=…)', params: projectParams, querystring: issueListQuery, response: { 204: empty, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'event:admin');
    const project = await context.project(token, request.params.org, request.params.project);
    if (asList(request.query.id).length === 0) throw new ApiError(400, 'Select issues to delete with ?id=…');
    await appendDeletion(reply, token, await bulkTargets(request.query, project));
    return reply.code(204).send(null);
  });

  for (const prefix of ['/api/0/issues/:id', '/api/0/organizations/:org/issues/:id']) {
    const visible = async (request: FastifyRequest, params: { id: string; org?: string | undefined }, scope: Scope) => {
      const token = await context.authenticate(request, scope);
      if (params.org !== undefined) context.organization(token, params.org);
      return { token, ...(await context.issue(token, Number(params.id))) };
    };

    app.get(`${prefix}/`, { schema: { tags, summary: 'Retrieve an issue', params: issueParams, response: { 200: issueDetailAnswer, ...refusals } } }, async (request) => {
      const { group, project } = await visible(request, request.params, 'event:read');
      return { ...serializeIssueDetail(group, project, publicUrl), ...(await issueReleases(releases, group, project)) };
    });

    app.put(`${prefix}/`, { schema: { tags, summary: "Update an issue's status", params: issueParams, body: statusBody, response: { 200: issueAnswer, ...refusals } } }, async (request, reply) => {
      const { token, group, project } = await visible(request, request.params, 'event:write');
      const { status, statusDetails } = await appendStatus(reply, token, [{ group, project }], request.body);
      // The issue as the write left it (read again once the projector applied it), with the resolution asked for.
      const written = (await readModel.issue(group.id)) ?? { ...group, status };
      return { ...serializeIssue(written, project, publicUrl), status, statusDetails };
    });

    app.delete(`${prefix}/`, { schema: { tags, summary: 'Delete an issue: 202, hidden at once, removed after the deletion delay', params: issueParams, response: { 202: transactionAnswer, ...refusals } } }, async (request, reply) => {
      const { token, group, project } = await visible(request, request.params, 'event:admin');
      const [transactionId] = await appendDeletion(reply, token, [{ group, project }]);
      return reply.code(202).send({ transactionId: transactionId! });
    });

    app.get(`${prefix}/events/`, { schema: { tags, summary: "List an issue's events", params: issueParams, querystring: keysetPageQuery, response: { 200: eventListAnswer, ...refusals } } }, async (request, reply) => {
      const { group, project } = await visible(request, request.params, 'event:read');
      const paging = keysetPaging(request, request.query, EVENT_KEY);
      const rows = paging.finish(reply, publicUrl, await readModel.events({ groupId: group.id }, paging), (row) => row.event_id);
      return Promise.all(rows.map(async (row) => (request.query.full === 'true' ? listedSymbolicatedEvent(readModel.pool, row, project) : serializeSimpleEvent(row, project))));
    });

    for (const which of ['latest', 'oldest'] as const) {
      app.get(`${prefix}/events/${which}/`, { schema: { tags, summary: `The ${which} event of an issue`, params: issueParams, response: { 200: eventAnswer, ...refusals } } }, async (request) => {
        const { group, project } = await visible(request, request.params, 'event:read');
        const rows = await readModel.events({ groupId: group.id }, { limit: 1, oldestFirst: which === 'oldest' });
        if (!rows[0]) throw new ApiError(404, 'Event not found');
        const shown = await symbolicated(readModel.pool, rows[0]);
        return { ...serializeEvent(shown.row, project, await readModel.adjacentEvents(rows[0])), errors: shown.errors };
      });
    }

    app.get(`${prefix}/tags/`, { schema: { tags, summary: "An issue's tags with their top values", params: issueParams, response: { 200: z.array(tagAnswer), ...refusals } } }, async (request) => {
      const { group } = await visible(request, request.params, 'event:read');
      return serializeTags(await readModel.tagSummaries(group.id));
    });

    app.get(`${prefix}/tags/:key/values/`, { schema: { tags, summary: "Values of one of an issue's tags, most frequent first", params: tagParams, querystring: tagValuesQuery, response: { 200: z.array(tagValueAnswer), ...refusals } } }, async (request, reply) => {
      const { group } = await visible(request, request.params, 'event:read');
      const paging = keysetPaging(request, request.query, TAG_VALUE_KEY);
      const rows = paging.finish(reply, publicUrl, await readModel.tagValues(group.id, request.params.key, paging), (row) => tagValueKey(row.value));
      return rows.map(serializeTagValue);
    });
  }
}
