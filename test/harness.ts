import { execFileSync, spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { buildApiApp, type ApiDeps } from '@trapline/api';
import { Appender, createKafka, createLogger, createMetrics, createPool, provision, readConfig, type Config, type Pool } from '@trapline/runtime';
import { ReadModel } from '../services/api/src/adapters/read-model.ts';
import { Codec, topicNames, type TopicNames } from '@trapline/schemas';
import { serviceSet, SERVICES, type ServiceSet, type ServiceSetOptions } from '@trapline/cli/services';
import { bootstrap, type BootstrapResult } from '@trapline/cli/bootstrap';

// An isolated Trapline for one test file: its own topic prefix, database and ports on the shared
// real servers, provisioned the way production is.

/** A server listening on the port (127.0.0.1), or undefined when the port is taken. */
function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function canListen(port: number): Promise<boolean> {
  const server = await listenOn(port);
  if (server === undefined) return false;
  await new Promise((resolve) => server.close(resolve));
  return true;
}

// Each test process takes ports from a block of its own, below Linux's ephemeral range (32768+),
// so neither a parallel test file nor an outgoing connection can claim a port between our check
// and the service binding it (as an OS-assigned port 0 could). A block is held by listening on its
// first port for the life of the process: binding is atomic, and the kernel lets go of it when the
// process ends, however it ends. (Lock files naming the owner's pid were taken over from a dead
// owner by two processes at once when a killed run had left them behind: both then used the same
// ports, and one file's requests reached the other's services.)
const PORTS_PER_BLOCK = 200;
const BLOCKS = 50;

async function claimBlock(): Promise<number> {
  for (let block = 0; block < BLOCKS; block += 1) {
    // Held, never closed; unref'd so that it keeps no test process alive.
    const lock = await listenOn(20000 + block * PORTS_PER_BLOCK);
    if (lock !== undefined) {
      lock.unref();
      return block;
    }
  }
  throw new Error('every test port block is taken');
}

let claimed: Promise<number> | undefined;
let nextPort = 0;
let lastPort = 0;

export async function freePort(): Promise<number> {
  if (lastPort === 0) {
    claimed ??= claimBlock();
    const block = await claimed;
    if (lastPort === 0) {
      // The block's first port is its lock.
      nextPort = 20000 + block * PORTS_PER_BLOCK + 1;
      lastPort = 20000 + (block + 1) * PORTS_PER_BLOCK;
    }
  }
  while (nextPort < lastPort) {
    const port = nextPort++;
    if (await canListen(port)) return port;
  }
  throw new Error('no free port left in this worker\'s block');
}

/** Two consecutive free ports (the stack puts Kafka's controller on the broker's port + 1); returns the first. */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (nextPort === port + 1 && (await canListen(port + 1))) {
      nextPort += 1;
      return port;
    }
  }
}

/** The events' tags as rows (project_id, event_id, group_id, key, value, received_at): what `event_tags` held before they moved into the events rows. */
export const EVENT_TAG_ROWS = '(SELECT e.project_id, e.event_id, e.group_id, u.key, u.value, e.received_at FROM events e CROSS JOIN LATERAL unnest(e.tag_keys, e.tag_values) AS u(key, value)) AS event_tags';

export interface Isolated {
  config: Config;
  env: NodeJS.ProcessEnv;
  topics: TopicNames;
  pool: Pool;
  dispose(): Promise<void>;
}

/**
 * Deletes the topics whose names start with `prefix`, if the brokers answer at once (a test's own
 * broker may be stopped by then). A broker that keeps every test's topics, run after run on one
 * machine, ends up out of heap with tens of thousands of partitions.
 */
async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = createKafka(brokers, 'test-dispose', createLogger('test', 'error'), { connectionTimeoutMs: 1000, retries: 1, silent: true }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch {
    // best effort: the topics stay
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A fresh prefix and database, provisioned (migrations + topics). */
export async function isolated(overrides: Record<string, string> = {}): Promise<Isolated> {
  const id = `t${randomBytes(4).toString('hex')}`;
  const base = readConfig();
  const url = new URL(base.DATABASE_URL);
  url.pathname = `/trapline_${id}`;
  const ports = { INGEST_PORT: await freePort(), API_PORT: await freePort(), PROJECTOR_PORT: await freePort(), DELETER_PORT: await freePort(), NOTIFIER_PORT: await freePort(), GATEWAY_PORT: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_TOPIC_PREFIX: id,
    DATABASE_URL: url.toString(),
    LOG_LEVEL: 'info',
    PUBLIC_URL: `http://127.0.0.1:${ports.GATEWAY_PORT}`,
    KEY_CACHE_REFRESH_MS: '500',
    TRAPLINE_STATE_DIR: join(tmpdir(), `trapline-${id}`),
    ...Object.fromEntries(Object.entries(ports).map(([key, value]) => [key, String(value)])),
    ...overrides,
  };
  const config = readConfig(env);
  await provision(config, createLogger('test', 'warn'));
  const pool = createPool(config.DATABASE_URL, 4);
  return {
    config,
    env,
    topics: topicNames(id),
    pool,
    dispose: async () => {
      await pool.end();
      const admin = new pg.Client({ connectionString: base.DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "trapline_${id}" WITH (FORCE)`).catch(() => undefined);
      await admin.end();
      await deleteTopics(config.kafkaBrokers, `${config.KAFKA_TOPIC_PREFIX}.`);
    },
  };
}

export interface RunningTrapline extends Isolated {
  services: ServiceSet;
  appender: Appender;
  codec: Codec;
  defaults: BootstrapResult & { token: string };
  publicUrl: string;
}

/** Every service as its own process, plus the default org/project/key/token, like `npm start` (which also supervises them: `supervise`). */
export async function startTrapline(overrides: Record<string, string> = {}, options: Pick<ServiceSetOptions, 'supervise'> = {}): Promise<RunningTrapline> {
  const base = await isolated(overrides);
  const services = serviceSet(base.env, { logDir: join(base.config.TRAPLINE_STATE_DIR!, 'logs'), ...options });
  try {
    for (const name of SERVICES) await services.start(name);
  } catch (error) {
    // The ones that did start go too: left running, they would outlive the test run.
    await services.stopAll();
    await base.dispose();
    throw error;
  }
  const codec = new Codec();
  const appender = await Appender.connect(createKafka(base.config.kafkaBrokers, 'test', createLogger('test', 'error')), codec);
  const defaults = await bootstrap({ pool: base.pool, appender, adminTopic: base.topics.admin, publicUrl: base.config.PUBLIC_URL });
  return {
    ...base,
    services,
    appender,
    codec,
    defaults: { ...defaults, token: defaults.token! },
    publicUrl: base.config.PUBLIC_URL,
    dispose: async () => {
      await services.stopAll();
      await appender.close();
      await base.dispose();
    },
  };
}

/**
 * Another projector or deleter of the same deployment: a second member of its consumer group, with
 * its own health port and (for the deleter) its own DELETER_INSTANCE, which names its Kafka
 * transactional id. It is in `trapline.services` as `<name>.<instance>` and stopped with the rest.
 */
export async function startInstance(trapline: RunningTrapline, name: 'projector' | 'deleter', instance: string, extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...extra, [`${name.toUpperCase()}_PORT`]: String(await freePort()) };
  if (name === 'deleter') env.DELETER_INSTANCE = `${trapline.config.deleterInstance}-${instance}`;
  return trapline.services.startInstance(name, instance, env);
}

/**
 * The worker processes of a service's primary `pid` (INGEST_WORKERS, PROJECTOR_WORKERS): its
 * children running the service's entry, not the others (such as tsx's esbuild service).
 */
export function workersOf(pid: number, service: 'ingest' | 'projector'): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', `${service}/src/main.ts`]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Whether process `pid` still runs. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until `read` returns something other than undefined. */
export async function eventually<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const ROOT = join(import.meta.dirname, '..');
const CLI_ENTRY = join(ROOT, 'packages/cli/bin/trapline.js');

/** The `trapline` command as an operator runs it, with an isolated deployment's environment. */
export function runCli(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 120000) {
  return spawnSync(process.execPath, [CLI_ENTRY, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs });
}

/** Runs a command to its end without blocking this process; resolves with its status and output. */
export function runConcurrently(command: string, args: string[], options: SpawnOptions = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `runCli` without blocking this process: the test goes on (sending traffic, say) while the command runs. */
export function runCliConcurrently(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 120000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runConcurrently(process.execPath, [CLI_ENTRY, ...args], { cwd: ROOT, env, timeout: timeoutMs });
}

/** The API app in-process over an isolated deployment's database and topics, for `app.inject()`. */
export function injectableApi(env: Isolated, appender: Appender, logger = createLogger('test', 'silent'), extra: Partial<ApiDeps> = {}) {
  return buildApiApp({
    ...extra,
    readModel: new ReadModel(env.pool),
    appender,
    eventsTopic: env.topics.events,
    adminTopic: env.topics.admin,
    publicUrl: env.config.PUBLIC_URL,
    logger,
    metrics: createMetrics('api'),
  });
}
