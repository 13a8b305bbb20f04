import type { Pool } from '@trapline/runtime';
import type { Action } from '@trapline/schemas';

// Who an e-mail action goes to. Until the organization's members exist, every target type
// (IssueOwners, Team, Member) resolves to the addresses configured on the project
// (PUT /api/0/projects/{org}/{project}/alert-emails/); a Member target naming one of those
// addresses gets that one alone. This one function is what to point at the members read model.

export async function emailRecipients(pool: Pool, projectId: number, action: Extract<Action, { id: 'sentry.mail.actions.NotifyEmailAction' }>): Promise<string[]> {
  const result = await pool.query<{ emails: string[] }>('SELECT emails FROM project_alert_emails WHERE project_id = $1', [projectId]);
  const emails = result.rows[0]?.emails ?? [];
  if (action.targetType === 'Member' && action.targetIdentifier !== null && emails.includes(action.targetIdentifier)) return [action.targetIdentifier];
  return emails;
}
