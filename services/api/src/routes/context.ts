import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Appender, GroupRow, OutgoingRecord, ProjectionWatcher, ProjectRow, Tombstone, UserRow } from '@trapline/runtime';
import type { ReadModel } from '../adapters/read-model.ts';
import type { SessionStore, SignInThrottle } from '../adapters/sessions.ts';
import { sameSecret } from '../domain/accounts.ts';
import { isRole, ROLE_SCOPES, ROLES, roleGrants, roleOfScopes, type MemberActor, type Role } from '../domain/roles.ts';
import type { Decision } from '../domain/commands.ts';
import { hashToken, hasScope, type Scope } from '../domain/tokens.ts';

/** An expected refusal, answered as Sentry does: a status and `{"detail": …}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

export const NOT_FOUND = 'The requested resource does not exist';
export const FORBIDDEN = 'You do not have permission to perform this action.';

/** Set on a write's answer when the projector had not applied it within the bound: the next read may not show it yet. */
export const VISIBILITY_HEADER = 'x-trapline-visibility';

/** How a write waits to be visible: the watcher of the projector's positions and the bound. */
export interface WriteVisibility {
  watcher: ProjectionWatcher;
  timeoutMs: number;
  /** Told of each write's outcome (a metric). */
  observe?: (result: 'visible' | 'pending') => void;
}

export type ZodApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export const SESSION_COOKIE = 'trapline_session';
export const CSRF_HEADER = 'x-csrftoken';

/** Who a request acts as: an organization token, or a user through a session or a user token. */
export interface Principal {
  /** `token:<first 12 hex of the hash>` or `user:<id>`: what records name as the actor. */
  actor: string;
  kind: 'organization-token' | 'user-token' | 'session';
  user: UserRow | null;
  /** Scopes shown on /api/0/: a token's own; a session's, its highest role's. */
  scopes: readonly string[];
  /** Organizations the principal belongs to → whether the scope asked for is granted there (false: 403; absent: 404). */
  organizations: ReadonlyMap<string, boolean>;
  /** Per organization, who acts in member decisions. */
  memberActors: ReadonlyMap<string, MemberActor>;
  sessionId?: string;
}

export interface ApiContext {
  readModel: ReadModel;
  appender: Appender;
  eventsTopic: string;
  adminTopic: string;
  auditTopic: string;
  publicUrl: string;
  now: () => number;
  /** Sessions and sign-in throttling (Redis); without them only tokens authenticate. */
  sessions: SessionStore | undefined;
  throttle: SignInThrottle | undefined;
  /** Without it (tests of the app alone) a write answers once Kafka acknowledged it. */
  visibility?: WriteVisibility | undefined;
  /**
   * Every API write goes through this (DESIGN.md invariant 9, read your own writes): appends the
   * records and returns once the projector has applied them, so the client's next read, on any API
   * instance, sees its write. Past `WRITE_VISIBILITY_TIMEOUT_MS` it returns anyway and marks the
   * answer with `X-Trapline-Visibility: pending`; the write itself stands (it is on the log).
   * A new write route is one line: `await context.appendAndAwait(reply, topic, records)`, for
   * records (or null values, which remove an admin entity) on a topic the projector consumes
   * (PROJECTED_TOPICS): others would always time out.
   */
  appendAndAwait(reply: FastifyReply, topic: string, records: (OutgoingRecord | Tombstone)[]): Promise<void>;
  /** A token or session; a token must hold the scope (null: none needed), else 401/403. */
  authenticate(request: FastifyRequest, scope: Scope | null): Promise<Principal>;
  /** The organization in the path must be one of the principal's (else 404) and grant the scope (else 403). */
  organization(principal: Principal, orgSlug: string): string;
  /** The organizations where the principal holds the scope. */
  organizations(principal: Principal): string[];
  project(principal: Principal, orgSlug: string, projectSlug: string): Promise<ProjectRow>;
  issue(principal: Principal, id: number): Promise<{ group: GroupRow; project: ProjectRow }>;
  actor(principal: Principal): string;
  /** Appends a command's records to trapline.admin (awaiting the projector, as appendAndAwait) and gives its value; a refusal is 400 (409 for a conflict). */
  decide<T>(reply: FastifyReply, decision: Decision<T>): Promise<T>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export function apiContext(deps: Pick<ApiContext, 'readModel' | 'appender' | 'eventsTopic' | 'adminTopic' | 'auditTopic' | 'publicUrl' | 'now' | 'sessions' | 'throttle' | 'visibility'>): ApiContext {
  const { readModel, appender, visibility } = deps;
  const accounts = readModel.accounts;

  const userPrincipal = async (user: UserRow, kind: 'user-token' | 'session', scope: Scope | null, tokenScopes: readonly string[] | null, sessionId?: string): Promise<Principal> => {
    if (scope !== null && tokenScopes !== null && !hasScope(tokenScopes, scope)) throw new ApiError(403, FORBIDDEN);
    const organizations = new Map<string, boolean>();
    const memberActors = new Map<string, MemberActor>();
    let top: Role | undefined;
    for (const member of await accounts.memberships(user.id)) {
      const role = member.role;
      if (!isRole(role)) continue;
      organizations.set(member.organization_slug, scope === null || roleGrants(role, scope, tokenScopes));
      memberActors.set(member.organization_slug, { role, memberId: member.id, canWrite: roleGrants(role, 'member:write', tokenScopes), canAdmin: roleGrants(role, 'member:admin', tokenScopes) });
      if (top === undefined || ROLES.indexOf(role) > ROLES.indexOf(top)) top = role;
    }
    const scopes = tokenScopes ?? (top === undefined ? [] : ROLE_SCOPES[top]);
    return { actor: `user:${user.id}`, kind, user, scopes, organizations, memberActors, ...(sessionId === undefined ? {} : { sessionId }) };
  };

  const bearer = async (tokenText: string, scope: Scope | null): Promise<Principal> => {
    const tokenHash = hashToken(tokenText);
    const token = await readModel.token(tokenHash);
    if (token) {
      if (!token.active) throw new ApiError(401, 'Invalid token');
      if (scope !== null && !hasScope(token.scopes, scope)) throw new ApiError(403, FORBIDDEN);
      const actor: MemberActor = { role: roleOfScopes(token.scopes) ?? 'member', memberId: null, canWrite: hasScope(token.scopes, 'member:write'), canAdmin: hasScope(token.scopes, 'member:admin') };
      return {
        actor: `token:${token.token_hash.slice(0, 12)}`, kind: 'organization-token', user: null, scopes: token.scopes,
        organizations: new Map([[token.organization_slug, true]]), memberActors: new Map([[token.organization_slug, actor]]),
      };
    }
    const userToken = await accounts.userToken(tokenHash);
    const user = userToken?.active ? await accounts.user(userToken.user_id) : undefined;
    if (!userToken || !user) throw new ApiError(401, 'Invalid token');
    return userPrincipal(user, 'user-token', scope, userToken.scopes);
  };

  const context: ApiContext = {
    ...deps,
    async appendAndAwait(reply, topic, records) {
      const positions = await appender.append(topic, records);
      if (!visibility) return;
      const visible = await visibility.watcher.awaitProjected(positions, visibility.timeoutMs);
      if (!visible) reply.header(VISIBILITY_HEADER, 'pending');
      visibility.observe?.(visible ? 'visible' : 'pending');
    },
    async authenticate(request, scope) {
      const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      if (match) return bearer(match[1]!, scope);
      const sessionId = deps.sessions && cookieValue(request.headers.cookie, SESSION_COOKIE);
      if (!sessionId) throw new ApiError(401, 'Authentication credentials were not provided.');
      const session = await deps.sessions!.get(sessionId);
      const user = session && (await accounts.user(session.userId));
      if (!session || !user) throw new ApiError(401, 'Authentication credentials were not provided.');
      // A cookie rides along on any request the browser makes, so a write must also prove it comes
      // from our pages: the session's synchronizer token in a header no other site can set.
      if (!SAFE_METHODS.has(request.method)) {
        const sent = request.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) throw new ApiError(403, 'CSRF Failed: CSRF token missing or incorrect.');
      }
      return userPrincipal(user, 'session', scope, null, sessionId);
    },
    organization(principal, orgSlug) {
      const granted = principal.organizations.get(orgSlug);
      if (granted === undefined) throw new ApiError(404, NOT_FOUND);
      if (!granted) throw new ApiError(403, FORBIDDEN);
      return orgSlug;
    },
    organizations: (principal) => [...principal.organizations].filter(([, granted]) => granted).map(([slug]) => slug),
    async project(principal, orgSlug, projectSlug) {
      const project = await readModel.project(context.organization(principal, orgSlug), projectSlug);
      if (!project) throw new ApiError(404, NOT_FOUND);
      return project;
    },
    async issue(principal, id) {
      const group = await readModel.issue(id);
      const project = group && (await readModel.projectById(group.project_id));
      if (!group || !project || !principal.organizations.has(project.organization_slug)) throw new ApiError(404, NOT_FOUND);
      context.organization(principal, project.organization_slug);
      return { group, project };
    },
    actor: (principal) => principal.actor,
    async decide(reply, decision) {
      if (!decision.ok) throw new ApiError(decision.conflict ? 409 : 400, decision.detail);
      await context.appendAndAwait(reply, deps.adminTopic, decision.records);
      return decision.value;
    },
  };
  return context;
}
