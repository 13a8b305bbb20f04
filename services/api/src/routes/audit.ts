import { AUDIT_EVENTS, serializeAuditEntry } from '../domain/audit.ts';
import type { ApiContext, ZodApp } from './context.ts';
import { page } from './paging.ts';
import { auditLogQuery, orgParams } from './schemas.ts';
import { auditLogAnswer, refusals } from '../domain/answers.ts';

// The organization's audit log in Sentry's shape: `{ rows, options }`, newest first, with
// Sentry's cursors. Sentry asks `org:write` for it (OrganizationAuditPermission), so do we.

const tags = ['audit'];

export function auditRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel, publicUrl } = context;

  app.get('/api/0/organizations/:org/audit-logs/', { schema: { tags, summary: "List an organization's audit log", params: orgParams, querystring: auditLogQuery, response: { 200: auditLogAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'org:write');
    const org = context.organization(token, request.params.org);
    const paging = page(request, request.query, 100);
    const { rows, hasNext } = await readModel.auditLog(org, { event: request.query.event, actor: request.query.actor }, paging);
    paging.link(reply, publicUrl, hasNext);
    const users = await readModel.accounts.actorUsers(rows.map((row) => row.actor));
    return { rows: rows.map((row) => serializeAuditEntry(row, users)), options: [...AUDIT_EVENTS] };
  });
}
