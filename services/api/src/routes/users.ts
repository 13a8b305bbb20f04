import type { UserRow } from '@trapline/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditEntry, MemberUpserted, UserUpserted } from '@trapline/schemas';
import { memberKey, memberRecord, newUser, newUserToken, normalizeEmail, serializeUser, serializeUserToken, userKey, userTokenKey } from '../domain/accounts.ts';
import { empty, invitationAnswer, meAnswer, refusals, sessionAnswer, userTokenAnswer } from '../domain/answers.ts';
import { checkPassword, hashPassword } from '../domain/passwords.ts';
import { hashToken } from '../domain/tokens.ts';
import { ApiError, NOT_FOUND, SESSION_COOKIE, type ApiContext, type Principal, type ZodApp } from './context.ts';
import { acceptBody, acceptParams, signInBody, userTokenCreateBody, userTokenDeleteBody, userTokenParams } from './account-schemas.ts';

// Signing in and out (a session cookie), the signed-in user, accepting an invitation, and the
// user's own auth tokens (Sentry's /api-tokens/).

const tags = ['users'];
const BAD_CREDENTIALS = 'Invalid email or password.';
/** Each failed sign-in in the window waits this much longer before its answer, up to the cap. */
const FAILURE_DELAY_MS = 250;
const MAX_FAILURE_DELAY_MS = 2000;

/** Sentry's user object for /api/0/: a person, or the organization token itself. */
export function principalUser(principal: Principal) {
  if (principal.user) return serializeUser(principal.user);
  return { id: principal.actor, name: 'API token', username: principal.actor, email: '' };
}

/**
 * The client's address: the proxy in front (nginx, the front door) appends it to X-Forwarded-For, so the
 * last entry that is not a loopback address; without a proxy, the peer itself.
 */
export function clientAddress(request: Pick<FastifyRequest, 'headers' | 'ip'>): string {
  const forwarded = String(request.headers['x-forwarded-for'] ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  const loopback = (address: string) => address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  if (!loopback(request.ip)) return request.ip;
  return forwarded.reverse().find((address) => !loopback(address)) ?? request.ip;
}

export function userRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, adminTopic } = context;
  const accounts = readModel.accounts;

  const sessions = () => {
    if (!context.sessions || !context.throttle) throw new ApiError(404, NOT_FOUND);
    return { sessions: context.sessions, throttle: context.throttle };
  };
  const secure = new URL(context.publicUrl).protocol === 'https:';
  const setSessionCookie = (reply: FastifyReply, value: string, maxAgeSeconds: number) =>
    reply.header('set-cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`);
  const signedIn = async (reply: FastifyReply, user: UserRow) => {
    const { sessionId, session } = await sessions().sessions.create(user.id);
    // The session names the user by id; each request looks the user up, so a removed one stops at once.
    setSessionCookie(reply, sessionId, sessions().sessions.ttlSeconds);
    return { user: serializeUser(user), csrfToken: session.csrfToken };
  };
  const signedInUser = async (request: FastifyRequest, sessionOnly: boolean) => {
    const principal = await context.authenticate(request, null);
    if (!principal.user || (sessionOnly && principal.kind !== 'session')) throw new ApiError(403, 'This needs a signed-in user (not a token).');
    return { principal, user: principal.user };
  };

  app.post('/api/0/auth/login/', { schema: { tags, summary: 'Sign in with email and password: a session cookie', body: signInBody, response: { 200: sessionAnswer, ...refusals } } }, async (request, reply) => {
    const { throttle } = sessions();
    const email = normalizeEmail(request.body.email) ?? request.body.email.trim().toLowerCase();
    const address = clientAddress(request);
    const wait = await throttle.retryAfter(email, address);
    if (wait > 0) return reply.code(429).header('retry-after', String(wait)).send({ detail: `Too many failed sign-ins. Try again in ${wait} seconds.` });
    const credentials = await accounts.credentials(email);
    const user = (await checkPassword(credentials?.password_hash, request.body.password)) ? await accounts.user(credentials!.id) : undefined;
    if (!user) {
      const failures = await throttle.fail(email, address);
      await new Promise((resolve) => setTimeout(resolve, Math.min(failures * FAILURE_DELAY_MS, MAX_FAILURE_DELAY_MS)));
      throw new ApiError(401, BAD_CREDENTIALS);
    }
    await throttle.succeed(email);
    return signedIn(reply, user);
  });

  app.get('/api/0/auth/', { schema: { tags, summary: 'The signed-in user and the CSRF token for writes', response: { 200: sessionAnswer, ...refusals } } }, async (request) => {
    const { principal, user } = await signedInUser(request, true);
    const session = await sessions().sessions.get(principal.sessionId!);
    return { user: serializeUser(user), csrfToken: session?.csrfToken ?? null };
  });

  app.delete('/api/0/auth/', { schema: { tags, summary: 'Sign out', response: { 204: empty, ...refusals } } }, async (request, reply) => {
    const { principal } = await signedInUser(request, true);
    await sessions().sessions.destroy(principal.sessionId!);
    setSessionCookie(reply, '', 0);
    return reply.code(204).send(null);
  });

  app.get('/api/0/users/me/', { schema: { tags, summary: 'The signed-in user (session or user token)', response: { 200: meAnswer, ...refusals } } }, async (request) => {
    const { user } = await signedInUser(request, false);
    const memberships = await accounts.memberships(user.id);
    return { ...serializeUser(user), organizations: memberships.map((member) => ({ slug: member.organization_slug, orgRole: member.role })) };
  });

  // Accepting an invitation. The token is single-use: the record that accepts it clears its hash,
  // and a claim in Redis stops two concurrent accepts before the projector has applied the first.
  const openInvitation = async (params: { memberId: string; token: string }) => {
    const invitation = await accounts.invitation(hashToken(params.token));
    if (!invitation || invitation.id !== params.memberId) throw new ApiError(404, 'This invitation link is invalid or was already used.');
    if (invitation.invite_expires_at !== null && invitation.invite_expires_at.getTime() < context.now()) throw new ApiError(410, 'This invitation has expired. Ask for a new one.');
    return invitation;
  };

  app.get('/api/0/accept-invite/:memberId/:token/', { schema: { tags, summary: 'What an invitation is for', params: acceptParams, response: { 200: invitationAnswer, ...refusals } } }, async (request) => {
    const invitation = await openInvitation(request.params);
    const existing = await accounts.userByEmail(invitation.email);
    return { orgSlug: invitation.organization_slug, email: invitation.email, orgRole: invitation.role, existingUser: existing !== undefined };
  });

  app.post('/api/0/accept-invite/:memberId/:token/', { schema: { tags, summary: 'Accept an invitation, setting a password (or giving your existing one)', params: acceptParams, body: acceptBody, response: { 200: sessionAnswer, ...refusals } } }, async (request, reply) => {
    const { sessions: store } = sessions();
    const invitation = await openInvitation(request.params);
    if (!(await store.claimOnce(request.params.token, 3600))) throw new ApiError(404, 'This invitation link is invalid or was already used.');
    try {
      const now = context.now();
      const existing = await accounts.credentials(invitation.email);
      let user: UserUpserted | undefined;
      if (existing) {
        if (!(await checkPassword(existing.password_hash, request.body.password))) throw new ApiError(400, 'This email already has an account: give its password to accept.');
      } else {
        user = newUser({ email: invitation.email, name: request.body.name?.trim() ?? '', passwordHash: await hashPassword(request.body.password), now });
      }
      const userId = existing?.id ?? user!.userId;
      const member: MemberUpserted = { ...memberRecord(invitation), userId, inviteTokenHash: null, inviteExpiresAt: null };
      await context.appendAndAwait(reply, adminTopic, [...(user ? [{ key: userKey(user.userId), name: 'UserUpserted' as const, value: user }] : []), { key: memberKey(member.memberId), name: 'MemberUpserted', value: member }]);
      await appendAudit(context, reply, memberAudit({ member, event: 'member.accept', actor: `user:${userId}`, now }));
      const known = user ? { id: user.userId, email: user.email, name: user.name, created_at: new Date(user.createdAt) } : await accounts.user(userId);
      return await signedIn(reply, known!);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) await store.release(request.params.token);
      throw error;
    }
  });

  // User auth tokens: made and revoked only from a session (a token cannot mint tokens).
  app.get('/api/0/api-tokens/', { schema: { tags, summary: "The signed-in user's auth tokens", response: { 200: z.array(userTokenAnswer), ...refusals } } }, async (request) => {
    const { user } = await signedInUser(request, false);
    return (await accounts.userTokens(user.id)).map((row) => serializeUserToken(row));
  });

  app.post('/api/0/api-tokens/', { schema: { tags, summary: 'Create a user auth token with scopes (shown once)', body: userTokenCreateBody, response: { 201: userTokenAnswer, ...refusals } } }, async (request, reply) => {
    const { user } = await signedInUser(request, true);
    const { record, token } = newUserToken({ userId: user.id, scopes: [...new Set(request.body.scopes)], label: request.body.name?.trim() || 'token', now: context.now() });
    await context.appendAndAwait(reply, adminTopic, [{ key: userTokenKey(record.tokenId), name: 'UserTokenUpserted', value: record }]);
    return reply.code(201).send(serializeUserToken({ id: record.tokenId, token_hash: record.tokenHash, user_id: user.id, scopes: record.scopes, label: record.label, active: true, created_at: new Date(record.createdAt) }, token));
  });

  const revoke = async (request: FastifyRequest, reply: FastifyReply, tokenId: string | undefined) => {
    const { user } = await signedInUser(request, true);
    const row = (await accounts.userTokens(user.id)).find((candidate) => candidate.id === tokenId);
    if (!row) throw new ApiError(404, NOT_FOUND);
    await context.appendAndAwait(reply, adminTopic, [{ key: userTokenKey(row.id), name: 'UserTokenUpserted', value: { tokenId: row.id, tokenHash: row.token_hash, userId: row.user_id, scopes: row.scopes, label: row.label, active: false, createdAt: row.created_at.getTime() } }]);
    return reply.code(204).send(null);
  };
  // Sentry's older form names the token in the body; it is read after authentication, so a
  // request without a session is 401/403 whatever its body.
  app.delete('/api/0/api-tokens/', { schema: { tags, summary: 'Revoke a user auth token (body: {"tokenId": …})', response: { 204: empty, ...refusals } } }, async (request, reply) => {
    const body = userTokenDeleteBody.safeParse(request.body ?? undefined);
    await signedInUser(request, true);
    if (!body.success || !body.data) throw new ApiError(400, 'Invalid body: give {"tokenId": "…"}');
    return revoke(request, reply, body.data.tokenId);
  });
  app.delete('/api/0/api-tokens/:tokenId/', { schema: { tags, summary: 'Revoke a user auth token', params: userTokenParams, response: { 204: empty, ...refusals } } }, async (request, reply) => revoke(request, reply, request.params.tokenId));
}

/** An audit entry of a membership change; its id names the member and the moment. */
export function memberAudit(input: { member: MemberUpserted; event: string; actor: string; now: number; data?: Record<string, unknown> }): AuditEntry {
  const { member } = input;
  return {
    id: `member:${member.memberId}:${input.event}:${input.now}`, organizationSlug: member.organizationSlug, projectId: null, event: input.event, actor: input.actor,
    transactionId: null, targetObject: member.memberId, data: JSON.stringify({ email: member.email, orgRole: member.role, ...input.data }), createdAt: input.now,
  };
}

export async function appendAudit(context: ApiContext, reply: FastifyReply, entry: AuditEntry): Promise<void> {
  await context.appendAndAwait(reply, context.auditTopic, [{ key: entry.id, name: 'AuditEntry', value: entry }]);
}
