import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// Passwords exist only as argon2id PHC strings (OWASP's minimum: 19 MiB, 2 passes, 1 lane).

const ARGON2ID = 2; // Algorithm.Argon2id: a const enum, which type-stripping runners cannot inline
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => hash(password, OPTIONS as never);

/** A hash of nothing anyone knows: verified against when the email is unknown, so both cost the same. */
let decoy: Promise<string> | undefined;

/** Constant-time inside argon2; an unknown user or missing hash still pays one verification. */
export async function checkPassword(passwordHash: string | null | undefined, password: string): Promise<boolean> {
  decoy ??= hashPassword(randomBytes(32).toString('hex'));
  const against = passwordHash ?? (await decoy);
  const matches = await verify(against, password).catch(() => false);
  return matches && passwordHash !== null && passwordHash !== undefined;
}
