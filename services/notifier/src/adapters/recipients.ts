import type { Pool } from '@trapline/runtime';
import type { EmailAction, MemberFacts } from '@trapline/schemas';
import { emailRecipients, factsRead, type Recipients, type TeamWithMembers } from '../domain/recipients.ts';

// Reads what decides an e-mail's recipients from the read models (the project's organization's
// memberships with their users' addresses, its teams with who is on them, the project's alert
// addresses), each only when the action's target reads it; the decision is domain/recipients.ts.

async function readMembers(pool: Pool, projectId: number): Promise<MemberFacts[]> {
  const result = await pool.query<{ id: string; user_id: string | null; email: string | null; pending: boolean }>(
    `SELECT m.id, m.user_id, u.email, m.invite_token_hash IS NOT NULL AS pending
       FROM members m JOIN projects p ON p.organization_slug = m.organization_slug LEFT JOIN users u ON u.id = m.user_id
      WHERE p.id = $1 ORDER BY m.created_at, m.id`,
    [projectId],
  );
  return result.rows.map((row) => ({ memberId: row.id, userId: row.user_id, email: row.email, pending: row.pending }));
}

async function readTeams(pool: Pool, projectId: number): Promise<TeamWithMembers[]> {
  const result = await pool.query<{ id: string; slug: string; member_ids: string[] }>(
    `SELECT t.id::text AS id, t.slug, coalesce(array_agg(tm.member_id) FILTER (WHERE tm.member_id IS NOT NULL), '{}') AS member_ids
       FROM teams t JOIN projects p ON p.organization_slug = t.organization_slug
       LEFT JOIN team_members tm ON tm.team_id = t.id AND tm.organization_slug = t.organization_slug
      WHERE p.id = $1 GROUP BY t.id, t.slug`,
    [projectId],
  );
  return result.rows.map((row) => ({ teamId: row.id, slug: row.slug, memberIds: row.member_ids }));
}

async function readProjectEmails(pool: Pool, projectId: number): Promise<string[]> {
  const result = await pool.query<{ emails: string[] }>('SELECT emails FROM project_alert_emails WHERE project_id = $1', [projectId]);
  return result.rows[0]?.emails ?? [];
}

/**
 * A read made once for the sends of one chunk (they run at once, so each would read the same):
 * `key` names the read and its parameters. The results are shared, and read only.
 */
export type ReadOnce = <T>(key: string, read: () => Promise<T>) => Promise<T>;

export const readEachTime: ReadOnce = (_key, read) => read();

export async function readRecipients(pool: Pool, projectId: number, action: EmailAction, once: ReadOnce = readEachTime): Promise<Recipients> {
  const read = factsRead(action);
  const [members, teams, projectEmails] = await Promise.all([
    once(`members/${projectId}`, () => readMembers(pool, projectId)),
    read.teams ? once(`teams/${projectId}`, () => readTeams(pool, projectId)) : [],
    read.projectEmails ? once(`project-emails/${projectId}`, () => readProjectEmails(pool, projectId)) : [],
  ]);
  return emailRecipients(action, { members, teams, projectEmails });
}
