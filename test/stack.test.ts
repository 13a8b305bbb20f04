import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { portAnswers } from '@trapline/stack/processes';
import { alive, freePort, freePortPair } from './harness.ts';

// `npm run stack -- up|down` on a private state directory and private ports: a second, complete
// stack beside the shared one, so `down` can be checked without stopping what other tests use.

const root = join(import.meta.dirname, '..');
const state = mkdtempSync(join(tmpdir(), 'trapline-stack-'));
chmodSync(state, 0o755); // the postgres system user must reach its data directory

const ports = { kafka: await freePortPair(), postgres: await freePort(), redis: await freePort() };
const env = {
  ...process.env,
  TRAPLINE_STATE_DIR: state,
  KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
  DATABASE_URL: `postgres://postgres@127.0.0.1:${ports.postgres}/trapline`,
  REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
};

const stack = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'packages/stack/src/main.ts'), ...args], { cwd: root, env, encoding: 'utf8', timeout: 180000 });

const pidOf = (file: string) => (existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined);

afterAll(() => {
  stack('down');
  rmSync(state, { recursive: true, force: true });
});

describe('the stack script', () => {
  it('starts Kafka, Postgres and Redis, and a second `up` finds them running', async () => {
    const first = stack('up');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/kafka started/);
    expect(first.stderr).toMatch(/created topics/);
    for (const port of Object.values(ports)) expect(await portAnswers('127.0.0.1', port)).toBe(true);
    const second = stack('up');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/kafka running/);
    expect(second.stderr).not.toMatch(/created topics/);
  });

  it('lets an operator run Kafka\'s own tools from the cached jars', () => {
    const topics = stack('tool', 'topics', '--list');
    expect(topics.status, topics.stderr).toBe(0);
    expect(topics.stdout).toMatch(/^trapline\.events$/m);
  });

  it('`down` stops everything it started and nothing is left listening', async () => {
    const pids = [pidOf(join(state, 'kafka', 'kafka.pid')), pidOf(join(state, 'postgres', 'data', 'postmaster.pid')), pidOf(join(state, 'redis', 'redis.pid'))];
    expect(pids.every(alive)).toBe(true);
    const down = stack('down');
    expect(down.status, down.stderr).toBe(0);
    expect(down.stderr).toMatch(/stopped kafka, postgres, redis/);
    expect(pids.some(alive)).toBe(false);
    for (const port of Object.values(ports)) expect(await portAnswers('127.0.0.1', port)).toBe(false);
  });
});
