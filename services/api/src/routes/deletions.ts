import { serializeDeletion } from '../domain/audit.ts';
import { ApiError, NOT_FOUND, type ApiContext, type ZodApp } from './context.ts';
import { deletionParams } from './schemas.ts';
import { deletionAnswer, refusals } from '../domain/answers.ts';

// A deletion request's progress, by the transaction id that DELETE answered with, and its
// audit trail. Another organization's deletion is as unknown as a missing one: 404.

const tags = ['deletions'];

export function deletionRoutes(app: ZodApp, context: ApiContext): void {
  const { readModel } = context;

  app.get('/api/0/deletions/:transactionId/', { schema: { tags, summary: "A deletion's status, progress and audit trail", params: deletionParams, response: { 200: deletionAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'event:read');
    const deletion = await readModel.deletion(request.params.transactionId);
    if (!deletion || !context.organizations(token).includes(deletion.organization_slug)) throw new ApiError(404, NOT_FOUND);
    const trail = await readModel.auditTrail(deletion.organization_slug, deletion.transaction_id);
    return serializeDeletion(deletion, trail, await readModel.accounts.actorUsers([deletion.actor, ...trail.map((row) => row.actor)]));
  });
}
