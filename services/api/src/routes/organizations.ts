import type { FastifyInstance } from 'fastify';
import { serializeKey, serializeOrganization, serializeProject } from '../domain/serialize.ts';
import { ApiError, NOT_FOUND, type ApiContext } from './context.ts';

// The API root (what `sentry-cli info` reads), organizations, projects and their DSN keys.

export function organizationRoutes(app: FastifyInstance, context: ApiContext): void {
  const { readModel, publicUrl } = context;

  app.get('/api/0/', async (request) => {
    const token = request.headers.authorization ? await context.authenticate(request, 'org:read').catch(() => undefined) : undefined;
    return { version: '0', auth: token ? { scopes: token.scopes } : null, user: token ? { id: context.actor(token), name: 'API token', username: context.actor(token), email: '' } : null };
  });

  app.get('/api/0/organizations/', async (request) => {
    const token = await context.authenticate(request, 'org:read');
    const org = await readModel.organization(token.organization_slug);
    return org ? [serializeOrganization(org)] : [];
  });

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/', async (request) => {
    const token = await context.authenticate(request, 'org:read');
    const org = await readModel.organization(context.organization(token, request.params.org));
    if (!org) throw new ApiError(404, NOT_FOUND);
    return serializeOrganization(org);
  });

  app.get<{ Params: { org: string } }>('/api/0/organizations/:org/projects/', async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return (await readModel.projects(context.organization(token, request.params.org))).map(serializeProject);
  });

  app.get('/api/0/projects/', async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return (await readModel.projects(token.organization_slug)).map(serializeProject);
  });

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/', async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return serializeProject(await context.project(token, request.params.org, request.params.project));
  });

  app.get<{ Params: { org: string; project: string } }>('/api/0/projects/:org/:project/keys/', async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return (await readModel.keys(project.id)).map((key) => serializeKey(key, publicUrl));
  });
}
