import { describe, expect, it } from 'vitest';
import { hashToken, hasScope, newToken, SCOPES, type Scope } from './tokens.ts';

// Scopes as Sentry grants them, with plain scope lists: given what a token holds, when a route needs
// a scope, then granted or not.

describe('scopes', () => {
  it("are Sentry's thirteen", () => {
    expect(SCOPES).toEqual(['org:read', 'org:write', 'org:admin', 'member:read', 'member:write', 'member:admin', 'project:read', 'project:write', 'project:admin', 'event:read', 'event:write', 'event:admin', 'project:releases']);
  });

  it.each<[string[], Scope, boolean]>([
    // A level grants the levels below it, of its own resource only.
    [['org:admin'], 'org:write', true],
    [['org:admin'], 'org:read', true],
    [['org:write'], 'org:admin', false],
    [['member:write'], 'member:write', true],
    [['member:read'], 'member:write', false],
    [['org:admin'], 'member:read', false],
    // The release scope: by itself, or by project:write and above, never by project:read.
    [['project:releases'], 'project:releases', true],
    [['project:write'], 'project:releases', true],
    [['project:admin'], 'project:releases', true],
    [['project:read'], 'project:releases', false],
    [['org:admin', 'event:admin'], 'project:releases', false],
    // The release scope grants nothing else of projects.
    [['project:releases'], 'project:read', false],
    // Malformed grants grant nothing.
    [['project'], 'project:read', false],
    [['project:'], 'project:read', false],
    [['project:owner'], 'project:read', false],
    [['projects:admin'], 'project:read', false],
    [[':read'], 'project:read', false],
    // Any one grant is enough.
    [['event:read', 'project:write'], 'project:read', true],
  ])('%j grants %s: %s', (granted, needed, expected) => {
    expect(hasScope(granted, needed)).toBe(expected);
  });
});

describe('tokens', () => {
  it('are tpl_ and 64 hex digits, stored as the hex SHA-256 of the whole token', () => {
    expect(newToken()).toMatch(/^tpl_[0-9a-f]{64}$/);
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashToken('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
