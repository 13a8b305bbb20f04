import { randomBytes } from 'node:crypto';
import type { MemberRow, OutgoingRecord, Pool } from '@trapline/runtime';
import type { MemberUpserted } from '@trapline/schemas';
import { decideRemoval, hashPassword, isRole, memberKey, memberRemovalRecords, newInvitation, newUser, normalizeEmail, type Role, userKey, userTokenKey } from '@trapline/api';
import { AdminError, waitProjected, type AdminDeps } from './admin.ts';

// Operator commands for people: users (with a generated password, shown once) and organization
// members. They write the same records the API writes and wait until the projector applied them.

/** 24 characters from a 144-bit random value: shown once, kept only as its argon2id hash. */
export const generatePassword = () => randomBytes(18).toString('base64url');

const email = (raw: string) => {
  const normalized = normalizeEmail(raw);
  if (!normalized) throw new AdminError(`invalid email ${JSON.stringify(raw)}`);
  return normalized;
};
const role = (raw: string): Role => {
  if (!isRole(raw)) throw new AdminError(`unknown role ${JSON.stringify(raw)} (owner, manager, admin, member)`);
  return raw;
};

interface UserWithHash {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  created_at: Date;
}

const userByEmail = async (pool: Pool, address: string) => (await pool.query<UserWithHash>('SELECT id, email, name, password_hash, created_at FROM users WHERE lower(email) = lower($1)', [address])).rows[0];
const organizationExists = async (pool: Pool, slug: string) => ((await pool.query('SELECT 1 FROM organizations WHERE slug = $1', [slug])).rowCount ?? 0) > 0;

/** A user with a password (generated unless given), optionally a member of an organization with a role. */
export async function createUser(deps: AdminDeps, input: { email: string; name?: string; password?: string; organization?: string; role?: string }) {
  const address = email(input.email);
  if (await userByEmail(deps.pool, address)) throw new AdminError(`a user with email ${address} exists`);
  if (input.organization !== undefined && !(await organizationExists(deps.pool, input.organization))) throw new AdminError(`no organization ${input.organization}`);
  const password = input.password ?? generatePassword();
  const now = (deps.now ?? Date.now)();
  const user = newUser({ email: address, name: input.name ?? '', passwordHash: await hashPassword(password), now });
  const records: OutgoingRecord[] = [{ key: userKey(user.userId), name: 'UserUpserted', value: user }];
  if (input.organization !== undefined) {
    const member: MemberUpserted = { ...newInvitation({ organizationSlug: input.organization, email: address, role: role(input.role ?? 'member'), invitedBy: 'cli', now }).record, userId: user.userId, inviteTokenHash: null, inviteExpiresAt: null };
    records.push({ key: memberKey(member.memberId), name: 'MemberUpserted', value: member });
  }
  await deps.appender.append(deps.adminTopic, records);
  await waitProjected(deps.pool, `SELECT 1 FROM users WHERE id = $1 AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM members WHERE user_id = $1 AND organization_slug = $2))`, [user.userId, input.organization ?? null]);
  return { userId: user.userId, email: address, password };
}

export async function listUsers(pool: Pool) {
  return (await pool.query<{ id: string; email: string; name: string; organizations: string }>(
    `SELECT u.id, u.email, u.name, COALESCE(string_agg(m.organization_slug || ':' || m.role, ', ' ORDER BY m.organization_slug), '') AS organizations
     FROM users u LEFT JOIN members m ON m.user_id = u.id GROUP BY u.id ORDER BY u.created_at, u.id`,
  )).rows;
}

/** A new generated password for an existing user: the old one stops working once projected. */
export async function resetPassword(deps: AdminDeps, rawEmail: string) {
  const user = await userByEmail(deps.pool, email(rawEmail));
  if (!user) throw new AdminError(`no user with email ${rawEmail}`);
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  await deps.appender.append(deps.adminTopic, [{ key: userKey(user.id), name: 'UserUpserted', value: { userId: user.id, email: user.email, name: user.name, passwordHash, createdAt: user.created_at.getTime() } }]);
  await waitProjected(deps.pool, 'SELECT 1 FROM users WHERE id = $1 AND password_hash = $2', [user.id, passwordHash]);
  return { email: user.email, password };
}

const MEMBER_COLUMNS = 'm.id, m.organization_slug, m.user_id, m.email, m.role, m.invite_token_hash, m.invite_expires_at, m.invited_by, m.created_at, NULL AS user_name';

async function ownersOf(pool: Pool, organization: string): Promise<number> {
  return (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM members m JOIN users u ON u.id = m.user_id WHERE m.organization_slug = $1 AND m.role = 'owner'", [organization])).rows[0]!.n;
}

/** The one rule the API also keeps: no organization loses its last owner (an operator acts as an owner). */
async function checkRemovable(pool: Pool, member: MemberRow) {
  const decision = decideRemoval({ role: 'owner', canWrite: true, canAdmin: true, memberId: null }, { memberId: member.id, role: role(member.role), pending: member.user_id === null, owners: await ownersOf(pool, member.organization_slug) });
  if (!decision.ok) throw new AdminError(`${member.email} is the last owner of ${member.organization_slug}: make someone else an owner first`);
}

/** Removes the user (a null-value record: compaction erases the hash), their memberships and their tokens. */
export async function removeUser(deps: AdminDeps, rawEmail: string) {
  const user = await userByEmail(deps.pool, email(rawEmail));
  if (!user) throw new AdminError(`no user with email ${rawEmail}`);
  const members = (await deps.pool.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.user_id = $1`, [user.id])).rows;
  for (const member of members) await checkRemovable(deps.pool, member);
  const tokens = (await deps.pool.query<{ id: string }>('SELECT id FROM user_tokens WHERE user_id = $1', [user.id])).rows;
  const removals = await Promise.all(members.map(async (member) => memberRemovalRecords(member.id, await teamsOf(deps.pool, member.id))));
  await deps.appender.append(deps.adminTopic, [
    ...removals.flat(),
    ...tokens.map((token) => ({ key: userTokenKey(token.id), tombstone: true as const })),
    { key: userKey(user.id), tombstone: true },
  ]);
  await waitProjected(deps.pool, 'SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = $1)', [user.id]);
  return { email: user.email, memberships: members.length, tokens: tokens.length };
}

/** A pending invitation; the link (with its single-use token) is returned once. */
export async function inviteMember(deps: AdminDeps, organization: string, rawEmail: string, rawRole: string, publicUrl: string) {
  const address = email(rawEmail);
  if (!(await organizationExists(deps.pool, organization))) throw new AdminError(`no organization ${organization}`);
  if (((await deps.pool.query('SELECT 1 FROM members WHERE organization_slug = $1 AND lower(email) = $2', [organization, address])).rowCount ?? 0) > 0) throw new AdminError(`${address} is already a member of ${organization} or invited`);
  const { record, token } = newInvitation({ organizationSlug: organization, email: address, role: role(rawRole), invitedBy: 'cli', now: (deps.now ?? Date.now)() });
  await deps.appender.append(deps.adminTopic, [{ key: memberKey(record.memberId), name: 'MemberUpserted', value: record }]);
  await waitProjected(deps.pool, 'SELECT 1 FROM members WHERE id = $1', [record.memberId]);
  return { memberId: record.memberId, email: address, role: record.role, link: `${publicUrl.replace(/\/$/, '')}/accept/${record.memberId}/${token}/` };
}

export async function listMembers(pool: Pool, organization: string) {
  return (await pool.query<{ id: string; email: string; name: string; role: string; status: string }>(
    `SELECT m.id, m.email, COALESCE(u.name, '') AS name, m.role, CASE WHEN m.user_id IS NULL THEN 'invited' ELSE 'member' END AS status
     FROM members m LEFT JOIN users u ON u.id = m.user_id WHERE m.organization_slug = $1 AND (m.user_id IS NULL OR u.id IS NOT NULL) ORDER BY m.created_at, m.id`,
    [organization],
  )).rows;
}

/** The teams a member is on. */
async function teamsOf(pool: Pool, memberId: string): Promise<number[]> {
  return (await pool.query<{ team_id: number }>('SELECT team_id FROM team_members WHERE member_id = $1', [memberId])).rows.map((row) => Number(row.team_id));
}

export async function removeMember(deps: AdminDeps, organization: string, rawEmail: string) {
  const member = (await deps.pool.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM members m WHERE m.organization_slug = $1 AND lower(m.email) = $2`, [organization, email(rawEmail)])).rows[0];
  if (!member) throw new AdminError(`${rawEmail} is not a member of ${organization}`);
  await checkRemovable(deps.pool, member);
  await deps.appender.append(deps.adminTopic, memberRemovalRecords(member.id, await teamsOf(deps.pool, member.id)));
  await waitProjected(deps.pool, 'SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM members WHERE id = $1)', [member.id]);
}

/** The first owner, if no organization has one: its email, and a password only when made now. */
export async function ensureFirstOwner(deps: AdminDeps, organization: string): Promise<{ email: string; password?: string }> {
  const existing = (await deps.pool.query<{ email: string }>(
    "SELECT u.email FROM members m JOIN users u ON u.id = m.user_id WHERE m.role = 'owner' ORDER BY (m.organization_slug = $1) DESC, m.created_at LIMIT 1",
    [organization],
  )).rows[0];
  if (existing) return { email: existing.email };
  const created = await createUser(deps, { email: `owner@${organization}.local`, name: 'Owner', organization, role: 'owner' });
  return { email: created.email, password: created.password };
}
