import { describe, expect, it } from 'vitest';
import { hashToken, hasScope, newToken } from './tokens.ts';

describe('API tokens', () => {
  it.each([
    [['event:read'], 'event:read', true],
    [['event:admin'], 'event:read', true],
    [['project:write'], 'project:read', true],
    [['project:read'], 'project:write', false],
    [['event:read'], 'project:read', false],
    [[], 'org:read', false],
  ] as const)('scopes %j grant %s: %s', (granted, needed, expected) => {
    expect(hasScope(granted, needed)).toBe(expected);
  });

  it('stores a hash that does not contain the token', () => {
    const token = newToken();
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).not.toContain(token.slice(4, 20));
    expect(newToken()).not.toBe(token);
  });
});
