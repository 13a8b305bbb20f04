import { createHash, randomBytes } from 'node:crypto';

// API tokens: shown once, stored and transported only as their SHA-256.

export const SCOPES = ['org:read', 'org:write', 'org:admin', 'member:read', 'member:write', 'member:admin', 'project:read', 'project:write', 'project:admin', 'event:read', 'event:write', 'event:admin', 'project:releases'] as const;
export type Scope = (typeof SCOPES)[number];

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(): string {
  return `tpl_${randomBytes(32).toString('hex')}`;
}

/** `project:admin` implies `project:write` implies `project:read`, as in Sentry. */
export function hasScope(granted: readonly string[], needed: Scope): boolean {
  // Sentry's release scope (what CI tokens get): granted by itself or by project:write and above.
  if (needed === 'project:releases') return granted.includes(needed) || hasScope(granted, 'project:write');
  const [resource, level] = needed.split(':') as [string, string];
  const order = ['read', 'write', 'admin'];
  return granted.some((scope) => {
    const [grantedResource, grantedLevel] = scope.split(':');
    return grantedResource === resource && order.indexOf(grantedLevel ?? '') >= order.indexOf(level);
  });
}
