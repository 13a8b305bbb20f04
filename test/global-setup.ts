import { readConfig } from '@trapline/runtime';
import { up } from '@trapline/stack';
import { aptInstall, commandExists } from '@trapline/stack/processes';
import { ensureWebBuild } from '@trapline/cli/web-build';

/**
 * The real servers, started (or found running) by the same script as `npm run stack -- up`, and
 * the system tools the tests use besides them: Debian's docker-compose, to validate
 * docker-compose.yml (no Docker engine runs on these machines), and Debian's Chromium, which
 * Playwright drives for the browser tests (/usr/bin/chromium; Playwright downloads nothing).
 */
export default async function setup(): Promise<void> {
  // Each tool's command and Debian package share a name.
  const missing = ['docker-compose', 'chromium'].filter((tool) => !commandExists(tool));
  if (missing.length > 0) aptInstall(missing, (line) => process.stderr.write(`setup: ${line}\n`));
  // The api service serves the web UI from its production build (test/web-ui.test.ts drives it).
  ensureWebBuild((line) => process.stderr.write(`setup: ${line}\n`));
  await up(readConfig());
}
