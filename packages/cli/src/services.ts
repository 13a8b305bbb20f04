import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig, type Config } from '@trapline/runtime';
import { NGINX_HEALTH_PATH, nginxCommand, stackPaths } from '@trapline/stack';
import { describeExit, planRestart, RESTART_POLICY } from './supervision.ts';

// Runs the services as separate processes (as docker-compose does), each with the same
// environment, and waits until each answers /health. The gateway is nginx, as in docker-compose.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const SERVICES = ['ingest', 'api', 'projector', 'deleter', 'notifier', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Node flags per service (docker-compose.yml and `npm run rebuild` pass the same). The projector
 * makes a batch's worth of short-lived strings and objects at a time (4 MB fetches, JSON payloads,
 * statement parameters): with V8's default young generation much of its CPU went to collecting
 * garbage, and 64 MB semi-spaces trade resident memory for less of it (the measurement:
 * bench/README.md, "Projector performance"). Ingest keeps each request's body, parsed event and
 * payload alive while Kafka acknowledges (tens of ms under load): in the default young generation
 * they outlived scavenges and were promoted; 32 MB semi-spaces made an event about 1.5 times cheaper
 * in CPU (bench/results/2026-12-02-ingest-profile.md). The projector's semi-spaces also start at
 * 32 MB, not 1 MB: V8 grows them only while much survives, and the rebuild's parse workers (whose
 * heaps take the process' flags) stayed at a few MB, promoting whatever outlived two scavenges;
 * starting at 32 MB took their scavenges from about 60 to 23 per 100,000 events
 * (bench/results/2026-12-08-binary-copy.md). And the projector collects its garbage on its own
 * thread (--single-threaded-gc): V8's helper threads ran a fifth of a core beside it and, on cores
 * Postgres and the broker share, waited for one as much; without them the live projector spent
 * 47–54 instead of 59–64 µs of CPU per event, in four pairs of runs of four
 * (bench/results/2026-12-08-projector-workers.md).
 */
export const NODE_FLAGS: Partial<Record<ServiceName, string[]>> = { projector: ['--max-semi-space-size=64', '--min-semi-space-size=32', '--single-threaded-gc'], ingest: ['--max-semi-space-size=32'] };


export interface RunningService {
  name: ServiceName;
  /** Set for an extra instance started with `startInstance`. */
  instance?: string;
  process: ChildProcess;
  healthUrl: string;
}

/** A service's key in the set: its name, or `<name>.<instance>` for an extra instance. */
export type ServiceKey = ServiceName | `${ServiceName}.${string}`;

export interface ServiceSet {
  services: Map<ServiceKey, RunningService>;
  start(name: ServiceName): Promise<RunningService>;
  /**
   * One more instance of `name` in the same deployment (another member of its consumer group),
   * with `env` laid over the set's environment: it needs its own health port, and a deleter its
   * own DELETER_INSTANCE (its Kafka transactional id).
   */
  startInstance(name: ServiceName, instance: string, env: NodeJS.ProcessEnv): Promise<RunningService>;
  /** SIGTERM (or another signal) and wait for the exit; SIGKILL after STOP_GRACE_MS. */
  stop(key: ServiceKey, signal?: NodeJS.Signals): Promise<void>;
  stopAll(): Promise<void>;
}

/** How long `stop` waits for an exit before SIGKILL: past the services' own 15 s stop timer. */
const STOP_GRACE_MS = 25000;

async function waitHealthy(service: RunningService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.process.exitCode !== null) throw new Error(`${service.name} exited with code ${service.process.exitCode} while starting`);
    const healthy = await fetch(service.healthUrl).then((response) => response.ok, () => false);
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${service.name} did not answer ${service.healthUrl} within ${timeoutMs / 1000}s`);
}

function serviceCommand(name: ServiceName, key: ServiceKey, config: Config): { command: string; args: string[] } {
  if (name === 'gateway') return nginxCommand(config, join(stackPaths(config).state, key));
  return { command: process.execPath, args: [...(NODE_FLAGS[name] ?? []), '--import', 'tsx', join(ROOT, 'services', name, 'src', 'main.ts')] };
}

function lastLines(file: string, count: number): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count).join('\n') : '(no log file)';
}

export interface ServiceSetOptions {
  logDir?: string;
  /**
   * Restart a service that exits without being stopped (RESTART_POLICY's growing backoff), and
   * say so through this: each exit and restart, and a crash loop with the last lines of its log.
   */
  supervise?: (line: string) => void;
}

/**
 * `env` is the whole environment of the services. With `logDir`, each writes its JSON log to
 * `<logDir>/<name>.log`; otherwise logs go to this process's stdout.
 */
export function serviceSet(env: NodeJS.ProcessEnv, options: ServiceSetOptions = {}): ServiceSet {
  const services = new Map<ServiceKey, RunningService>();
  const stopping = new Set<ServiceKey>();
  const restarts = new Map<ServiceKey, NodeJS.Timeout>();
  const quickExits = new Map<ServiceKey, number>();
  const superviseExit = (key: ServiceKey, child: ChildProcess, startedAt: number, restart: () => Promise<unknown>) => {
    const report = options.supervise;
    if (!report) return;
    child.once('exit', (code, signal) => {
      if (stopping.has(key) || services.get(key)?.process !== child) return;
      const ranMs = Date.now() - startedAt;
      const plan = planRestart(quickExits.get(key) ?? 0, ranMs);
      quickExits.set(key, plan.quickExits);
      report(describeExit(key, { code, signal }, ranMs, plan));
      if (plan.crashLoop) {
        const log = options.logDir ? join(options.logDir, `${key}.log`) : undefined;
        report(
          `${key} is in a crash loop: ${plan.quickExits} exits in a row, each within ${RESTART_POLICY.healthyRunMs / 1000} s of its start; ` +
            `still restarted, every ${RESTART_POLICY.maxDelayMs / 1000} s at most.` +
            (log ? ` Last lines of ${log}:\n${lastLines(log, 20)}` : ' Its output is above.'),
        );
      }
      // A restart that fails to start exits again, and is reported and retried from here.
      restarts.set(key, setTimeout(() => {
        restarts.delete(key);
        restart().catch(() => undefined);
      }, plan.delayMs));
    });
  };
  const launch = async (name: ServiceName, instance: string | undefined, serviceEnv: NodeJS.ProcessEnv): Promise<RunningService> => {
    const key: ServiceKey = instance === undefined ? name : `${name}.${instance}`;
    const config = readConfig(serviceEnv);
    const ports: Record<ServiceName, number> = {
      ingest: config.INGEST_PORT,
      api: config.API_PORT,
      projector: config.PROJECTOR_PORT,
      deleter: config.DELETER_PORT,
      notifier: config.NOTIFIER_PORT,
      gateway: config.GATEWAY_PORT,
    };
    const { command, args } = serviceCommand(name, key, config);
    const child = spawn(command, args, { cwd: ROOT, env: serviceEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    if (options.logDir) {
      mkdirSync(options.logDir, { recursive: true });
      const log = createWriteStream(join(options.logDir, `${key}.log`), { flags: 'a' });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
    } else {
      child.stdout?.pipe(process.stdout);
      child.stderr?.pipe(process.stderr);
    }
    const path = name === 'gateway' ? NGINX_HEALTH_PATH : '/health';
    const service: RunningService = { name, ...(instance === undefined ? {} : { instance }), process: child, healthUrl: `http://${config.HOST}:${ports[name]}${path}` };
    services.set(key, service);
    superviseExit(key, child, Date.now(), () => launch(name, instance, serviceEnv));
    await waitHealthy(service, 60000);
    return service;
  };
  const stop = async (key: ServiceKey, signal: NodeJS.Signals = 'SIGTERM') => {
    clearTimeout(restarts.get(key));
    restarts.delete(key);
    const service = services.get(key);
    if (!service || service.process.exitCode !== null || service.process.signalCode !== null) return;
    stopping.add(key);
    try {
      const exited = new Promise((resolve) => service.process.once('exit', resolve));
      service.process.kill(signal);
      // A service exits by itself within its own stop timer (lifecycle.ts); one that does not
      // (native teardown stuck, say) is killed, and named, rather than holding up whoever stops it.
      const overdue = setTimeout(() => {
        process.stderr.write(`${key} (pid ${service.process.pid}) did not exit within ${STOP_GRACE_MS / 1000} s of ${signal}: killing it\n`);
        service.process.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(overdue);
      services.delete(key);
    } finally {
      stopping.delete(key);
    }
  };
  return {
    services,
    start: (name) => launch(name, undefined, env),
    startInstance: (name, instance, overrides) => launch(name, instance, { ...env, ...overrides }),
    stop,
    stopAll: async () => {
      await Promise.all([...services.keys()].map((name) => stop(name)));
    },
  };
}
