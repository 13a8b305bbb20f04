import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '@trapline/runtime';
import { aptInstall, commandExists, StackError } from './processes.ts';

// The front door (port 9000) of the local stack: Debian's nginx running the configuration that
// docker-compose runs (deploy/nginx.conf.template), one instance per deployment, in the foreground
// as a child of whoever starts the services.

export const NGINX_TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'deploy', 'nginx.conf.template');

/** The path nginx answers itself, once it listens. */
export const NGINX_HEALTH_PATH = '/nginx-health';

export type TemplateValues = Record<`TRAPLINE_${string}`, string>;

/** `${TRAPLINE_…}` replaced as the image's envsubst does; a variable left without a value is a mistake. */
export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(/\$\{(TRAPLINE_[A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = values[name as keyof TemplateValues];
    if (value === undefined) throw new StackError(`${NGINX_TEMPLATE} names \${${name}}, which has no value`);
    return value;
  });
}

/** host:port of a service URL, as an nginx upstream server. */
function upstreamServer(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
}

/** The template's values for a local deployment whose front-door files live in `dir`. */
export function localValues(config: Config, dir: string): TemplateValues {
  return {
    TRAPLINE_LISTEN: `${config.HOST}:${config.GATEWAY_PORT}`,
    TRAPLINE_INGEST_UPSTREAM: upstreamServer(config.ingestUrl),
    TRAPLINE_API_UPSTREAM: upstreamServer(config.apiUrl),
    TRAPLINE_MAX_REQUEST_BYTES: String(config.MAX_REQUEST_BYTES),
    TRAPLINE_NGINX_TEMP: join(dir, 'temp'),
    TRAPLINE_NGINX_ACCESS_LOG: 'off',
  };
}

export function ensureNginx(log: (line: string) => void): void {
  if (!commandExists('nginx')) aptInstall(['nginx'], log);
}

/**
 * Writes the rendered configuration into `dir` and returns the command that runs nginx on it in
 * the foreground, errors on stderr (so into the service's log).
 */
export function nginxCommand(config: Config, dir: string): { command: string; args: string[] } {
  if (!commandExists('nginx')) throw new StackError('the front door needs nginx: apt-get install -y nginx (npm run stack -- up installs it as root)');
  mkdirSync(join(dir, 'temp'), { recursive: true });
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, renderTemplate(readFileSync(NGINX_TEMPLATE, 'utf8'), localValues(config, dir)));
  return { command: 'nginx', args: ['-e', 'stderr', '-p', dir, '-c', file, '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr;`] };
}
