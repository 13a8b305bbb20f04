import type { FastifyReply, FastifyRequest } from 'fastify';
import { linkHeader, parseCursor } from '../domain/search.ts';
import { ApiError } from './context.ts';

/** Offset and limit from `cursor` and `per_page`/`limit`, and the Link header for the answer. */
export function page(request: FastifyRequest, defaultLimit = 100) {
  const query = request.query as Record<string, string | undefined>;
  const cursor = parseCursor(query.cursor);
  if (!cursor) throw new ApiError(400, 'Invalid cursor parameter.');
  const limitText = query.per_page ?? query.limit;
  const limit = limitText === undefined ? defaultLimit : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ApiError(400, 'per_page must be an integer between 1 and 100.');
  return {
    offset: cursor.offset,
    limit,
    link(reply: FastifyReply, publicUrl: string, hasNext: boolean) {
      void reply.header('link', linkHeader(new URL(request.url, publicUrl), cursor.offset, limit, hasNext));
    },
  };
}
