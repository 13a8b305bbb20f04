import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Appender, OutgoingRecord, ProjectionWatcher } from '@trapline/runtime';
import type { ReadModel, TokenRow } from '../adapters/read-model.ts';
import type { Decision } from '../domain/commands.ts';
import type { GroupRow, ProjectRow } from '../domain/serialize.ts';
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

export interface ApiContext {
  readModel: ReadModel;
  appender: Appender;
  eventsTopic: string;
  adminTopic: string;
  publicUrl: string;
  now: () => number;
  /** Without it (tests of the app alone) a write answers once Kafka acknowledged it. */
  visibility?: WriteVisibility | undefined;
  /**
   * Every API write goes through this (DESIGN.md invariant 9, read your own writes): appends the
   * records and returns once the projector has applied them, so the client's next read, on any API
   * instance, sees its write. Past `WRITE_VISIBILITY_TIMEOUT_MS` it returns anyway and marks the
   * answer with `X-Trapline-Visibility: pending`; the write itself stands (it is on the log).
   * A new write route is one line: `await context.appendAndAwait(reply, topic, records)`, for
   * records on a topic the projector consumes (PROJECTED_TOPICS): others would always time out.
   */
  appendAndAwait(reply: FastifyReply, topic: string, records: OutgoingRecord[]): Promise<void>;
  /** Bearer token with the scope, else 401/403. */
  authenticate(request: FastifyRequest, scope: Scope): Promise<TokenRow>;
  /** The organization in the path must be the token's: another organization's objects are 404. */
  organization(token: TokenRow, orgSlug: string): string;
  project(token: TokenRow, orgSlug: string, projectSlug: string): Promise<ProjectRow>;
  issue(token: TokenRow, id: number): Promise<{ group: GroupRow; project: ProjectRow }>;
  actor(token: TokenRow): string;
  /** Appends a command's records to trapline.admin (awaiting the projector, as appendAndAwait) and gives its value; a refusal is 400 (409 for a conflict). */
  decide<T>(reply: FastifyReply, decision: Decision<T>): Promise<T>;
}

export function apiContext(deps: Pick<ApiContext, 'readModel' | 'appender' | 'eventsTopic' | 'adminTopic' | 'publicUrl' | 'now' | 'visibility'>): ApiContext {
  const { readModel, appender, visibility } = deps;
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
      if (!match) throw new ApiError(401, 'Authentication credentials were not provided.');
      const token = await readModel.token(hashToken(match[1]!));
      if (!token || !token.active) throw new ApiError(401, 'Invalid token');
      if (!hasScope(token.scopes, scope)) throw new ApiError(403, 'You do not have permission to perform this action.');
      return token;
    },
    organization(token, orgSlug) {
      if (orgSlug !== token.organization_slug) throw new ApiError(404, NOT_FOUND);
      return orgSlug;
    },
    async project(token, orgSlug, projectSlug) {
      const project = await readModel.project(context.organization(token, orgSlug), projectSlug);
      if (!project) throw new ApiError(404, NOT_FOUND);
      return project;
    },
    async issue(token, id) {
      const group = await readModel.issue(id);
      const project = group && (await readModel.projectById(group.project_id));
      if (!group || !project || project.organization_slug !== token.organization_slug) throw new ApiError(404, NOT_FOUND);
      return { group, project };
    },
    actor: (token) => `token:${token.token_hash.slice(0, 12)}`,
    async decide(reply, decision) {
      if (!decision.ok) throw new ApiError(decision.conflict ? 409 : 400, decision.detail);
      await context.appendAndAwait(reply, deps.adminTopic, decision.records);
      return decision.value;
    },
  };
  return context;
}
