import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NODE_FLAGS } from '@trapline/cli/services';
import { readConfig } from '@trapline/runtime';
import { KAFKA_VERSION } from '@trapline/stack';
import { localValues } from '../packages/stack/src/nginx.ts';

// docker-compose.yml is production's stack. No Docker engine runs on these machines, so the file
// is checked the way compose itself reads it: Debian's docker-compose, `config`.

const root = join(import.meta.dirname, '..');
const compose = (...args: string[]) => spawnSync('docker-compose', ['-f', join(root, 'docker-compose.yml'), ...args], { encoding: 'utf8', cwd: root });
const composeWith = (env: Record<string, string>, ...args: string[]) => spawnSync('docker-compose', ['-f', join(root, 'docker-compose.yml'), ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, ...env } });

type Service = { image?: string; deploy?: { replicas?: number }; healthcheck?: unknown; depends_on?: Record<string, { condition: string }>; command?: string[]; entrypoint?: string[]; environment?: Record<string, string>; profiles?: string[]; ports?: unknown[]; restart?: string };

describe('docker-compose.yml', () => {
  it('is valid for docker-compose', () => {
    const result = compose('config', '-q');
    expect(result.status, result.stderr).toBe(0);
  });

  const resolved = () => parse(compose('config').stdout) as { services: Record<string, Service> };

  it('runs Kafka, Postgres, Redis, provisioning, the four services and the gateway, each with a health check', () => {
    const { services } = resolved();
    // Each check probes its own service: a broker answering API versions, Postgres and Redis
    // answering, each Trapline service's /health on its own port (9001–9005), the gateway's nginx.
    const probes: Record<string, RegExp> = {
      kafka: /kafka-broker-api-versions\.sh --bootstrap-server localhost:9092/,
      postgres: /^CMD-SHELL pg_isready /,
      redis: /^CMD redis-cli ping$/,
      ingest: /fetch\('http:\/\/127\.0\.0\.1:9001\/health'\).*r\.ok\?0:1/,
      api: /fetch\('http:\/\/127\.0\.0\.1:9002\/health'\).*r\.ok\?0:1/,
      projector: /fetch\('http:\/\/127\.0\.0\.1:9003\/health'\).*r\.ok\?0:1/,
      deleter: /fetch\('http:\/\/127\.0\.0\.1:9004\/health'\).*r\.ok\?0:1/,
      notifier: /fetch\('http:\/\/127\.0\.0\.1:9005\/health'\).*r\.ok\?0:1/,
      gateway: /^CMD wget .*http:\/\/127\.0\.0\.1:9000\/nginx-health$/,
    };
    for (const [name, probe] of Object.entries(probes)) {
      const check = services[name]?.healthcheck as { test?: string[]; retries?: number } | undefined;
      expect(check?.test?.join(' '), `${name}'s health check probes ${name}`).toMatch(probe);
      expect(check?.retries, `${name}'s health check retries`).toBeGreaterThan(0);
    }
    expect(services.ingest?.environment?.INGEST_PORT).toBe('9001');
    expect(services.deleter?.environment?.DELETER_PORT).toBe('9004');
    expect(services.provision?.command).toEqual(['node', '--import', 'tsx', 'packages/cli/src/main.ts', 'provision']);
  });

  it('runs provisioning once, and keeps the operator CLI out of `up` behind the tools profile', () => {
    const { services } = resolved();
    expect(services.provision?.restart).toBe('no');
    expect(services.provision?.healthcheck).toBeUndefined();
    expect(services.provision?.depends_on).toMatchObject({ kafka: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
    expect(services.cli?.profiles).toEqual(['tools']);
    expect(services.cli?.healthcheck).toBeUndefined();
    expect(services.cli?.entrypoint).toEqual(['node', '--import', 'tsx', 'packages/cli/src/main.ts']);
  });

  it('runs the Kafka release the local stack runs and the tests use, its internal topics on its one broker', () => {
    const kafka = resolved().services.kafka;
    expect(kafka?.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
    // Kafka's defaults want three replicas: with one broker the transactions (deleter, notifier) and share groups (4.x) would never start.
    for (const setting of ['OFFSETS_TOPIC_REPLICATION_FACTOR', 'TRANSACTION_STATE_LOG_REPLICATION_FACTOR', 'TRANSACTION_STATE_LOG_MIN_ISR', 'SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR', 'SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR']) {
      expect(String(kafka?.environment?.[`KAFKA_${setting}`]), setting).toBe('1');
    }
  });

  it('advertises Kafka to the other containers as kafka:9092', () => {
    const { services } = resolved();
    expect(services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS).toBe('PLAINTEXT://kafka:9092');
    expect(services.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
  });

  it('publishes only the gateway, once ingest and the API are healthy', () => {
    const { services } = resolved();
    expect(services.gateway?.depends_on).toEqual({ ingest: { condition: 'service_healthy' }, api: { condition: 'service_healthy' } });
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'gateway') expect(service.ports, name).toBeUndefined();
    }
    expect(JSON.stringify(services.gateway?.ports)).toContain('9000');
  });

  it('gives npm run rebuild and the benchmarks the projector\'s Node flags (they project in their own process)', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const projecting = Object.entries(scripts).filter(([name]) => name === 'rebuild' || name === 'bench' || name.startsWith('bench:'));
    expect(projecting.length).toBeGreaterThan(2);
    for (const [name, script] of projecting) expect(script, name).toMatch(new RegExp(`^node ${(NODE_FLAGS.projector ?? []).join(' ')} --import tsx `));
  });

  it('starts every service only after provisioning succeeded, against the containers\' addresses', () => {
    const { services } = resolved();
    for (const name of ['ingest', 'api', 'projector', 'deleter']) {
      expect(services[name]?.depends_on?.provision?.condition, name).toBe('service_completed_successfully');
      expect(services[name]?.environment).toMatchObject({ KAFKA_BROKERS: 'kafka:9092', HOST: '0.0.0.0' });
      // The same Node flags as `npm start` gives each service (the projector's young generation).
      expect(services[name]?.command, name).toEqual(['node', ...(NODE_FLAGS[name as keyof typeof NODE_FLAGS] ?? []), '--import', 'tsx', `services/${name}/src/main.ts`]);
    }
  });

  it('runs two replicas of each service by default, as many as TRAPLINE_<SERVICE>_REPLICAS says otherwise', () => {
    const replicas = (services: Record<string, Service>) => Object.fromEntries(['ingest', 'api', 'projector', 'deleter'].map((name) => [name, services[name]?.deploy?.replicas]));
    expect(replicas(resolved().services)).toEqual({ ingest: 2, api: 2, projector: 2, deleter: 2 });
    const scaled = composeWith({ TRAPLINE_INGEST_REPLICAS: '4', TRAPLINE_API_REPLICAS: '3', TRAPLINE_PROJECTOR_REPLICAS: '6', TRAPLINE_DELETER_REPLICAS: '1' }, 'config');
    expect(scaled.status, scaled.stderr).toBe(0);
    expect(replicas((parse(scaled.stdout) as { services: Record<string, Service> }).services)).toEqual({ ingest: 4, api: 3, projector: 6, deleter: 1 });
    // Compose cannot run several containers under one fixed container_name.
    for (const name of ['ingest', 'api', 'projector', 'deleter']) expect(resolved().services[name], name).not.toHaveProperty('container_name');
  });

  it('provisions the partitions TRAPLINE_EVENTS_PARTITIONS and TRAPLINE_DELETIONS_PARTITIONS say (6 and 3 by default)', () => {
    expect(resolved().services.provision?.environment).toMatchObject({ KAFKA_EVENTS_PARTITIONS: '6', KAFKA_DELETIONS_PARTITIONS: '3' });
    const sized = composeWith({ TRAPLINE_EVENTS_PARTITIONS: '24', TRAPLINE_DELETIONS_PARTITIONS: '6' }, 'config');
    expect((parse(sized.stdout) as { services: Record<string, Service> }).services.provision?.environment).toMatchObject({ KAFKA_EVENTS_PARTITIONS: '24', KAFKA_DELETIONS_PARTITIONS: '6' });
  });

  const template = () => readFileSync(join(root, 'deploy', 'nginx.conf.template'), 'utf8');

  it('routes ingest paths to ingest and the rest to the API in nginx, following the replicas Docker\'s DNS lists', () => {
    const nginx = template();
    expect(nginx).toMatch(/resolver 127\.0\.0\.11 valid=10s/);
    expect(nginx).toMatch(/location ~ \^\/api\/\[0-9\]\+\/\(store\|envelope\)\/\?\$ \{\s*proxy_pass http:\/\/trapline_ingest;/);
    expect(nginx).toMatch(/location \/ \{[^}]*proxy_pass http:\/\/trapline_api;/);
    expect(nginx).toMatch(/proxy_request_buffering off;/);
    const gateway = resolved().services.gateway;
    // `resolve` re-resolves the service names (every replica, a recreated container's new address).
    expect(gateway?.environment).toMatchObject({ TRAPLINE_INGEST_UPSTREAM: 'ingest:9001 resolve', TRAPLINE_API_UPSTREAM: 'api:9002 resolve', NGINX_ENVSUBST_OUTPUT_DIR: '/etc/nginx' });
  });

  it('gives every variable of the nginx template a value, in docker-compose as in the local stack', () => {
    const names = [...new Set([...template().matchAll(/\$\{(TRAPLINE_[A-Z0-9_]+)\}/g)].map((match) => match[1]!))].sort();
    expect(names.length).toBeGreaterThan(3);
    const environment = resolved().services.gateway?.environment ?? {};
    for (const name of names) expect(environment[name], name).toBeDefined();
    expect(Object.keys(localValues(readConfig(), '/tmp/x')).sort()).toEqual(names);
    expect(JSON.stringify((parse(compose('config').stdout) as { services: Record<string, { volumes?: unknown[] }> }).services.gateway?.volumes)).toContain('/etc/nginx/templates/nginx.conf.template');
  });

  it('builds the web UI into the image the api service runs, which nginx reaches at /', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/COPY web\/package\.json web\/\n[\s\S]*RUN npm ci[\s\S]*COPY web web\nRUN npm run build -w web\n/);
    expect(readFileSync(join(root, '.dockerignore'), 'utf8')).toMatch(/^web\/dist$/m);
    expect(resolved().services.api?.command).toEqual(['node', '--import', 'tsx', 'services/api/src/main.ts']);
  });

  it('lets nginx take bodies up to MAX_REQUEST_BYTES, pass the client address and answer its own health check', () => {
    const nginx = template();
    expect(nginx).toMatch(/client_max_body_size \$\{TRAPLINE_MAX_REQUEST_BYTES\};/);
    expect(resolved().services.gateway?.environment?.TRAPLINE_MAX_REQUEST_BYTES).toBe(String(readConfig({}).MAX_REQUEST_BYTES));
    expect(nginx).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    expect(nginx).toMatch(/location = \/nginx-health \{[^}]*return 200/);
  });
});
