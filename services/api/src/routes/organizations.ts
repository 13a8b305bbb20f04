import type { FastifyReply } from 'fastify';
import type { OutgoingRecord } from '@trapline/runtime';
import { normalizeAllowedOrigins, type ProjectKeyUpserted } from '@trapline/schemas';
import { newProjectKey } from '../domain/keys.ts';
import { serializeKey, serializeOrganization, serializeProject } from '../domain/serialize.ts';
import { ApiError, NOT_FOUND, type ApiContext, type ZodApp } from './context.ts';
import { principalUser } from './users.ts';
import { keyCreateBody, keyParams, keyUpdateBody, orgParams, projectParams, projectUpdateBody } from './schemas.ts';

// The API root (what `sentry-cli info` reads), organizations, projects and their DSN keys.

const tags = ['organizations'];

const keyRow = (key: ProjectKeyUpserted) => ({ public_key: key.publicKey, secret_key: key.secretKey, project_id: key.projectId, label: key.label, active: key.active, created_at: new Date(key.createdAt) });

export function organizationRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, publicUrl, adminTopic } = context;

  app.get('/api/0/', { schema: { tags, summary: 'The API root: who the token is' } }, async (request) => {
    const token = request.headers.authorization || request.headers.cookie ? await context.authenticate(request, 'org:read').catch(() => undefined) : undefined;
    return { version: '0', auth: token ? { scopes: token.scopes } : null, user: token ? principalUser(token) : null };
  });

  app.get('/api/0/organizations/', { schema: { tags, summary: "The token's organizations" } }, async (request) => {
    const token = await context.authenticate(request, 'org:read');
    const orgs = await Promise.all(context.organizations(token).map((slug) => readModel.organization(slug)));
    return orgs.flatMap((org) => (org ? [serializeOrganization(org)] : []));
  });

  app.get('/api/0/organizations/:org/', { schema: { tags, summary: 'Retrieve an organization', params: orgParams } }, async (request) => {
    const token = await context.authenticate(request, 'org:read');
    const org = await readModel.organization(context.organization(token, request.params.org));
    if (!org) throw new ApiError(404, NOT_FOUND);
    return serializeOrganization(org);
  });

  app.get('/api/0/organizations/:org/projects/', { schema: { tags, summary: "List an organization's projects", params: orgParams } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return (await readModel.projects(context.organization(token, request.params.org))).map(serializeProject);
  });

  app.get('/api/0/projects/', { schema: { tags, summary: "The token's projects" } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return (await Promise.all(context.organizations(token).map((slug) => readModel.projects(slug)))).flat().map(serializeProject);
  });

  app.get('/api/0/projects/:org/:project/', { schema: { tags, summary: 'Retrieve a project', params: projectParams } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return serializeProject(await context.project(token, request.params.org, request.params.project));
  });

  app.put('/api/0/projects/:org/:project/', { schema: { tags, summary: "Set a project's allowed domains or retention in days", params: projectParams, body: projectUpdateBody } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const { retentionDays, allowedDomains } = request.body;
    const allowedOrigins = allowedDomains ? normalizeAllowedOrigins(allowedDomains) : undefined;
    if (allowedOrigins && !allowedOrigins.ok) throw new ApiError(400, `Invalid body.allowedDomains: ${allowedOrigins.reason}`);
    const change = { projectId: project.id, actor: context.actor(token), changedAt: context.now() };
    const records: OutgoingRecord[] = [];
    if (retentionDays !== undefined) records.push({ key: `project/${project.id}/retention`, name: 'ProjectRetentionChanged', value: { ...change, retentionDays } });
    if (allowedDomains !== undefined) records.push({ key: `project/${project.id}/origins`, name: 'ProjectAllowedOriginsChanged', value: { ...change, allowedOrigins: allowedOrigins?.value ?? null } });
    await context.appendAndAwait(reply, adminTopic, records);
    return serializeProject({
      ...project,
      ...(retentionDays === undefined ? {} : { retention_days: retentionDays }),
      ...(allowedDomains === undefined ? {} : { allowed_origins: allowedOrigins?.value ?? null }),
    });
  });

  app.get('/api/0/projects/:org/:project/keys/', { schema: { tags, summary: "List a project's DSN keys", params: projectParams } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return (await readModel.keys(project.id)).map((key) => serializeKey(key, publicUrl));
  });

  app.post('/api/0/projects/:org/:project/keys/', { schema: { tags, summary: 'Create a DSN key', params: projectParams, body: keyCreateBody } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const key = newProjectKey(project.id, request.body?.name ?? 'Default', context.now());
    await context.appendAndAwait(reply, adminTopic, [{ key: `key/${key.publicKey}`, name: 'ProjectKeyUpserted', value: key }]);
    return reply.code(201).send(serializeKey(keyRow(key), publicUrl));
  });

  const existingKey = async (projectId: number, keyId: string) => {
    const key = (await readModel.keys(projectId)).find((candidate) => candidate.public_key === keyId);
    if (!key) throw new ApiError(404, NOT_FOUND);
    return key;
  };

  const upsertKey = async (reply: FastifyReply, record: ProjectKeyUpserted) => {
    await context.appendAndAwait(reply, adminTopic, [{ key: `key/${record.publicKey}`, name: 'ProjectKeyUpserted', value: record }]);
    return serializeKey(keyRow(record), publicUrl);
  };

  app.put('/api/0/projects/:org/:project/keys/:keyId/', { schema: { tags, summary: 'Rename, enable or disable a DSN key', params: keyParams, body: keyUpdateBody } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const key = await existingKey(project.id, request.params.keyId);
    return upsertKey(reply, { publicKey: key.public_key, secretKey: key.secret_key, projectId: key.project_id, label: request.body.name ?? key.label, active: request.body.isActive ?? key.active, createdAt: key.created_at.getTime() });
  });

  // Revoking keeps the key's record (inactive), so ingest refuses it and a rebuild knows it.
  app.delete('/api/0/projects/:org/:project/keys/:keyId/', { schema: { tags, summary: 'Revoke a DSN key', params: keyParams } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:admin');
    const project = await context.project(token, request.params.org, request.params.project);
    const key = await existingKey(project.id, request.params.keyId);
    await upsertKey(reply, { publicKey: key.public_key, secretKey: key.secret_key, projectId: key.project_id, label: key.label, active: false, createdAt: key.created_at.getTime() });
    return reply.code(204).send();
  });
}
