import { z } from 'zod';
import { newRuleId } from '@trapline/schemas';
import { projectAnswer, refusals, teamAnswer } from '../domain/answers.ts';
import { createProject, createTeam } from '../domain/commands.ts';
import { serializeProject, serializeTeam } from '../domain/serialize.ts';
import type { Principal } from './context.ts';
import { ApiError, NOT_FOUND, type ApiContext, type ZodApp } from './context.ts';
import { orgParams, projectCreateBody, teamCreateBody, teamParams } from './schemas.ts';
import { teamViewer } from './team-members.ts';

// Teams as Sentry has them: an organization's teams, one team (by slug or id), its projects, and a
// project created in a team. Teams need the organization's scopes (org:read, org:write), a team's
// projects the project scopes, as in Sentry; who is on a team is ./team-members.ts.

const tags = ['teams'];

export function teamRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel } = context;

  const team = async (token: Principal, orgSlug: string, teamSlug: string) => {
    const org = context.organization(token, orgSlug);
    const found = await readModel.team(org, teamSlug, teamViewer(token, org));
    if (!found) throw new ApiError(404, NOT_FOUND);
    return found;
  };

  app.get('/api/0/organizations/:org/teams/', { schema: { tags, summary: "List an organization's teams", params: orgParams, response: { 200: z.array(teamAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'org:read');
    const org = context.organization(token, request.params.org);
    return (await readModel.teams(org, teamViewer(token, org))).map((found) => serializeTeam(found));
  });

  app.post('/api/0/organizations/:org/teams/', { schema: { tags, summary: 'Create a team (slug, name or both)', params: orgParams, body: teamCreateBody, response: { 201: teamAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'org:write');
    const org = context.organization(token, request.params.org);
    const teamSlugs = (await readModel.teams(org)).map((existing) => existing.slug);
    const created = await context.decide(reply, createTeam({ organizationSlug: org, slug: request.body.slug, name: request.body.name, actor: context.actor(token) }, { organizationExists: true, teamSlugs }, context.now()));
    return reply.code(201).send(serializeTeam({ id: created.teamId, organization_slug: org, slug: created.slug, name: created.name, created_at: new Date(created.createdAt) }));
  });

  app.get('/api/0/teams/:org/:team/', { schema: { tags, summary: 'Retrieve a team', params: teamParams, response: { 200: teamAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'org:read');
    return serializeTeam(await team(token, request.params.org, request.params.team));
  });

  app.get('/api/0/teams/:org/:team/projects/', { schema: { tags, summary: "List a team's projects", params: teamParams, response: { 200: z.array(projectAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    return (await readModel.teamProjects((await team(token, request.params.org, request.params.team)).id)).map(serializeProject);
  });

  app.post('/api/0/teams/:org/:team/projects/', { schema: { tags, summary: 'Create a project in a team', params: teamParams, body: projectCreateBody, response: { 201: projectAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const owner = await team(token, request.params.org, request.params.team);
    const org = await readModel.organization(owner.organization_slug);
    const state = { organizationExists: org !== undefined, projectSlugs: (await readModel.projects(owner.organization_slug)).map((project) => project.slug), nextProjectId: await readModel.nextProjectId() };
    const { name, slug, platform } = request.body;
    const created = await context.decide(reply, createProject({ organizationSlug: owner.organization_slug, name, slug, platform, teamId: owner.id, actor: context.actor(token) }, { ...state, defaultRuleId: newRuleId() }, context.now()));
    return reply.code(201).send(
      serializeProject({
        id: created.projectId,
        organization_slug: created.organizationSlug,
        slug: created.slug,
        name: created.name,
        platform: created.platform,
        created_at: new Date(created.createdAt),
        retention_days: null,
        allowed_origins: null,
        organization_name: org!.name,
        organization_created_at: org!.created_at,
        teams: [{ id: String(owner.id), slug: owner.slug, name: owner.name }],
        first_event: null,
      }),
    );
  });
}
