import { describe, expect, it } from 'vitest';
import { checkPassword, hashPassword } from './passwords.ts';

// Passwords as argon2id PHC strings: given a stored hash (or none, or a broken one), when a
// password is checked, then true only for the right password against a real hash.

describe('passwords', () => {
  it("hash with argon2id at OWASP's minimum: 19 MiB, 2 passes, 1 lane, a fresh salt each time", async () => {
    const first = await hashPassword('correct horse battery');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await hashPassword('correct horse battery')).not.toBe(first);
  });

  it.each<[string, string | null | undefined, string]>([
    ['no hash (an unknown user)', undefined, ''],
    ['a null hash (a user without a password)', null, 'x'],
    ['a stored value that is no PHC string', 'not-a-hash', 'not-a-hash'],
    ['an empty stored value', '', ''],
  ])('given %s, then no password passes', async (_, stored, password) => {
    expect(await checkPassword(stored, password)).toBe(false);
  });

  it('given a hash, then its password passes and another, or the same with a case changed, does not', async () => {
    const stored = await hashPassword('Tr0ub4dor&3');
    expect(await checkPassword(stored, 'Tr0ub4dor&3')).toBe(true);
    expect(await checkPassword(stored, 'tr0ub4dor&3')).toBe(false);
    expect(await checkPassword(stored, '')).toBe(false);
  });
});
