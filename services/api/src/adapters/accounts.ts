import type { MemberRow, Pool, UserRow, UserTokenRow } from '@trapline/runtime';

// Queries over the users, members and user_tokens read models (the projector writes them). The
// password hash leaves Postgres only through `credentials`, for sign-in's verification.

const MEMBER_COLUMNS = `m.id, m.organization_slug, m.user_id, m.email, m.role, m.invite_token_hash, m.invite_expires_at, m.invited_by, m.created_at, u.name AS user_name, u.created_at AS user_created_at`;
/** A membership whose user was removed is no membership. */
const MEMBERS = 'members m LEFT JOIN users u ON u.id = m.user_id WHERE (m.user_id IS NULL OR u.id IS NOT NULL)';

export class AccountsReadModel {
  constructor(private readonly pool: Pool) {}

  async user(userId: string): Promise<UserRow | undefined> {
    return (await this.pool.query<UserRow>('SELECT id, email, name, created_at FROM users WHERE id = $1', [userId])).rows[0];
  }

  async userByEmail(email: string): Promise<UserRow | undefined> {
    return (await this.pool.query<UserRow>('SELECT id, email, name, created_at FROM users WHERE lower(email) = lower($1)', [email])).rows[0];
  }

  /** For verifying a password, and nothing else. */
  async credentials(email: string): Promise<{ id: string; password_hash: string | null } | undefined> {
    return (await this.pool.query<{ id: string; password_hash: string | null }>('SELECT id, password_hash FROM users WHERE lower(email) = lower($1)', [email])).rows[0];
  }

  /** The user with their hash, to restate the record when only the name changes. */
  async userRecord(userId: string): Promise<(UserRow & { password_hash: string | null }) | undefined> {
    return (await this.pool.query<UserRow & { password_hash: string | null }>('SELECT id, email, name, password_hash, created_at FROM users WHERE id = $1', [userId])).rows[0];
  }

  /** The users named by `user:<id>` actors. */
  async actorUsers(actors: readonly string[]): Promise<Map<string, UserRow>> {
    const ids = [...new Set(actors.filter((actor) => actor.startsWith('user:')).map((actor) => actor.slice('user:'.length)))];
    if (ids.length === 0) return new Map();
    const rows = (await this.pool.query<UserRow>('SELECT id, email, name, created_at FROM users WHERE id = ANY($1)', [ids])).rows;
    return new Map(rows.map((row) => [row.id, row]));
  }

  async users(): Promise<UserRow[]> {
    return (await this.pool.query<UserRow>('SELECT id, email, name, created_at FROM users ORDER BY created_at, id')).rows;
  }

  async hasOwner(): Promise<boolean> {
    return ((await this.pool.query(`SELECT 1 FROM ${MEMBERS} AND m.role = 'owner' AND m.user_id IS NOT NULL LIMIT 1`)).rowCount ?? 0) > 0;
  }

  /** The user's accepted memberships: organization → role. */
  async memberships(userId: string): Promise<MemberRow[]> {
    return (await this.pool.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM ${MEMBERS} AND m.user_id = $1 ORDER BY m.organization_slug`, [userId])).rows;
  }

  /** Every member of an organization, pending invitations included. */
  async members(organizationSlug: string): Promise<MemberRow[]> {
    return (await this.pool.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM ${MEMBERS} AND m.organization_slug = $1 ORDER BY m.created_at, m.id`, [organizationSlug])).rows;
  }

  async member(organizationSlug: string, memberId: string): Promise<MemberRow | undefined> {
    return (await this.pool.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM ${MEMBERS} AND m.organization_slug = $1 AND m.id = $2`, [organizationSlug, memberId])).rows[0];
  }

  /** Every membership of a user or invitation to an email, across organizations (for removing a user). */
  async membersOf(userId: string, email: string): Promise<MemberRow[]> {
    return (await this.pool.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM members m LEFT JOIN users u ON u.id = m.user_id WHERE m.user_id = $1 OR (m.user_id IS NULL AND lower(m.email) = lower($2))`, [userId, email])).rows;
  }

  /** The accepted members on a team, with their team role as set (null: the minimum), by e-mail as Sentry lists them. */
  async teamMembers(teamId: number): Promise<(MemberRow & { team_role: string | null })[]> {
    return (
      await this.pool.query<MemberRow & { team_role: string | null }>(
        `SELECT ${MEMBER_COLUMNS}, tm.team_role FROM team_members tm JOIN members m ON m.id = tm.member_id AND m.organization_slug = tm.organization_slug JOIN users u ON u.id = m.user_id
          WHERE tm.team_id = $1 AND m.invite_token_hash IS NULL ORDER BY m.email, m.id`,
        [teamId],
      )
    ).rows;
  }

  /** The teams a member is on, by slug, with the team role as set. */
  async memberTeams(memberId: string): Promise<{ team_id: number; slug: string; team_role: string | null }[]> {
    return (
      await this.pool.query<{ team_id: number; slug: string; team_role: string | null }>(
        'SELECT t.id AS team_id, t.slug, tm.team_role FROM team_members tm JOIN teams t ON t.id = tm.team_id AND t.organization_slug = tm.organization_slug WHERE tm.member_id = $1 ORDER BY t.slug',
        [memberId],
      )
    ).rows;
  }

  async invitation(tokenHash: string): Promise<MemberRow | undefined> {
    return (await this.pool.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM ${MEMBERS} AND m.invite_token_hash = $1 AND m.user_id IS NULL`, [tokenHash])).rows[0];
  }

  async userToken(tokenHash: string): Promise<UserTokenRow | undefined> {
    return (await this.pool.query<UserTokenRow>('SELECT id, token_hash, user_id, scopes, label, active, created_at FROM user_tokens WHERE token_hash = $1', [tokenHash])).rows[0];
  }

  async userTokens(userId: string): Promise<UserTokenRow[]> {
    return (await this.pool.query<UserTokenRow>('SELECT id, token_hash, user_id, scopes, label, active, created_at FROM user_tokens WHERE user_id = $1 AND active ORDER BY created_at, id', [userId])).rows;
  }
}
