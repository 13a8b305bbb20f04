import type { MemberRow } from '@trapline/runtime';
import { z } from 'zod';
import type { MemberUpserted } from '@trapline/schemas';
import type { FastifyReply } from 'fastify';
import { memberKey, memberRecord, memberRow, newInvitation, normalizeEmail, serializeMember, serializeMemberDetail } from '../domain/accounts.ts';
import { empty, invitedMemberAnswer, memberAnswer, memberDetailAnswer, refusals } from '../domain/answers.ts';
import { decideInvite, decideRemoval, decideRoleChange, isRole, MEMBER_REFUSALS, type MemberActor, type MemberDecision, type Role } from '../domain/roles.ts';
import { ApiError, NOT_FOUND, type ApiContext, type Principal, type ZodApp } from './context.ts';
import { inviteBody, memberParams, memberUpdateBody } from './account-schemas.ts';
import { orgParams } from './schemas.ts';
import { appendAudit, memberAudit } from './users.ts';
import { memberRemovalRecords } from '../domain/team-members.ts';

// Sentry's organization members: list, invite (a pending member with a single-use link), change a
// role, remove. Who may do what is decided by ../domain/roles.ts; every write is audited with its actor.

const tags = ['members'];

const refuse = (decision: MemberDecision) => {
  if (!decision.ok) {
    const { status, detail } = MEMBER_REFUSALS[decision.reason];
    throw new ApiError(status, detail);
  }
};

/** Who acts in an organization's member decisions (nobody's role when not its member). */
export const actorIn = (principal: Principal, org: string): MemberActor => principal.memberActors.get(org) ?? { role: null, memberId: null, canWrite: false, canAdmin: false };

/** The member a path names (`me`: the principal's own membership), else 404. */
export async function findMember(context: ApiContext, principal: Principal, org: string, memberId: string): Promise<MemberRow> {
  const id = memberId === 'me' ? actorIn(principal, org).memberId : memberId;
  const member = id === null ? undefined : await context.readModel.accounts.member(org, id);
  if (!member) throw new ApiError(404, NOT_FOUND);
  return member;
}

export function memberRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, adminTopic, publicUrl } = context;
  const accounts = readModel.accounts;

  const facts = async (org: string, member: MemberRow) => ({
    memberId: member.id,
    role: (isRole(member.role) ? member.role : 'member') as Role,
    pending: member.user_id === null,
    owners: (await accounts.members(org)).filter((row) => row.role === 'owner' && row.user_id !== null).length,
  });
  /** The member's detail as `principal` sees it, with `role` in place of its own when it changes. */
  const detail = async (principal: Principal, org: string, member: MemberRow, now: number) => {
    const [all, teams] = await Promise.all([accounts.members(org), accounts.memberTeams(member.id)]);
    const members = all.map((row) => (row.id === member.id ? member : row));
    const owners = members.filter((row) => row.role === 'owner' && row.user_id !== null).length;
    return serializeMemberDetail(member, now, { viewerRole: actorIn(principal, org).role, owners, teams });
  };
  const upsert = (reply: FastifyReply, member: MemberUpserted) => context.appendAndAwait(reply, adminTopic, [{ key: memberKey(member.memberId), name: 'MemberUpserted', value: member }]);

  app.get('/api/0/organizations/:org/members/', { schema: { tags, summary: "List an organization's members and pending invitations", params: orgParams, response: { 200: z.array(memberAnswer), ...refusals } } }, async (request) => {
    const principal = await context.authenticate(request, 'member:read');
    const org = context.organization(principal, request.params.org);
    return (await accounts.members(org)).map((member) => serializeMember(member, context.now()));
  });

  app.post('/api/0/organizations/:org/members/', { schema: { tags, summary: 'Invite someone by email with a role', params: orgParams, body: inviteBody, response: { 201: invitedMemberAnswer, ...refusals } } }, async (request, reply) => {
    const principal = await context.authenticate(request, 'member:write');
    const org = context.organization(principal, request.params.org);
    const email = normalizeEmail(request.body.email);
    if (!email) throw new ApiError(400, 'Invalid body.email: not an email address');
    const role = request.body.orgRole ?? request.body.role ?? 'member';
    refuse(decideInvite(actorIn(principal, org), role));
    if ((await accounts.members(org)).some((member) => member.email.toLowerCase() === email)) throw new ApiError(409, 'The user is already a member or invited');
    const now = context.now();
    const { record, token } = newInvitation({ organizationSlug: org, email, role, invitedBy: principal.actor, now });
    await upsert(reply, record);
    await appendAudit(context, reply, memberAudit({ member: record, event: 'member.invite', actor: principal.actor, now }));
    // The link is shown once, to whoever invited: only its hash is kept.
    return reply.code(201).send({ ...serializeMember(memberRow(record), now), inviteLink: `${publicUrl.replace(/\/$/, '')}/accept/${record.memberId}/${token}/` });
  });

  app.get('/api/0/organizations/:org/members/:memberId/', { schema: { tags, summary: 'Retrieve a member', params: memberParams, response: { 200: memberDetailAnswer, ...refusals } } }, async (request) => {
    const principal = await context.authenticate(request, 'member:read');
    const org = context.organization(principal, request.params.org);
    return detail(principal, org, await findMember(context, principal, org, request.params.memberId), context.now());
  });

  app.put('/api/0/organizations/:org/members/:memberId/', { schema: { tags, summary: "Change a member's role", params: memberParams, body: memberUpdateBody, response: { 200: memberDetailAnswer, ...refusals } } }, async (request, reply) => {
    const principal = await context.authenticate(request, 'member:read');
    const org = context.organization(principal, request.params.org);
    const member = await findMember(context, principal, org, request.params.memberId);
    const role = (request.body.orgRole ?? request.body.role)!;
    refuse(decideRoleChange(actorIn(principal, org), await facts(org, member), role));
    const now = context.now();
    const record = { ...memberRecord(member), role };
    await upsert(reply, record);
    await appendAudit(context, reply, memberAudit({ member: record, event: 'member.edit', actor: principal.actor, now, data: { previousRole: member.role } }));
    return detail(principal, org, { ...member, role }, now);
  });

  app.delete('/api/0/organizations/:org/members/:memberId/', { schema: { tags, summary: 'Remove a member or cancel an invitation', params: memberParams, response: { 204: empty, ...refusals } } }, async (request, reply) => {
    const principal = await context.authenticate(request, 'member:read');
    const org = context.organization(principal, request.params.org);
    const member = await findMember(context, principal, org, request.params.memberId);
    refuse(decideRemoval(actorIn(principal, org), await facts(org, member)));
    // The member leaves its teams with the organization: no team membership outlives it on the log.
    const teams = (await accounts.memberTeams(member.id)).map((team) => team.team_id);
    await context.appendAndAwait(reply, adminTopic, memberRemovalRecords(member.id, teams));
    await appendAudit(context, reply, memberAudit({ member: memberRecord(member), event: 'member.remove', actor: principal.actor, now: context.now() }));
    return reply.code(204).send(null);
  });
}
