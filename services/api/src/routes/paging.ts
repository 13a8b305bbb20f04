import type { FastifyReply, FastifyRequest } from 'fastify';
import { keysetLinkHeader, keysetPage, parseKeysetCursor } from '../domain/keyset.ts';
import { linkHeader, parseCursor } from '../domain/search.ts';
import { ApiError } from './context.ts';

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

/**
 * The page a keyset cursor names (400 for a malformed one), and the answer's rows and Link header
 * from the rows read (each carrying its `sort_value`).
 */
export function keysetPaging(request: FastifyRequest, query: { cursor?: string | undefined; per_page?: string | undefined }, keyPattern: RegExp, defaultLimit = 100) {
  const parsed = parseKeysetCursor(query.cursor, keyPattern);
  if (!parsed.ok) throw new ApiError(400, parsed.detail);
  const { cursor } = parsed;
  const limit = query.per_page === undefined ? defaultLimit : Number(query.per_page);
  return {
    cursor,
    limit,
    finish<T extends { sort_value: string }>(reply: FastifyReply, publicUrl: string, rows: T[], keyOf: (row: T) => string): T[] {
      const shown = keysetPage(rows, limit, cursor, (row) => ({ value: row.sort_value, key: keyOf(row) }));
      void reply.header('link', keysetLinkHeader(new URL(request.url, publicUrl), shown.previous, shown.next));
      return shown.rows;
    },
  };
}
