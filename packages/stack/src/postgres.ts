import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, isRoot, portAnswers, run, StackError, waitFor } from './processes.ts';

// A private PostgreSQL cluster from Debian's packages, on the port named in DATABASE_URL.
// Postgres refuses to run as root, so as root it runs as the `postgres` system user.

function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((name) => existsSync(join(base, name, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

function asPostgres(command: string, args: string[]): string {
  return isRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
}

export interface PostgresNode {
  host: string;
  port: number;
  dir: string;
}

export async function startPostgres(node: PostgresNode, log: (line: string) => void): Promise<'started' | 'running' | 'external'> {
  const pidFile = join(node.dir, 'data', 'postmaster.pid');
  if (await portAnswers(node.host, node.port)) return existsSync(pidFile) ? 'running' : 'external';
  let bin = binDir();
  if (!bin) {
    aptInstall(['postgresql'], log);
    bin = binDir();
    if (!bin) throw new StackError('PostgreSQL was installed but no initdb was found under /usr/lib/postgresql');
  }
  const data = join(node.dir, 'data');
  mkdirSync(node.dir, { recursive: true });
  if (isRoot) {
    const uid = Number(run('id', ['-u', 'postgres']).trim());
    const gid = Number(run('id', ['-g', 'postgres']).trim());
    chownSync(node.dir, uid, gid);
  }
  if (!existsSync(join(data, 'PG_VERSION'))) {
    log('initialising a PostgreSQL cluster');
    asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-instructions']);
    writeFileSync(
      join(data, 'postgresql.auto.conf'),
      [`listen_addresses = '${node.host}'`, `port = ${node.port}`, `unix_socket_directories = '${node.dir}'`, 'max_connections = 200', 'fsync = on', "shared_buffers = '256MB'", ''].join('\n'),
    );
    if (isRoot) run('chown', ['postgres:postgres', join(data, 'postgresql.auto.conf')]);
  }
  log(`starting PostgreSQL on ${node.host}:${node.port}`);
  asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', join(node.dir, 'postgres.log'), '-w', '-t', '60', 'start']);
  await waitFor('PostgreSQL', () => portAnswers(node.host, node.port), 30000, join(node.dir, 'postgres.log'));
  return 'started';
}

export async function stopPostgres(dir: string): Promise<boolean> {
  const data = join(dir, 'data');
  const bin = binDir();
  if (!bin || !existsSync(join(data, 'postmaster.pid'))) return false;
  asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  return true;
}
