import type { MemberRow, TeamRow } from '@trapline/runtime';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { empty, refusals, teamAnswer, teamMemberAnswer } from '../domain/answers.ts';
import { roleGrants } from '../domain/roles.ts';
import { serializeTeam } from '../domain/serialize.ts';
import { effectiveTeamRole, LEAVE_REFUSAL, mayTakeOffTeam, minimumTeamRole, serializeTeamMember, teamLeaveRecords, teamMemberRecord } from '../domain/team-members.ts';
import { hasScope, type Scope } from '../domain/tokens.ts';
import type { TeamViewer } from '../adapters/read-model.ts';
import { ApiError, NOT_FOUND, type ApiContext, type Principal, type ZodApp } from './context.ts';
import { memberParams } from './account-schemas.ts';
import { actorIn, findMember } from './members.ts';
import { teamParams } from './schemas.ts';
import { appendAudit, memberAudit } from './users.ts';
import { memberRecord } from '../domain/accounts.ts';

// Sentry's team membership: put a member on a team, take one off, list a team's members. Who may
// do which is ../domain/team-members.ts; each write is on the log (TeamMemberUpserted, or a null
// value under its key), applied before the answer, and audited. Teams take the organization's
// scopes here (Trapline has no team:* scopes), as the other team routes do.

const tags = ['teams'];
const memberTeamParams = memberParams.extend({ team: teamParams.shape.team.describe('team slug or id') });

/** The principal's membership in the organization, for `isMember` and `teamRole` of the teams it sees. */
export function teamViewer(principal: Principal, org: string): TeamViewer | null {
  const { memberId, role } = actorIn(principal, org);
  return memberId === null || role === null ? null : { memberId, minimumTeamRole: minimumTeamRole(role) };
}

/** Whether the principal holds `scope` in the organization: a token by its scopes, a user by its role (capped by a user token's scopes). */
function grants(principal: Principal, org: string, scope: Scope): boolean {
  if (principal.kind === 'organization-token') return hasScope(principal.scopes, scope);
  const { role } = actorIn(principal, org);
  return role !== null && roleGrants(role, scope, principal.kind === 'user-token' ? principal.scopes : null);
}

export function teamMemberRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, adminTopic } = context;
  const accounts = readModel.accounts;

  const findTeam = async (principal: Principal, org: string, idOrSlug: string): Promise<TeamRow> => {
    const team = await readModel.team(org, idOrSlug, teamViewer(principal, org));
    if (!team) throw new ApiError(404, NOT_FOUND);
    return team;
  };
  /** The member and the team a path names, both of the organization (else 404), and the teams the member is on. */
  const resolve = async (principal: Principal, params: z.infer<typeof memberTeamParams>) => {
    const org = context.organization(principal, params.org);
    const member = await findMember(context, principal, org, params.memberId);
    const team = await findTeam(principal, org, params.team);
    return { org, member, team, onTeam: (await accounts.memberTeams(member.id)).some((joined) => joined.team_id === team.id) };
  };
  const audit = (reply: FastifyReply, event: 'member.join-team' | 'member.leave-team', member: MemberRow, team: TeamRow, actor: string) => {
    const now = context.now();
    const entry = memberAudit({ member: memberRecord(member), event, actor, now, data: { teamSlug: team.slug } });
    return appendAudit(context, reply, { ...entry, id: `member:${member.id}:${event}:${team.id}:${now}` });
  };

  app.post('/api/0/organizations/:org/members/:memberId/teams/:team/', { schema: { tags, summary: 'Add a member to a team (204: already on it)', params: memberTeamParams, response: { 201: teamAnswer, 204: empty, ...refusals } } }, async (request, reply) => {
    const principal = await context.authenticate(request, 'org:read');
    const { org, member, team, onTeam } = await resolve(principal, request.params);
    if (onTeam) return reply.code(204).send(null);
    await context.appendAndAwait(reply, adminTopic, [teamMemberRecord({ teamId: team.id, member, actor: principal.actor, now: context.now() })]);
    await audit(reply, 'member.join-team', member, team, principal.actor);
    return reply.code(201).send(serializeTeam(await findTeam(principal, org, String(team.id))));
  });

  app.delete('/api/0/organizations/:org/members/:memberId/teams/:team/', { schema: { tags, summary: 'Remove a member from a team', params: memberTeamParams, response: { 200: teamAnswer, ...refusals } } }, async (request, reply) => {
    const principal = await context.authenticate(request, 'org:read');
    const { org, member, team, onTeam } = await resolve(principal, request.params);
    const actor = actorIn(principal, org);
    const actorOnTeam = actor.memberId === null ? undefined : (await accounts.memberTeams(actor.memberId)).find((joined) => joined.team_id === team.id);
    const allowed = mayTakeOffTeam({
      self: actor.memberId === member.id,
      orgWrite: grants(principal, org, 'org:write'),
      memberWrite: actor.canWrite,
      actorTeamRole: actorOnTeam ? effectiveTeamRole(actorOnTeam.team_role, actor.role ?? 'member') : null,
    });
    if (!allowed) throw new ApiError(400, LEAVE_REFUSAL);
    if (onTeam) {
      await context.appendAndAwait(reply, adminTopic, teamLeaveRecords(member.id, [team.id]));
      await audit(reply, 'member.leave-team', member, team, principal.actor);
    }
    return serializeTeam(await findTeam(principal, org, String(team.id)));
  });

  app.get('/api/0/teams/:org/:team/members/', { schema: { tags, summary: "List a team's members (accepted ones, by e-mail)", params: teamParams, response: { 200: z.array(teamMemberAnswer), ...refusals } } }, async (request) => {
    const principal = await context.authenticate(request, 'org:read');
    const org = context.organization(principal, request.params.org);
    const team = await findTeam(principal, org, request.params.team);
    const now = context.now();
    return (await accounts.teamMembers(team.id)).map((row) => serializeTeamMember(row, team.slug, now));
  });
}
