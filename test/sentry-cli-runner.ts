import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { RunningTrapline } from './harness.ts';

// sentry-cli (the @sentry/cli npm package's real binary) against a Trapline, configured only by
// SENTRY_URL, SENTRY_AUTH_TOKEN, SENTRY_ORG, SENTRY_PROJECT and SENTRY_DSN, as a user would.

const require = createRequire(import.meta.url);
export const sentryCliBinary = (require('@sentry/cli') as { getPath(): string }).getPath();

export function sentryCliRunner(trapline: () => RunningTrapline, options: { cwd?: string } = {}) {
  return (...args: string[]) => {
    const { organizationSlug, projectSlug, token, dsn } = trapline().defaults;
    const result = spawnSync(sentryCliBinary, args, {
      encoding: 'utf8',
      timeout: 60000,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SENTRY_URL: trapline().publicUrl, SENTRY_AUTH_TOKEN: token, SENTRY_ORG: organizationSlug, SENTRY_PROJECT: projectSlug, SENTRY_DSN: dsn, SENTRY_LOAD_DOTENV: '0' },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };
}
