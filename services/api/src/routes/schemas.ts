import { z } from 'zod';
import { MAX_ALLOWED_ORIGINS, MAX_ORIGIN_PATTERN_LENGTH } from '@trapline/schemas';

// Request schemas of the routes: they validate, type the handlers and describe the OpenAPI
// document. Path parameters that fail them name nothing that exists: 404, like Sentry.

/** Free text that reaches Postgres or the log: Postgres refuses NUL in text, which must be a 4xx here, not a 500 there. */
const text = () => z.string().regex(/^[^\u0000]*$/, 'must not contain NUL characters');

export const orgParams = z.object({ org: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/).describe('organization slug') });
export const projectParams = orgParams.extend({ project: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/).describe('project slug') });
export const issueId = z.string().regex(/^\d{1,16}$/).describe('issue id');
export const issueParams = z.object({ id: issueId, org: orgParams.shape.org.optional() });
export const tagParams = issueParams.extend({ key: text().min(1).max(200) });
export const eventParams = projectParams.extend({ eventId: z.string().regex(/^[0-9a-fA-F-]{32,36}$/).describe('event id: 32 hex digits or a UUID') });
export const keyParams = projectParams.extend({ keyId: z.string().regex(/^[0-9a-f]{32}$/).describe('public part of the key') });
export const deletionParams = z.object({ transactionId: z.string().regex(/^[0-9a-f]{32}$/).describe('transaction id of a deletion request: 32 lowercase hex digits') });

const manyIds = z.union([issueId, z.array(issueId)]);

export const pageQuery = z.object({
  cursor: z.union([z.literal(''), z.string().regex(/^\d+:\d+:[01]$/)]).optional().describe('Sentry cursor from the Link header; empty for the first page'),
  per_page: z.string().regex(/^(100|[1-9]\d?)$/).optional().describe('1 to 100'),
  full: z.enum(['true', 'false']).optional().describe('full event bodies in event lists'),
});

/** The long lists (issues, events) page by keyset: the cursor names the row a page starts after. */
export const keysetPageQuery = pageQuery.extend({
  cursor: z.union([z.literal(''), z.string().regex(/^-?\d{1,19}:[0-9a-f]{1,64}:[01]$/)]).optional().describe('Sentry cursor from the Link header; empty for the first page'),
});

/** An issue's values of one tag: most frequent first; the cursor carries the value base64url-encoded. */
export const tagValuesQuery = pageQuery.omit({ full: true }).extend({
  cursor: z.union([z.literal(''), z.string().regex(/^\d{1,19}:[A-Za-z0-9_-]{0,400}:[01]$/)]).optional().describe('Sentry cursor from the Link header; empty for the first page'),
});

export const issueListQuery = keysetPageQuery.extend({
  query: text().max(1000).optional().describe('Sentry search, e.g. is:unresolved level:error release:web@1 free text; default is:unresolved'),
  sort: z.enum(['date', 'new', 'freq', 'user']).optional(),
  statsPeriod: z.union([z.literal(''), z.string().regex(/^\d+[smhdw]$/)]).optional().describe('e.g. 24h, 14d'),
  groupStatsPeriod: z.enum(['', '24h', '14d', 'auto']).optional().describe('event counts per issue in `stats`: 24 hourly (24h, auto) or 14 daily (14d) buckets; none by default'),
  project: manyIds.optional().describe('project ids (organization issues)'),
  id: manyIds.optional().describe('issue ids (bulk updates)'),
});

export const auditLogQuery = pageQuery.omit({ full: true }).extend({
  event: text().max(100).optional().describe('only entries of this event, e.g. issue.delete (an unknown name matches nothing, as in Sentry)'),
  actor: text().max(200).optional().describe('only entries of this actor id, e.g. token:0123456789ab or system:retention'),
});

// `muted` is the older name of `ignored` (sentry-cli still sends it); `resolvedInNextRelease` resolves now.
export const statusBody = z.looseObject({ status: z.enum(['resolved', 'unresolved', 'ignored', 'muted', 'resolvedInNextRelease']) });
export const keyCreateBody = z.object({ name: text().min(1).max(200).optional() }).optional();
/**
 * Sentry's project update; Trapline reads `allowedDomains` (Sentry's origin patterns; null: the
 * default ["*"]) and its own `retentionDays` (null: the deployment default), at least one of them.
 */
export const projectUpdateBody = z
  .looseObject({
    retentionDays: z.number().positive().max(36500).nullable().optional(),
    allowedDomains: z.array(text().max(MAX_ORIGIN_PATTERN_LENGTH)).max(MAX_ALLOWED_ORIGINS).nullable().optional().describe('origins whose browser SDKs may post: *, example.com, *.example.com, https://example.com[:port]'),
  })
  .refine((body) => body.retentionDays !== undefined || body.allowedDomains !== undefined, { message: 'give retentionDays or allowedDomains' });
export const keyUpdateBody = z.object({ name: text().min(1).max(200).optional(), isActive: z.boolean().optional() });

export const asList = (value: string | string[] | undefined): string[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
export const normalizeEventId = (id: string) => id.replaceAll('-', '').toLowerCase();
