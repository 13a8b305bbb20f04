import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isolated, type Isolated } from './harness.ts';

// The README's first command: `npm start` brings everything up and prints a DSN and a token
// that work. Run here on an isolated prefix, database and ports of the shared servers.

let env: Isolated;

afterAll(async () => {
  await env?.dispose();
});

describe('npm start', () => {
  it('prints a DSN that accepts an event, a token that reads it back and the first owner who signs in, then stops on SIGINT', async () => {
    env = await isolated();
    const root = join(import.meta.dirname, '..');
    const child = spawn('npm', ['start'], { cwd: root, env: env.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 120000;
    while (!/password\s+\S+/.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 250));
    try {
      const dsn = /DSN\s+(\S+)/.exec(output)?.[1];
      const token = /API token\s+(tpl_\w+)/.exec(output)?.[1];
      expect(dsn, output).toBeDefined();
      expect(token, output).toBeDefined();
      const url = new URL(dsn!);
      const store = await fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message: 'from the README' }) });
      expect(store.status).toBe(200);
      const { id } = (await store.json()) as { id: string };
      let status = 0;
      for (let attempt = 0; attempt < 100 && status !== 200; attempt += 1) {
        const response = await fetch(`${url.origin}/api/0/projects/trapline/default/events/${id}/`, { headers: { authorization: `Bearer ${token}` } });
        status = response.status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe(200);
      // The first owner, whose password is printed this once.
      const email = /sign in as\s+(\S+)/.exec(output)?.[1];
      const password = /password\s+(\S+)\s+\(shown once/.exec(output)?.[1];
      expect([email, password], output).not.toContain(undefined);
      const signIn = await fetch(`${url.origin}/api/0/auth/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
      expect(signIn.status).toBe(200);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    }
  });
});
