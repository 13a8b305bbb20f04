import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml is production's stack. No Docker engine runs on these machines, so the file
// is checked the way compose itself reads it: Debian's docker-compose, `config`.

const root = join(import.meta.dirname, '..');
const compose = (...args: string[]) => spawnSync('docker-compose', ['-f', join(root, 'docker-compose.yml'), ...args], { encoding: 'utf8', cwd: root });

type Service = { healthcheck?: unknown; depends_on?: Record<string, { condition: string }>; command?: string[]; environment?: Record<string, string>; profiles?: string[] };

describe('docker-compose.yml', () => {
  it('is valid for docker-compose', () => {
    const result = compose('config', '-q');
    expect(result.status, result.stderr).toBe(0);
  });

  const resolved = () => parse(compose('config').stdout) as { services: Record<string, Service> };

  it('runs Kafka, Postgres, Redis, provisioning, the four services and the gateway, each with a health check', () => {
    const { services } = resolved();
    for (const name of ['kafka', 'postgres', 'redis', 'ingest', 'api', 'projector', 'deleter', 'gateway']) {
      expect(services[name]?.healthcheck, name).toBeDefined();
    }
    expect(services.provision?.command).toEqual(['node', '--import', 'tsx', 'packages/cli/src/main.ts', 'provision']);
  });

  it('starts every service only after provisioning succeeded, against the containers\' addresses', () => {
    const { services } = resolved();
    for (const name of ['ingest', 'api', 'projector', 'deleter']) {
      expect(services[name]?.depends_on?.provision?.condition, name).toBe('service_completed_successfully');
      expect(services[name]?.environment).toMatchObject({ KAFKA_BROKERS: 'kafka:9092', HOST: '0.0.0.0' });
      expect(services[name]?.command?.at(-1), name).toBe(`services/${name}/src/main.ts`);
    }
  });

  it('routes ingest paths to ingest and the rest to the API in nginx', () => {
    const nginx = readFileSync(join(root, 'deploy', 'nginx.conf'), 'utf8');
    expect(nginx).toMatch(/location ~ \^\/api\/\[0-9\]\+\/\(store\|envelope\)\/\?\$ \{\s*proxy_pass http:\/\/ingest;/);
    expect(nginx).toMatch(/location \/ \{\s*proxy_pass http:\/\/api;/);
  });
});
