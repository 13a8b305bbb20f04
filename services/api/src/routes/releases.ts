import { randomUUID } from 'node:crypto';
import type { ProjectRow, ReleaseRow } from '@trapline/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { DeployCreated, ReleaseUpserted, RepositoryUpserted } from '@trapline/schemas';
import type { Principal } from './context.ts';
import { ReleaseReadModel } from '../adapters/releases-read-model.ts';
import { commitsOfRefs, nextRelease, serializeCommits, serializeDeploy, serializeRelease, serializeRepository, versionProblem, type ReleaseChange } from '../domain/releases.ts';
import { commitAnswer, deployAnswer, empty, refusals, releaseAnswer, repositoryAnswer } from '../domain/answers.ts';
import { ApiError, NOT_FOUND, type ApiContext, type ZodApp } from './context.ts';
import { page } from './paging.ts';
import { deployBody, projectReleaseParams, releaseCreateBody, releaseListQuery, releaseParams, releaseUpdateBody, repositoryBody, toTime } from './release-schemas.ts';
import { asList, orgParams, projectParams } from './schemas.ts';
import { adminKeys } from '@trapline/schemas';

// Sentry's release API as sentry-cli calls it: releases (organization- and project-scoped),
// deploys, commits set explicitly, and repositories known without an integration. Every write is
// a record on the admin topic (ReleaseUpserted carries the release's whole state); the projector
// builds what these routes read.

const tags = ['releases'];
type UpdateBody = z.infer<typeof releaseUpdateBody>;

export function releaseRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, adminTopic, publicUrl } = context;
  const releases = new ReleaseReadModel(readModel.pool);

  // Answered once the projector applied it, as every projected write: a create read back at once (sentry-cli's
  // `releases new` then `set-commits`) finds the release and keeps what it was created with.
  const upsert = (reply: FastifyReply, record: ReleaseUpserted) => context.appendAndAwait(reply, adminTopic, [{ key: adminKeys.release(record.organizationSlug, record.version), name: 'ReleaseUpserted', value: record }]);

  const projectIds = async (org: string, slugs: string[] | null | undefined) => {
    if (!slugs) return undefined;
    const projects = await readModel.projects(org);
    const unknown = slugs.filter((slug) => !projects.some((project) => project.slug === slug));
    if (unknown.length > 0) throw new ApiError(400, `Invalid project slugs: ${unknown.join(', ')}`);
    return slugs.map((slug) => projects.find((project) => project.slug === slug)!.id);
  };

  /** What a body asks to change; refs must name repositories the organization knows (no integration lists commits here). */
  const changeOf = async (org: string, body: UpdateBody): Promise<ReleaseChange> => {
    const now = context.now();
    if (body.status !== undefined && body.status !== 'open' && body.status !== 'archived') throw new ApiError(400, 'Invalid body.status: open or archived');
    if (body.refs && body.refs.length > 0) {
      const known = new Set((await releases.repositories(org)).map((repository) => repository.name.toLowerCase()));
      const unknown = body.refs.filter((ref) => !known.has(ref.repository.toLowerCase())).map((ref) => ref.repository);
      if (unknown.length > 0) {
        throw new ApiError(400, `Invalid repository names: ${unknown.join(', ')}. Trapline has no repository integrations: add the repository with POST /api/0/organizations/${org}/repos/ {"name": …} and name its commits explicitly`);
      }
    }
    const commits = body.commits?.map((commit) => ({
      id: commit.id, repository: commit.repository ?? null, message: commit.message ?? null, authorName: commit.author_name ?? null, authorEmail: commit.author_email ?? null,
      timestamp: toTime(commit.timestamp) ?? now,
    }));
    return {
      projectIds: await projectIds(org, body.projects),
      ref: body.ref,
      url: body.url,
      dateStarted: toTime(body.dateStarted),
      dateReleased: toTime(body.dateReleased),
      commits: body.refs && body.refs.length > 0 ? [...commitsOfRefs(body.refs, now), ...(commits ?? [])] : commits,
    };
  };

  const existing = async (org: string, version: string, project?: ProjectRow) => {
    const release = await releases.release(org, version);
    if (!release || (project && !release.declared_project_ids.includes(project.id) && !release.seen_project_ids.includes(project.id))) throw new ApiError(404, NOT_FOUND);
    return release;
  };

  const serialize = async (org: string, release: ReleaseRow) => {
    const [projects, deploys, repositories] = await Promise.all([readModel.projects(org), releases.deploys(org, release.version), releases.repositories(org)]);
    return serializeRelease(org, release, projects, deploys[0], repositories);
  };

  /** The answer once the record is on the log: the release as the projector will have it. */
  const projected = (record: ReleaseUpserted, before: ReleaseRow | undefined): ReleaseRow => ({
    version: record.version, declared_project_ids: record.projectIds, seen_project_ids: before?.seen_project_ids ?? [], ref: record.ref, url: record.url,
    date_created: new Date(record.dateCreated), date_started: record.dateStarted === null ? null : new Date(record.dateStarted),
    date_released: record.dateReleased === null ? null : new Date(record.dateReleased), commits: record.commits, declared: true,
    first_event: before?.first_event ?? null, last_event: before?.last_event ?? null, new_groups: before?.new_groups ?? 0, deploy_count: before?.deploy_count ?? 0,
  });

  const create = async (token: Principal, org: string, body: z.infer<typeof releaseCreateBody>, reply: FastifyReply, project?: ProjectRow) => {
    const problem = versionProblem(body.version);
    if (problem) throw new ApiError(400, problem);
    const change = await changeOf(org, project ? { ...body, projects: undefined } : body);
    if (project) change.projectIds = [project.id];
    if (!change.projectIds || change.projectIds.length === 0) throw new ApiError(400, 'Give the release at least one project in `projects`');
    const before = await releases.release(org, body.version);
    const record = nextRelease(org, body.version, before, change, context.actor(token), context.now());
    await upsert(reply, record);
    // Sentry answers 208 when the release existed already (its projects are added).
    return reply.code(before?.declared ? 208 : 201).send(await serialize(org, projected(record, before)));
  };

  const list = async (request: FastifyRequest, reply: FastifyReply, org: string, query: z.infer<typeof releaseListQuery>, projectId?: number) => {
    const paging = page(request, query, 100);
    const wanted = projectId ?? asList(query.project).map(Number)[0];
    const { rows, hasNext } = await releases.releases(org, { projectId: wanted, query: query.query }, paging);
    paging.link(reply, publicUrl, hasNext);
    const [projects, repositories] = await Promise.all([readModel.projects(org), releases.repositories(org)]);
    return rows.map((release) => serializeRelease(org, release, projects, undefined, repositories));
  };

  const update = async (token: Principal, org: string, version: string, body: UpdateBody, reply: FastifyReply, project?: ProjectRow) => {
    const before = await existing(org, version, project);
    const record = nextRelease(org, version, before, await changeOf(org, body), context.actor(token), context.now());
    await upsert(reply, record);
    return serialize(org, projected(record, before));
  };

  const remove = async (token: Principal, org: string, version: string, reply: FastifyReply, project?: ProjectRow) => {
    const release = await existing(org, version, project);
    // As Sentry: a release issues were seen in stays (it is what their first and last release name).
    if (release.seen_project_ids.length > 0) throw new ApiError(400, 'This release is referenced by active issues and cannot be removed.');
    await upsert(reply, { ...nextRelease(org, version, release, {}, context.actor(token), context.now()), deleted: true });
    return reply.code(204).send(null);
  };

  app.get('/api/0/organizations/:org/releases/', { schema: { tags, summary: "List an organization's releases", params: orgParams, querystring: releaseListQuery, response: { 200: z.array(releaseAnswer), ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:read');
    return list(request, reply, context.organization(token, request.params.org), request.query);
  });

  app.post('/api/0/organizations/:org/releases/', { schema: { tags, summary: 'Create a release (208 when it exists: its projects are added)', params: orgParams, body: releaseCreateBody, response: { 201: releaseAnswer, 208: releaseAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:releases');
    return create(token, context.organization(token, request.params.org), request.body, reply);
  });

  app.get('/api/0/projects/:org/:project/releases/', { schema: { tags, summary: "List a project's releases", params: projectParams, querystring: releaseListQuery, response: { 200: z.array(releaseAnswer), ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return list(request, reply, project.organization_slug, request.query, project.id);
  });

  app.post('/api/0/projects/:org/:project/releases/', { schema: { tags, summary: 'Create a release of a project', params: projectParams, body: releaseCreateBody, response: { 201: releaseAnswer, 208: releaseAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:releases');
    const project = await context.project(token, request.params.org, request.params.project);
    return create(token, project.organization_slug, request.body, reply, project);
  });

  for (const scope of ['organization', 'project'] as const) {
    const prefix = scope === 'organization' ? '/api/0/organizations/:org/releases/:version' : '/api/0/projects/:org/:project/releases/:version';
    const params = scope === 'organization' ? releaseParams : projectReleaseParams;
    const target = async (request: FastifyRequest, scopeName: 'project:read' | 'project:releases') => {
      const token = await context.authenticate(request, scopeName);
      const { org, project, version } = request.params as { org: string; project?: string; version: string };
      const found = project === undefined ? undefined : await context.project(token, org, project);
      return { token, org: context.organization(token, org), version, project: found };
    };

    app.get(`${prefix}/`, { schema: { tags, summary: 'Retrieve a release', params, response: { 200: releaseAnswer, ...refusals } } }, async (request) => {
      const { org, version, project } = await target(request, 'project:read');
      return serialize(org, await existing(org, version, project));
    });

    app.put(`${prefix}/`, { schema: { tags, summary: 'Update a release: finalize (dateReleased), url, ref, projects, commits or refs', params, body: releaseUpdateBody, response: { 200: releaseAnswer, ...refusals } } }, async (request, reply) => {
      const { token, org, version, project } = await target(request, 'project:releases');
      return update(token, org, version, request.body, reply, project);
    });

    app.delete(`${prefix}/`, { schema: { tags, summary: 'Delete a release no issue was seen in', params, response: { 204: empty, ...refusals } } }, async (request, reply) => {
      const { token, org, version, project } = await target(request, 'project:releases');
      return remove(token, org, version, reply, project);
    });

    app.get(`${prefix}/commits/`, { schema: { tags, summary: "A release's commits", params, response: { 200: z.array(commitAnswer), ...refusals } } }, async (request) => {
      const { org, version, project } = await target(request, 'project:read');
      return serializeCommits(org, await existing(org, version, project), await releases.repositories(org));
    });

    app.get(`${prefix}/deploys/`, { schema: { tags, summary: "A release's deploys, newest first", params, response: { 200: z.array(deployAnswer), ...refusals } } }, async (request) => {
      const { org, version, project } = await target(request, 'project:read');
      await existing(org, version, project);
      return (await releases.deploys(org, version)).map(serializeDeploy);
    });

    app.post(`${prefix}/deploys/`, { schema: { tags, summary: 'Record a deploy of a release to an environment', params, body: deployBody, response: { 201: deployAnswer, ...refusals } } }, async (request, reply) => {
      const { token, org, version, project } = await target(request, 'project:releases');
      const release = await existing(org, version, project);
      const body = request.body;
      const ids = (await projectIds(org, body.projects)) ?? [...new Set([...release.declared_project_ids, ...release.seen_project_ids])];
      const deploy: DeployCreated = {
        organizationSlug: org, version, deployId: randomUUID().replaceAll('-', ''), environment: body.environment, name: body.name ?? null, url: body.url ?? null,
        dateStarted: toTime(body.dateStarted) ?? null, dateFinished: toTime(body.dateFinished) ?? context.now(), projectIds: ids, actor: context.actor(token),
      };
      await context.appendAndAwait(reply, adminTopic, [{ key: adminKeys.deploy(org, version, deploy.deployId), name: 'DeployCreated', value: deploy }]);
      return reply.code(201).send(serializeDeploy({
        deploy_id: deploy.deployId, environment: deploy.environment, name: deploy.name, url: deploy.url, project_ids: ids,
        date_started: deploy.dateStarted === null ? null : new Date(deploy.dateStarted), date_finished: new Date(deploy.dateFinished),
      }));
    });
  }

  app.get('/api/0/organizations/:org/repos/', { schema: { tags, summary: "The organization's repositories", params: orgParams, response: { 200: z.array(repositoryAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'org:read');
    const org = context.organization(token, request.params.org);
    return (await releases.repositories(org)).map((repository) => serializeRepository(org, repository));
  });

  app.post('/api/0/organizations/:org/repos/', { schema: { tags, summary: 'Add a repository (no integration: its commits are named explicitly)', params: orgParams, body: repositoryBody, response: { 201: repositoryAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'org:write');
    const org = context.organization(token, request.params.org);
    const { name, url, provider } = request.body;
    if (provider && provider !== 'unknown') throw new ApiError(400, `Repository provider ${provider} needs an integration, which Trapline does not have: add the repository without a provider`);
    const record: RepositoryUpserted = { organizationSlug: org, name, url: url ?? null, createdAt: context.now() };
    await context.appendAndAwait(reply, adminTopic, [{ key: adminKeys.repository(org, name), name: 'RepositoryUpserted', value: record }]);
    return reply.code(201).send(serializeRepository(org, { name, url: record.url, created_at: new Date(record.createdAt) }));
  });
}
