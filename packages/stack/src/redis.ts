import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, commandExists, portAnswers, readPid, run, waitFor, stopPid } from './processes.ts';

// A private Redis from Debian's packages, on the port named in REDIS_URL.

export interface RedisNode {
  host: string;
  port: number;
  dir: string;
}

export async function startRedis(node: RedisNode, log: (line: string) => void): Promise<'started' | 'running' | 'external'> {
  const pidFile = join(node.dir, 'redis.pid');
  if (await portAnswers(node.host, node.port)) return readPid(pidFile) !== undefined ? 'running' : 'external';
  if (!commandExists('redis-server')) aptInstall(['redis-server'], log);
  mkdirSync(node.dir, { recursive: true });
  log(`starting Redis on ${node.host}:${node.port}`);
  run('redis-server', [
    '--bind', node.host, '--port', String(node.port), '--daemonize', 'yes',
    '--pidfile', pidFile, '--dir', node.dir, '--logfile', join(node.dir, 'redis.log'),
    '--save', '', '--appendonly', 'no',
  ]);
  await waitFor('Redis', () => portAnswers(node.host, node.port), 15000, join(node.dir, 'redis.log'));
  return 'started';
}

export async function stopRedis(dir: string): Promise<boolean> {
  return stopPid(join(dir, 'redis.pid'));
}
