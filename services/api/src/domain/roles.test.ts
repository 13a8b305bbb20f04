import { describe, expect, it } from 'vitest';
import { decideInvite, decideRemoval, decideRoleChange, isRole, MEMBER_REFUSALS, roleGrants, roleOfScopes, ROLE_SCOPES, ROLES, type MemberActor, type MemberFacts, type Role } from './roles.ts';
import { SCOPES, type Scope } from './tokens.ts';

const actor = (role: Role | null, memberId: string | null = 'me'): MemberActor => ({
  role,
  canWrite: role !== null && roleGrants(role, 'member:write', null),
  canAdmin: role !== null && roleGrants(role, 'member:admin', null),
  memberId,
});
const target = (role: Role, owners = 2, memberId = 'them', pending = false): MemberFacts => ({ memberId, role, owners, pending });

describe("Sentry's roles", () => {
  it.each<[Role, Scope, boolean]>([
    ['member', 'event:admin', true],
    ['member', 'project:read', true],
    ['member', 'project:write', false],
    ['member', 'member:write', false],
    ['member', 'org:write', false],
    ['admin', 'project:admin', true],
    ['admin', 'member:write', false],
    ['admin', 'org:write', false],
    ['manager', 'member:admin', true],
    ['manager', 'org:write', true],
    ['manager', 'org:admin', false],
    ['owner', 'org:admin', true],
  ])('%s has %s: %s', (role, scope, granted) => {
    expect(roleGrants(role, scope, null)).toBe(granted);
  });

  it('caps a role by a user token\'s scopes, and a token by its role', () => {
    expect(roleGrants('owner', 'event:admin', ['event:read'])).toBe(false);
    expect(roleGrants('owner', 'event:read', ['event:read'])).toBe(true);
    expect(roleGrants('member', 'project:write', ['project:admin'])).toBe(false);
  });

  it.each<[readonly string[], Role | null]>([
    [SCOPES, 'owner'],
    [['org:write', 'member:admin', 'project:admin', 'event:admin'], 'manager'],
    [['org:read', 'member:read', 'project:read', 'event:admin'], 'member'],
    [['event:read'], null],
  ])('an organization token with %j acts as %s', (scopes, role) => {
    expect(roleOfScopes(scopes)).toBe(role);
  });
});

describe('who may invite with which role', () => {
  it.each<[Role | null, Role, string]>([
    ['owner', 'owner', 'ok'],
    ['manager', 'manager', 'ok'],
    ['manager', 'owner', 'role_too_high'],
    ['manager', 'member', 'ok'],
    ['admin', 'member', 'not_allowed'],
    ['member', 'member', 'not_allowed'],
    [null, 'member', 'not_allowed'],
  ])('%s inviting a %s: %s', (by, role, outcome) => {
    const decision = decideInvite(actor(by), role);
    expect(decision.ok ? 'ok' : decision.reason).toBe(outcome);
  });
});

describe('who may change whose role', () => {
  it.each<[Role, MemberFacts, Role, string]>([
    ['owner', target('member'), 'owner', 'ok'],
    ['owner', target('owner', 1), 'manager', 'last_owner'],
    ['owner', target('owner', 2), 'manager', 'ok'],
    // The one owner is not the target: a member of an organization with a single owner.
    ['owner', target('member', 1), 'admin', 'ok'],
    ['manager', target('owner'), 'member', 'target_too_high'],
    ['manager', target('member'), 'owner', 'role_too_high'],
    ['manager', target('admin'), 'manager', 'ok'],
    ['admin', target('member'), 'admin', 'not_allowed'],
    ['member', target('member'), 'admin', 'not_allowed'],
  ])('%s changing %j to %s: %s', (by, who, role, outcome) => {
    const decision = decideRoleChange(actor(by), who, role);
    expect(decision.ok ? 'ok' : decision.reason).toBe(outcome);
  });
});

describe('who may remove whom', () => {
  it.each<[MemberActor, MemberFacts, string]>([
    [actor('owner'), target('member'), 'ok'],
    [actor('owner'), target('owner', 1), 'last_owner'],
    [actor('owner', 'them'), target('owner', 1), 'last_owner'],
    [actor('owner', 'them'), target('owner', 2), 'ok'],
    [actor('owner'), target('member', 1), 'ok'],
    [actor('admin', 'them'), target('admin', 1), 'ok'],
    [actor('member', 'them'), target('member'), 'ok'],
    [actor('member'), target('member'), 'not_allowed'],
    [actor('admin'), target('member'), 'not_allowed'],
    [actor('manager'), target('owner'), 'target_too_high'],
    [actor('manager'), target('manager'), 'ok'],
    [actor('manager'), target('owner', 1, 'them', true), 'target_too_high'],
    [actor('owner'), target('owner', 1, 'them', true), 'ok'],
  ])('%j removing %j: %s', (by, who, outcome) => {
    const decision = decideRemoval(by, who);
    expect(decision.ok ? 'ok' : decision.reason).toBe(outcome);
  });
});

describe('scopes and role apart: a user token capped below its role, an organization token of no role', () => {
  // An owner signed in with a user token that lacks member:write / member:admin, and an
  // organization token holding member:admin whose scopes amount to no role.
  const cappedOwner: MemberActor = { role: 'owner', canWrite: false, canAdmin: false, memberId: 'me' };
  const noRole: MemberActor = { role: null, canWrite: true, canAdmin: true, memberId: null };

  it.each<[string, MemberActor]>([['a capped owner', cappedOwner], ['a token of no role', noRole]])('%s may not invite, change a role or remove another', (_, by) => {
    expect(decideInvite(by, 'member')).toEqual({ ok: false, reason: 'not_allowed' });
    expect(decideRoleChange(by, target('member'), 'member')).toEqual({ ok: false, reason: 'not_allowed' });
    expect(decideRemoval(by, target('member'))).toEqual({ ok: false, reason: 'not_allowed' });
  });

  it('a capped owner may still leave', () => {
    expect(decideRemoval(cappedOwner, target('owner', 2, 'me'))).toEqual({ ok: true });
  });

  it('a manager with member:write but not member:admin invites but changes no role', () => {
    const writer: MemberActor = { role: 'manager', canWrite: true, canAdmin: false, memberId: 'me' };
    expect(decideInvite(writer, 'manager')).toEqual({ ok: true });
    expect(decideRoleChange(writer, target('member'), 'admin')).toEqual({ ok: false, reason: 'not_allowed' });
    expect(decideRemoval(writer, target('member'))).toEqual({ ok: false, reason: 'not_allowed' });
  });

  it('a last owner may be changed to owner (no change), and a pending owner is no last owner', () => {
    expect(decideRoleChange(actor('owner'), target('owner', 1), 'owner')).toEqual({ ok: true });
    expect(decideRoleChange(actor('owner'), target('owner', 0, 'them', true), 'member')).toEqual({ ok: true });
  });
});

describe('refusals', () => {
  it('answer with their status and detail, word for word', () => {
    expect(MEMBER_REFUSALS).toEqual({
      not_allowed: { status: 403, detail: 'You do not have permission to perform this action.' },
      role_too_high: { status: 400, detail: 'You do not have permission to grant that role.' },
      target_too_high: { status: 403, detail: 'You do not have permission to manage a member with a higher role than yours.' },
      last_owner: { status: 403, detail: 'An organization must keep at least one owner.' },
    });
  });

  it("has the roles in Sentry's order, lowest first, each with its scopes", () => {
    expect(ROLES).toEqual(['member', 'admin', 'manager', 'owner']);
    expect(ROLE_SCOPES).toEqual({
      member: ['org:read', 'member:read', 'project:read', 'event:admin'],
      admin: ['org:read', 'member:read', 'project:admin', 'event:admin'],
      manager: ['org:write', 'member:admin', 'project:admin', 'event:admin'],
      owner: ['org:admin', 'member:admin', 'project:admin', 'event:admin'],
    });
    expect(ROLES.filter(isRole)).toEqual(ROLES);
    expect(['billing', 'Owner', '', 'toString'].filter(isRole)).toEqual([]);
  });
});
