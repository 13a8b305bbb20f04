import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, provision, readConfig, type Config } from '@trapline/runtime';
import { runKafkaTool, startKafka, startKafkaCluster, stopKafka, type KafkaNode } from './kafka.ts';
import { ensureNginx } from './nginx.ts';
import { startPostgres, stopPostgres } from './postgres.ts';
import { portAnswers, StackError } from './processes.ts';
import { startRedis, stopRedis } from './redis.ts';
import { stackPaths } from './paths.ts';

// `npm run stack -- up|down|status|tool <name> [args]`: the real servers, no Docker. Idempotent.

const say = (line: string) => process.stderr.write(`stack: ${line}\n`);

function hostPort(text: string, fallbackPort: number): { host: string; port: number } {
  const url = new URL(text.includes('://') ? text : `tcp://${text}`);
  return { host: url.hostname, port: url.port ? Number(url.port) : fallbackPort };
}

function endpoints(config: Config) {
  const kafka = hostPort(config.kafkaBrokers[0] ?? '127.0.0.1:19092', 9092);
  return {
    kafka: { ...kafka, controllerPort: kafka.port + 1 },
    postgres: hostPort(config.DATABASE_URL, 5432),
    redis: hostPort(config.REDIS_URL, 6379),
  };
}

/**
 * The nodes of a local cluster of `brokers` nodes: at the addresses of KAFKA_BROKERS when it lists
 * that many, else every second port from the first (each node's controller is on its port + 1).
 */
function clusterNodes(config: Config, brokers: number, state: string): KafkaNode[] {
  const first = endpoints(config).kafka;
  return Array.from({ length: brokers }, (_, index) => {
    const listed = config.kafkaBrokers.length >= brokers ? hostPort(config.kafkaBrokers[index]!, 9092) : { host: first.host, port: first.port + 2 * index };
    return { ...listed, controllerPort: listed.port + 1, id: index + 1, dir: join(state, `kafka-${index + 1}`) };
  });
}

async function startBrokers(config: Config, brokers: number): Promise<string> {
  const paths = stackPaths(config);
  if (brokers === 1) {
    const at = endpoints(config).kafka;
    return `kafka ${await startKafka({ ...at, dir: join(paths.state, 'kafka') }, paths.cache, say)} at ${at.host}:${at.port}`;
  }
  const nodes = clusterNodes(config, brokers, paths.state);
  const states = await startKafkaCluster(nodes, paths.cache, say);
  return `kafka ${nodes.map((node, index) => `${states[index]} at ${node.host}:${node.port}`).join(', ')}`;
}

export async function up(config: Config, brokers = 1): Promise<void> {
  const paths = stackPaths(config);
  const at = endpoints(config);
  const [kafka, postgres, redis] = [
    await startBrokers(config, brokers),
    await startPostgres({ ...at.postgres, dir: join(paths.state, 'postgres') }, say),
    await startRedis({ ...at.redis, dir: join(paths.state, 'redis') }, say),
  ];
  ensureNginx(say); // the front door, started with the services
  say(`${kafka}, postgres ${postgres} at ${at.postgres.host}:${at.postgres.port}, redis ${redis} at ${at.redis.host}:${at.redis.port}`);
  const created = await provision(config, createLogger('stack', 'warn'));
  if (created.length > 0) say(`created topics ${created.join(', ')}`);
  say('ready');
}

export async function down(config: Config): Promise<void> {
  const { state } = stackPaths(config);
  // The single node (`kafka`) and the nodes of a cluster (`kafka-<id>`).
  const kafkaDirs = existsSync(state) ? readdirSync(state).filter((name) => /^kafka(-\d+)?$/.test(name)) : ['kafka'];
  const kafkaStopped = await Promise.all(kafkaDirs.map(async (name) => (await stopKafka(join(state, name))) && name));
  const stopped = [
    ...kafkaStopped,
    (await stopPostgres(join(state, 'postgres'))) && 'postgres',
    (await stopRedis(join(state, 'redis'))) && 'redis',
  ].filter(Boolean);
  say(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing of ours was running');
}

async function status(config: Config): Promise<void> {
  const at = endpoints(config);
  for (const [name, where] of Object.entries(at)) {
    const answers = await portAnswers(where.host, where.port);
    process.stdout.write(`${name.padEnd(9)} ${where.host}:${where.port} ${answers ? 'up' : 'down'}\n`);
  }
  process.stdout.write(`state     ${stackPaths(config).state}\n`);
}

async function main(argv: string[]): Promise<number> {
  const config = readConfig();
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const brokers = rest[0] === '--brokers' ? Number(rest[1]) : 1;
      if (!Number.isInteger(brokers) || brokers < 1 || brokers > 9) throw new StackError('--brokers takes a number from 1 to 9');
      await up(config, brokers);
      return 0;
    }
    case 'down':
      await down(config);
      return 0;
    case 'status':
      await status(config);
      return 0;
    case 'tool': {
      const [tool, ...args] = rest;
      const paths = stackPaths(config);
      return runKafkaTool(tool ?? '', args, config.kafkaBrokers.join(','), paths.cache, paths.state);
    }
    default:
      process.stderr.write('usage: npm run stack -- up [--brokers n]|down|status|tool <topics|consumer-groups|configs|console-consumer|console-producer|get-offsets|features|storage> [args]\n');
      return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      say(error instanceof StackError ? error.message : String((error as Error).stack ?? error));
      process.exit(1);
    },
  );
}
