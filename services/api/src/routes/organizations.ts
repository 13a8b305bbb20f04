import { createKey, updateKey, updateProject } from '../domain/commands.ts';
import { keyRecord, keyRow, projectRecord } from '../domain/rows.ts';
import { serializeKey, serializeOrganization, serializeProject, serializeProjectDetail } from '../domain/serialize.ts';
import { ApiError, NOT_FOUND, type ApiContext, type ZodApp } from './context.ts';
import { principalUser } from './users.ts';
import { keyCreateBody, keyParams, keyUpdateBody, orgParams, projectParams, projectUpdateBody } from './schemas.ts';
import { z } from 'zod';
import { empty, keyAnswer, organizationAnswer, projectAnswer, projectDetailAnswer, refusals, rootAnswer } from '../domain/answers.ts';

// The API root (what `sentry-cli info` reads), organizations, projects and their DSN keys.

const tags = ['organizations'];

export function organizationRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, publicUrl } = context;

  app.get('/api/0/', { schema: { tags, summary: 'The API root: who the token is', response: { 200: rootAnswer } } }, async (request) => {
    const token = request.headers.authorization || request.headers.cookie ? await context.authenticate(request, 'org:read').catch(() => undefined) : undefined;
    return { version: '0', auth: token ? { scopes: [...token.scopes] } : null, user: token ? principalUser(token) : null };
  });

  app.get('/api/0/organizations/', { schema: { tags, summary: "The token's organizations", response: { 200: z.array(organizationAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'org:read');
    const orgs = await Promise.all(context.organizations(token).map((slug) => readModel.organization(slug)));
    return orgs.flatMap((org) => (org ? [serializeOrganization(org, publicUrl)] : []));
  });

  app.get('/api/0/organizations/:org/', { schema: { tags, summary: 'Retrieve an organization', params: orgParams, response: { 200: organizationAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'org:read');
    const org = await readModel.organization(context.organization(token, request.params.org));
    if (!org) throw new ApiError(404, NOT_FOUND);
    return serializeOrganization(org, publicUrl);
  });

  app.get('/api/0/organizations/:org/projects/', { schema: { tags, summary: "List an organization's projects", params: orgParams, response: { 200: z.array(projectAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return (await readModel.projects(context.organization(token, request.params.org))).map(serializeProject);
  });

  app.get('/api/0/projects/', { schema: { tags, summary: "The token's projects", response: { 200: z.array(projectAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return (await Promise.all(context.organizations(token).map((slug) => readModel.projects(slug)))).flat().map(serializeProject);
  });

  app.get('/api/0/projects/:org/:project/', { schema: { tags, summary: 'Retrieve a project', params: projectParams, response: { 200: projectDetailAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return serializeProjectDetail(await context.project(token, request.params.org, request.params.project), publicUrl);
  });

  app.put('/api/0/projects/:org/:project/', { schema: { tags, summary: "Update a project's name, platform, allowed domains or retention in days", params: projectParams, body: projectUpdateBody, response: { 200: projectDetailAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const { name, platform, retentionDays, allowedDomains } = request.body;
    const { project: updated, ...settings } = await context.decide(reply, updateProject(projectRecord(project), { name, platform, retentionDays, allowedDomains }, context.actor(token), context.now()));
    return serializeProjectDetail(
      {
        ...project,
        name: updated.name,
        platform: updated.platform,
        ...(settings.retentionDays === undefined ? {} : { retention_days: settings.retentionDays }),
        ...(settings.allowedOrigins === undefined ? {} : { allowed_origins: settings.allowedOrigins }),
      },
      publicUrl,
    );
  });

  app.get('/api/0/projects/:org/:project/keys/', { schema: { tags, summary: "List a project's DSN keys", params: projectParams, response: { 200: z.array(keyAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return (await readModel.keys(project.id)).map((key) => serializeKey(key, publicUrl));
  });

  app.post('/api/0/projects/:org/:project/keys/', { schema: { tags, summary: 'Create a DSN key', params: projectParams, body: keyCreateBody, response: { 201: keyAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const key = await context.decide(reply, createKey({ projectId: project.id, label: request.body?.name, rateLimit: request.body?.rateLimit }, { projectExists: true }, context.now()));
    return reply.code(201).send(serializeKey(keyRow(key), publicUrl));
  });

  const existingKey = async (projectId: number, keyId: string) => {
    const key = (await readModel.keys(projectId)).find((candidate) => candidate.public_key === keyId);
    if (!key) throw new ApiError(404, NOT_FOUND);
    return keyRecord(key);
  };

  app.get('/api/0/projects/:org/:project/keys/:keyId/', { schema: { tags, summary: 'Retrieve a DSN key', params: keyParams, response: { 200: keyAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return serializeKey(keyRow(await existingKey(project.id, request.params.keyId)), publicUrl);
  });

  app.put('/api/0/projects/:org/:project/keys/:keyId/', { schema: { tags, summary: "Rename, enable or disable a DSN key, set or clear its rate limit", params: keyParams, body: keyUpdateBody, response: { 200: keyAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const key = await existingKey(project.id, request.params.keyId);
    const { name, isActive, rateLimit } = request.body;
    return serializeKey(keyRow(await context.decide(reply, updateKey(key, { label: name, active: isActive, rateLimit }))), publicUrl);
  });

  // Revoking keeps the key's record (inactive), so ingest refuses it and a rebuild knows it.
  app.delete('/api/0/projects/:org/:project/keys/:keyId/', { schema: { tags, summary: 'Revoke a DSN key', params: keyParams, response: { 204: empty, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:admin');
    const project = await context.project(token, request.params.org, request.params.project);
    await context.decide(reply, updateKey(await existingKey(project.id, request.params.keyId), { active: false }));
    return reply.code(204).send(null);
  });
}
