import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The `trapline` command sits above the services: it uses what each one offers at its public
// entry (its package.json "." export, src/index.ts), never a module inside it.

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const services = readdirSync(join(root, 'services'));

describe('the CLI and the services', () => {
  it.each(services)('%s has a public entry that exists', (service) => {
    const manifest = JSON.parse(readFileSync(join(root, 'services', service, 'package.json'), 'utf8')) as { exports?: Record<string, string> };
    expect(manifest.exports?.['.']).toBe('./src/index.ts');
    expect(existsSync(join(root, 'services', service, 'src/index.ts'))).toBe(true);
  });

  it('imports a service only through its public entry', () => {
    const dir = join(root, 'packages/cli/src');
    const inward = readdirSync(dir)
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) => [...readFileSync(join(dir, file), 'utf8').matchAll(/from '(@trapline\/([a-z-]+)\/[^']+)'/g)].filter((match) => services.includes(match[2]!)).map((match) => `${file}: ${match[1]}`));
    expect(inward).toEqual([]);
  });
});
