import type { FastifyReply, FastifyRequest } from 'fastify';
import { linkHeader, parseCursor } from '../domain/search.ts';

/** Offset and limit from the (schema-validated) `cursor` and `per_page`, and the Link header for the answer. */
export function page(request: FastifyRequest, query: { cursor?: string | undefined; per_page?: string | undefined }, defaultLimit = 100) {
  const offset = parseCursor(query.cursor)?.offset ?? 0;
  const limit = query.per_page === undefined ? defaultLimit : Number(query.per_page);
  return {
    offset,
    limit,
    link(reply: FastifyReply, publicUrl: string, hasNext: boolean) {
      void reply.header('link', linkHeader(new URL(request.url, publicUrl), offset, limit, hasNext));
    },
  };
}
