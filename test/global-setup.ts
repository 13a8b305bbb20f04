import { readConfig } from '@trapline/runtime';
import { up } from '@trapline/stack';
import { aptInstall, commandExists } from '@trapline/stack/processes';

/**
 * The real servers, started (or found running) by the same script as `npm run stack -- up`, and
 * the one system tool the tests use besides them: Debian's docker-compose, to validate
 * docker-compose.yml (no Docker engine runs on these machines).
 */
export default async function setup(): Promise<void> {
  if (!commandExists('docker-compose')) aptInstall(['docker-compose'], (line) => process.stderr.write(`setup: ${line}\n`));
  await up(readConfig());
}
