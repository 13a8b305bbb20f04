import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Appender } from '@trapline/runtime';
import type { ReadModel, TokenRow } from '../adapters/read-model.ts';
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

export const slug = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/);
export const numericId = z.string().regex(/^\d{1,16}$/).transform(Number);
export const eventId = z.string().regex(/^[0-9a-fA-F-]{32,36}$/).transform((id) => id.replaceAll('-', '').toLowerCase());

/** Path parameters that do not parse name nothing that exists: 404, like Sentry. */
export function parsePath<T>(schema: z.ZodType<T>, value: unknown, notFound = NOT_FOUND): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError(404, notFound);
  return parsed.data;
}

export interface ApiContext {
  readModel: ReadModel;
  appender: Appender;
  eventsTopic: string;
  publicUrl: string;
  now: () => number;
  /** Bearer token with the scope, else 401/403. */
  authenticate(request: FastifyRequest, scope: Scope): Promise<TokenRow>;
  /** The organization in the path must be the token's: another organization's objects are 404. */
  organization(token: TokenRow, orgSlug: string): string;
  project(token: TokenRow, orgSlug: string, projectSlug: string): Promise<ProjectRow>;
  issue(token: TokenRow, id: string): Promise<{ group: GroupRow; project: ProjectRow }>;
  actor(token: TokenRow): string;
}

export function apiContext(deps: Pick<ApiContext, 'readModel' | 'appender' | 'eventsTopic' | 'publicUrl' | 'now'>): ApiContext {
  const { readModel } = deps;
  const context: ApiContext = {
    ...deps,
    async authenticate(request, scope) {
      const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
      if (!match) throw new ApiError(401, 'Authentication credentials were not provided.');
      const token = await readModel.token(hashToken(match[1]!));
      if (!token || !token.active) throw new ApiError(401, 'Invalid token');
      if (!hasScope(token.scopes, scope)) throw new ApiError(403, 'You do not have permission to perform this action.');
      return token;
    },
    organization(token, orgSlug) {
      const org = parsePath(slug, orgSlug);
      if (org !== token.organization_slug) throw new ApiError(404, NOT_FOUND);
      return org;
    },
    async project(token, orgSlug, projectSlug) {
      const project = await readModel.project(context.organization(token, orgSlug), parsePath(slug, projectSlug));
      if (!project) throw new ApiError(404, NOT_FOUND);
      return project;
    },
    async issue(token, id) {
      const group = await readModel.issue(parsePath(numericId, id));
      const project = group && (await readModel.projectById(group.project_id));
      if (!group || !project || project.organization_slug !== token.organization_slug) throw new ApiError(404, NOT_FOUND);
      return { group, project };
    },
    actor: (token) => `token:${token.token_hash.slice(0, 12)}`,
  };
  return context;
}
