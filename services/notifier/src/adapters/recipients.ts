import type { Pool } from '@trapline/runtime';
import type { EmailAction, MemberFacts } from '@trapline/schemas';
import { emailRecipients, type Recipients } from '../domain/recipients.ts';

// Reads what decides an e-mail's recipients from the read models (the project's organization's
// memberships with their users' addresses, its teams with who is on them, the project's alert addresses); the decision
// is domain/recipients.ts.

export async function readRecipients(pool: Pool, projectId: number, action: EmailAction): Promise<Recipients> {
  const [members, teams, emails] = await Promise.all([
    pool.query<{ id: string; user_id: string | null; email: string | null; pending: boolean }>(
      `SELECT m.id, m.user_id, u.email, m.invite_token_hash IS NOT NULL AS pending
         FROM members m JOIN projects p ON p.organization_slug = m.organization_slug LEFT JOIN users u ON u.id = m.user_id
        WHERE p.id = $1 ORDER BY m.created_at, m.id`,
      [projectId],
    ),
    pool.query<{ id: string; slug: string; member_ids: string[] }>(
      `SELECT t.id::text AS id, t.slug, coalesce(array_agg(tm.member_id) FILTER (WHERE tm.member_id IS NOT NULL), '{}') AS member_ids
         FROM teams t JOIN projects p ON p.organization_slug = t.organization_slug
         LEFT JOIN team_members tm ON tm.team_id = t.id AND tm.organization_slug = t.organization_slug
        WHERE p.id = $1 GROUP BY t.id, t.slug`,
      [projectId],
    ),
    pool.query<{ emails: string[] }>('SELECT emails FROM project_alert_emails WHERE project_id = $1', [projectId]),
  ]);
  const facts: MemberFacts[] = members.rows.map((row) => ({ memberId: row.id, userId: row.user_id, email: row.email, pending: row.pending }));
  return emailRecipients(action, { members: facts, teams: teams.rows.map((row) => ({ teamId: row.id, slug: row.slug, memberIds: row.member_ids })), projectEmails: emails.rows[0]?.emails ?? [] });
}
