import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The web UI's production build (web/dist, served by the api service), made when it is missing
// or older than its sources: by `npm start` before the services start, and by the test setup.

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web');
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'];

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

export function webBuildIsCurrent(web = WEB): boolean {
  const built = join(web, 'dist', 'index.html');
  return existsSync(built) && statSync(built).mtimeMs >= Math.max(...SOURCES.map((source) => newestChange(join(web, source))));
}

/** Builds web/dist unless it is current; throws with Vite's output when the build fails. */
export function ensureWebBuild(log: (line: string) => void = () => undefined): void {
  if (webBuildIsCurrent()) return;
  log('building the web UI (web/dist)');
  // Vite builds React's development bundle when NODE_ENV says so (vitest sets it to `test`).
  const env = { ...process.env, NODE_ENV: 'production' };
  const result = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent'], { cwd: WEB, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`web UI build failed:\n${result.stdout}${result.stderr}${result.error ?? ''}`);
}
