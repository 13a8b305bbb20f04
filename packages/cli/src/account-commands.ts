import type { Command } from 'commander';
import type { Pool } from '@trapline/runtime';
import { createUser, inviteMember, listMembers, listUsers, removeMember, removeUser, resetPassword } from './accounts.ts';
import type { AdminDeps } from './admin.ts';

// `trapline users …` and `trapline members …`. Passwords and invitation links are printed once
// and kept nowhere but as hashes.

export interface AccountCommandDeps {
  withAdmin<T>(work: (deps: AdminDeps) => Promise<T>): Promise<T>;
  withPool<T>(work: (pool: Pool) => Promise<T>): Promise<T>;
  printTable(rows: Record<string, unknown>[]): void;
  publicUrl(): string;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

export function accountCommands(program: Command, deps: AccountCommandDeps): void {
  const users = program.command('users').description('people who sign in (email and password)');
  users.command('create <email>').description('create a user with a generated password (printed once)')
    .option('--name <name>').option('--org <org>', 'also make them a member of this organization').option('--role <role>', 'their role there: owner, manager, admin, member', 'member')
    .action(async (email: string, options: { name?: string; org?: string; role: string }) => {
      const created = await deps.withAdmin((admin) => createUser(admin, { email, ...(options.name ? { name: options.name } : {}), ...(options.org ? { organization: options.org, role: options.role } : {}) }));
      print(`user ${created.email} (id ${created.userId})\npassword ${created.password}`);
    });
  users.command('list').action(async () => deps.printTable(await deps.withPool(listUsers)));
  users.command('reset-password <email>').description('a new generated password (printed once); the old one stops working')
    .action(async (email: string) => {
      const reset = await deps.withAdmin((admin) => resetPassword(admin, email));
      print(`user ${reset.email}\npassword ${reset.password}`);
    });
  users.command('remove <email>').description('remove a user, their memberships and tokens (refused for an organization\'s last owner)')
    .action(async (email: string) => {
      const removed = await deps.withAdmin((admin) => removeUser(admin, email));
      print(`removed ${removed.email} (${removed.memberships} memberships, ${removed.tokens} tokens)`);
    });

  const members = program.command('members').description("organizations' members and invitations");
  members.command('invite <org> <email>').description('invite by email; prints the single-use link').option('--role <role>', 'owner, manager, admin, member', 'member')
    .action(async (org: string, email: string, options: { role: string }) => {
      const invited = await deps.withAdmin((admin) => inviteMember(admin, org, email, options.role, deps.publicUrl()));
      print(`invited ${invited.email} as ${invited.role} (member ${invited.memberId})\n${invited.link}`);
    });
  members.command('list <org>').action(async (org: string) => deps.printTable(await deps.withPool((pool) => listMembers(pool, org))));
  members.command('remove <org> <email>').description('remove a member or cancel an invitation (refused for the last owner)')
    .action(async (org: string, email: string) => {
      await deps.withAdmin((admin) => removeMember(admin, org, email));
      print(`removed ${email} from ${org}`);
    });
}
