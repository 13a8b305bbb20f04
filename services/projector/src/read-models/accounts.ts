import type { PoolClient } from '@trapline/runtime';
import type { DomainRecord } from '@trapline/schemas';

// Users, organization members (invitations included) and users' own tokens, from the admin topic;
// a removed one (or a team membership) is a null value under its key (applyRemoval).

type AccountRecord = Extract<DomainRecord, { name: 'UserUpserted' | 'MemberUpserted' | 'UserTokenUpserted' }>;

const toDate = (epochMs: number) => new Date(epochMs);

export async function applyAccounts(db: PoolClient, record: AccountRecord): Promise<void> {
  switch (record.name) {
    case 'UserUpserted': {
      const { userId, email, name, passwordHash, createdAt } = record.value;
      await db.query(
        `INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, password_hash = EXCLUDED.password_hash`,
        [userId, email, name, passwordHash, toDate(createdAt)],
      );
      return;
    }
    case 'MemberUpserted': {
      const { memberId, organizationSlug, userId, email, role, inviteTokenHash, inviteExpiresAt, invitedBy, createdAt } = record.value;
      await db.query(
        `INSERT INTO members (id, organization_slug, user_id, email, role, invite_token_hash, invite_expires_at, invited_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, email = EXCLUDED.email, role = EXCLUDED.role, invite_token_hash = EXCLUDED.invite_token_hash, invite_expires_at = EXCLUDED.invite_expires_at`,
        [memberId, organizationSlug, userId, email, role, inviteTokenHash, inviteExpiresAt === null ? null : toDate(inviteExpiresAt), invitedBy, toDate(createdAt)],
      );
      return;
    }
    case 'UserTokenUpserted': {
      const { tokenId, tokenHash, userId, scopes, label, active, createdAt } = record.value;
      await db.query(
        `INSERT INTO user_tokens (id, token_hash, user_id, scopes, label, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET scopes = EXCLUDED.scopes, label = EXCLUDED.label, active = EXCLUDED.active`,
        [tokenId, tokenHash, userId, scopes, label, active, toDate(createdAt)],
      );
    }
  }
}

/**
 * Admin entities whose removal is a null-value record under their key (compaction then erases
 * them): the key's pattern, and the statements its captures feed. A removed member leaves every
 * team too, whether or not the null values of its team memberships follow.
 */
const REMOVABLE: readonly { key: RegExp; sql: readonly string[] }[] = [
  { key: /^user\/([^/]+)$/, sql: ['DELETE FROM users WHERE id = $1'] },
  { key: /^member\/([^/]+)$/, sql: ['DELETE FROM members WHERE id = $1', 'DELETE FROM team_members WHERE member_id = $1'] },
  { key: /^user-token\/([^/]+)$/, sql: ['DELETE FROM user_tokens WHERE id = $1'] },
  { key: /^team\/(\d+)\/member\/([^/]+)$/, sql: ['DELETE FROM team_members WHERE team_id = $1 AND member_id = $2'] },
];

/** A null-value record on the admin topic: removes the entity its key names; other keys have no row to remove. */
export async function applyRemoval(db: PoolClient, key: string): Promise<void> {
  for (const entity of REMOVABLE) {
    const captured = entity.key.exec(key);
    if (!captured) continue;
    for (const sql of entity.sql) await db.query(sql, captured.slice(1));
    return;
  }
}
