import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { Appender, createKafka, createLogger, createPool, provision, readConfig, type Config, type Pool } from '@trapline/runtime';
import { Codec, topicNames, type TopicNames } from '@trapline/schemas';
import { serviceSet, SERVICES, type ServiceSet } from '@trapline/cli/services';
import { bootstrap, type BootstrapResult } from '@trapline/cli/bootstrap';

// An isolated Trapline for one test file: its own topic prefix, database and ports on the shared
// real servers, provisioned the way production is.

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface Isolated {
  config: Config;
  env: NodeJS.ProcessEnv;
  topics: TopicNames;
  pool: Pool;
  dispose(): Promise<void>;
}

/** A fresh prefix and database, provisioned (migrations + topics). */
export async function isolated(overrides: Record<string, string> = {}): Promise<Isolated> {
  const id = `t${randomBytes(4).toString('hex')}`;
  const base = readConfig();
  const url = new URL(base.DATABASE_URL);
  url.pathname = `/trapline_${id}`;
  const ports = { INGEST_PORT: await freePort(), API_PORT: await freePort(), PROJECTOR_PORT: await freePort(), DELETER_PORT: await freePort(), GATEWAY_PORT: await freePort() };
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

/** Every service as its own process, plus the default org/project/key/token, like `npm start`. */
export async function startTrapline(overrides: Record<string, string> = {}): Promise<RunningTrapline> {
  const base = await isolated(overrides);
  const services = serviceSet(base.env, { logDir: join(base.config.TRAPLINE_STATE_DIR!, 'logs') });
  for (const name of SERVICES) await services.start(name);
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
