import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './app.ts';

// The API's public entry: the app, and the pure decisions the `trapline` command shares with it
// (tokens, commands, accounts, roles, team memberships). The HTTP app (fastify, every route and
// its schemas) is loaded only when it is built, so a CLI command that only decides records does
// not pay for it.

export type { ApiDeps };

export async function buildApiApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = await import('./app.ts');
  return app.buildApiApp(deps);
}

export * as commands from './domain/commands.ts';
export type { Decision } from './domain/commands.ts';
export { teamId } from './domain/commands.ts';
export { hashToken, newToken, SCOPES, type Scope } from './domain/tokens.ts';
export { memberKey, newInvitation, newUser, normalizeEmail, userKey, userTokenKey } from './domain/accounts.ts';
export { hashPassword } from './domain/passwords.ts';
export { decideRemoval, isRole, type Role } from './domain/roles.ts';
export { memberRemovalRecords } from './domain/team-members.ts';
