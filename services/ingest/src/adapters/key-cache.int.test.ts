import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@trapline/runtime';
import { isolated, type Isolated } from '../../../../test/harness.ts';
import { KeyCache } from './key-cache.ts';

// The DSN key cache (and the project settings it serves with the keys) against a real Postgres read model.

let env: Isolated;

beforeAll(async () => {
  env = await isolated();
});

afterAll(async () => {
  await env?.dispose();
});

const addKey = (publicKey: string) =>
  env.pool.query("INSERT INTO project_keys (public_key, secret_key, project_id, label, active, created_at) VALUES ($1, 's', 1, 'test', true, now())", [publicKey]);

describe('the key cache', () => {
  it('lets a burst of requests with a key created after the last load all find it, with one load', async () => {
    const cache = new KeyCache(env.pool, 60000, createLogger('test', 'silent'));
    await cache.start();
    try {
      await addKey('burst');
      expect(cache.lookup('burst')).toBeUndefined();
      const refreshed = await Promise.all(Array.from({ length: 20 }, () => cache.refreshAfterMiss()));
      expect(refreshed).toEqual(Array(20).fill(true));
      expect(cache.lookup('burst')).toMatchObject({ publicKey: 'burst', projectId: 1, active: true });
      // A flood of unknown keys right after costs no further query.
      expect(await cache.refreshAfterMiss()).toBe(false);
    } finally {
      cache.stop();
    }
  });

  it("serves a project's allowed origins from the same loads, any origin for a project without a list", async () => {
    const cache = new KeyCache(env.pool, 60000, createLogger('test', 'silent'));
    await cache.start();
    try {
      await env.pool.query("INSERT INTO project_allowed_origins (project_id, origins) VALUES (7, '{https://app.example.com,*.example.org}')");
      expect(cache.allowedOrigins(7)).toEqual({ any: true });
      await cache.refresh();
      expect(cache.allowedOrigins(7)).toMatchObject({ any: false, patterns: [{ scheme: 'https', host: 'app.example.com' }, { host: 'example.org', subdomains: true }] });
      expect(cache.allowedOrigins(8)).toEqual({ any: true });
    } finally {
      cache.stop();
    }
  });

  it('loads when the admin model changed, and a miss meanwhile waits for that load even right after another miss', async () => {
    const cache = new KeyCache(env.pool, 60000, createLogger('test', 'silent'));
    await cache.start();
    try {
      expect(await cache.refreshAfterMiss()).toBe(true); // spends the early refresh of this second
      await addKey('changed');
      cache.adminChanged();
      expect(await cache.refreshAfterMiss()).toBe(true);
      expect(cache.lookup('changed')).toMatchObject({ publicKey: 'changed', active: true });
      await env.pool.query("UPDATE project_keys SET active = false WHERE public_key = 'changed'");
      cache.adminChanged();
      await expect.poll(() => cache.lookup('changed')?.active).toBe(false);
    } finally {
      cache.stop();
    }
  });

  it("a miss right after another miss waits for the admin change's notification that comes a moment later, and finds the key", async () => {
    const cache = new KeyCache(env.pool, 60000, createLogger('test', 'silent'), 3000);
    await cache.start();
    try {
      expect(await cache.refreshAfterMiss()).toBe(true); // spends the early refresh of this second
      await addKey('notified later');
      const miss = cache.refreshAfterMiss();
      setTimeout(() => cache.adminChanged(), 100);
      expect(await miss).toBe(true);
      expect(cache.lookup('notified later')).toMatchObject({ publicKey: 'notified later', active: true });
      // Without a notification the miss gives up when the early refresh's interval ends, no further query made.
      await addKey('never notified');
      expect(await cache.refreshAfterMiss()).toBe(false);
      expect(cache.lookup('never notified')).toBeUndefined();
    } finally {
      cache.stop();
    }
  });
});
