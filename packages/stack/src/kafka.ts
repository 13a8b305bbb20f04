import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createKafka, createLogger } from '@trapline/runtime';
import { commandExists, portAnswers, readPid, run, StackError, startDetached, stopPid, waitFor } from './processes.ts';

// Apache Kafka in KRaft mode from Maven Central jars: one combined broker+controller, or a cluster
// of several such nodes that are together the controller quorum.
// 3.9.1 is pinned: kafkajs 2.2.4 predates Kafka 4.0, which removed old protocol versions (KIP-896).
export const KAFKA_VERSION = '3.9.1';

const POM = join(dirname(fileURLToPath(import.meta.url)), '..', 'kafka-pom.xml');

export interface KafkaNode {
  host: string;
  port: number;
  controllerPort: number;
  dir: string;
  /** KRaft node id, unique in a cluster; 1 when alone. */
  id?: number;
}

/** The nodes of one KRaft cluster (each a broker and a voter of the controller quorum) and its id. */
export interface KafkaCluster {
  nodes: KafkaNode[];
  clusterId: string;
}

/** The operator tools, by the name of the shell script Kafka's own distribution gives them. */
export const KAFKA_TOOLS: Record<string, string> = {
  'topics': 'org.apache.kafka.tools.TopicCommand',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'configs': 'kafka.admin.ConfigCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'storage': 'kafka.tools.StorageTool',
};

function javaMajor(): number {
  if (!commandExists('java')) return 0;
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(`${result.stderr}${result.stdout}`);
  return match ? Number(match[1]) : 0;
}

/** Resolves the broker's jars once into the cache and returns the classpath. */
export function kafkaClasspath(cacheDir: string, log: (line: string) => void): string {
  const libs = join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  const ready = join(libs, '.complete');
  if (!existsSync(ready)) {
    if (javaMajor() < 17) throw new StackError('Kafka needs Java 17 or newer: install it (apt-get install -y openjdk-17-jre-headless) and put java on PATH');
    if (!commandExists('mvn')) throw new StackError('resolving Kafka from Maven Central needs Maven: apt-get install -y maven');
    log(`resolving Apache Kafka ${KAFKA_VERSION} from Maven Central into ${libs}`);
    mkdirSync(libs, { recursive: true });
    run('mvn', ['-B', '-q', '-f', POM, `-Dkafka.version=${KAFKA_VERSION}`, 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime']);
    if (!readdirSync(libs).some((file) => file.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) throw new StackError(`Maven did not deliver kafka_2.13-${KAFKA_VERSION}`);
    writeFileSync(ready, `${new Date().toISOString()}\n`);
  }
  return `${libs}/*`;
}

function log4jConfig(file: string, appender: 'file' | 'stderr', level: string): string {
  const lines =
    appender === 'file'
      ? ['log4j.appender.main=org.apache.log4j.RollingFileAppender', 'log4j.appender.main.File=${kafka.logs.dir}/server.log', 'log4j.appender.main.MaxFileSize=20MB', 'log4j.appender.main.MaxBackupIndex=3']
      : ['log4j.appender.main=org.apache.log4j.ConsoleAppender', 'log4j.appender.main.Target=System.err'];
  writeFileSync(
    file,
    [`log4j.rootLogger=${level}, main`, ...lines, 'log4j.appender.main.layout=org.apache.log4j.PatternLayout', 'log4j.appender.main.layout.ConversionPattern=[%d] %p %m (%c)%n', ''].join('\n'),
  );
  return file;
}

function serverProperties(node: KafkaNode, quorum: KafkaNode[]): string {
  // Internal topics replicated on up to three nodes; with more than one, a write needs two of them.
  const replicas = Math.min(3, quorum.length);
  const minInSync = replicas > 1 ? 2 : 1;
  return [
    'process.roles=broker,controller',
    `node.id=${node.id ?? 1}`,
    `controller.quorum.voters=${quorum.map((voter) => `${voter.id ?? 1}@${voter.host}:${voter.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://${node.host}:${node.port},CONTROLLER://${node.host}:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${node.host}:${node.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(node.dir, 'data')}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    `offsets.topic.replication.factor=${replicas}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minInSync}`,
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minInSync}`,
    'group.initial.rebalance.delay.ms=0',
    // In a cluster, a killed node is fenced and its partitions led elsewhere after 6 s (default 9 s).
    ...(quorum.length > 1 ? ['broker.heartbeat.interval.ms=1000', 'broker.session.timeout.ms=6000'] : []),
    // Quick compaction so erased events leave the log soon after their tombstone (tests rely on it).
    'log.cleaner.backoff.ms=1000',
    '',
  ].join('\n');
}

/** One node alone, or (with `cluster`) one node of that cluster. */
export async function startKafka(node: KafkaNode, cacheDir: string, log: (line: string) => void, cluster?: KafkaCluster): Promise<'started' | 'running' | 'external'> {
  const pidFile = join(node.dir, 'kafka.pid');
  if (readPid(pidFile) !== undefined) return 'running';
  if (await portAnswers(node.host, node.port)) return 'external';
  const classpath = kafkaClasspath(cacheDir, log);
  mkdirSync(node.dir, { recursive: true });
  const properties = join(node.dir, 'server.properties');
  writeFileSync(properties, serverProperties(node, cluster?.nodes ?? [node]));
  const toolsLog = log4jConfig(join(node.dir, 'tools-log4j.properties'), 'stderr', 'WARN');
  if (!existsSync(join(node.dir, 'data', 'meta.properties'))) {
    log(`formatting Kafka storage (KRaft)${cluster ? ` of node ${node.id}` : ''}`);
    const clusterId = cluster?.clusterId ?? kafkaClusterId(classpath, toolsLog);
    run('java', [`-Dlog4j.configuration=file:${toolsLog}`, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, '--ignore-formatted']);
  }
  const serverLog = log4jConfig(join(node.dir, 'log4j.properties'), 'file', 'INFO');
  const logs = join(node.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  log(`starting Kafka ${KAFKA_VERSION} on ${node.host}:${node.port}`);
  // Three nodes on one machine get a smaller heap each.
  const heap = cluster ? ['-Xms128m', '-Xmx384m'] : ['-Xms256m', '-Xmx512m'];
  startDetached(
    'java',
    [...heap, '-XX:+UseG1GC', `-Dlog4j.configuration=file:${serverLog}`, `-Dkafka.logs.dir=${logs}`, '-cp', classpath, 'kafka.Kafka', properties],
    join(logs, 'stdout.log'),
    pidFile,
  );
  await waitFor('Kafka', () => portAnswers(node.host, node.port), 90000, join(logs, 'server.log'));
  return 'started';
}

function kafkaClusterId(classpath: string, toolsLog: string): string {
  return run('java', [`-Dlog4j.configuration=file:${toolsLog}`, '-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid']).trim();
}

/** The id a node's storage was formatted with, if it was. */
function formattedClusterId(node: KafkaNode): string | undefined {
  const meta = join(node.dir, 'data', 'meta.properties');
  return existsSync(meta) ? /^cluster\.id=(.+)$/m.exec(readFileSync(meta, 'utf8'))?.[1]?.trim() : undefined;
}

/**
 * Every node of a cluster, started together (none answers before the quorum has a majority).
 * Idempotent: running nodes are left alone, a stopped one is started again with its data.
 */
export async function startKafkaCluster(nodes: KafkaNode[], cacheDir: string, log: (line: string) => void): Promise<Array<'started' | 'running' | 'external'>> {
  const classpath = kafkaClasspath(cacheDir, log);
  const formatted = nodes.map(formattedClusterId).find((id) => id !== undefined);
  let clusterId = formatted;
  if (clusterId === undefined) {
    mkdirSync(nodes[0]!.dir, { recursive: true });
    clusterId = kafkaClusterId(classpath, log4jConfig(join(nodes[0]!.dir, 'tools-log4j.properties'), 'stderr', 'WARN'));
  }
  const cluster = { nodes, clusterId };
  const states = await Promise.all(nodes.map((node) => startKafka(node, cacheDir, log, cluster)));
  await waitForBrokers(nodes, 90000);
  return states;
}

/** A node answers on its port before the controller lists it; topics created earlier would get fewer replicas. */
async function waitForBrokers(nodes: KafkaNode[], timeoutMs: number): Promise<void> {
  const admin = createKafka(nodes.map((node) => `${node.host}:${node.port}`), 'trapline-stack', createLogger('stack', 'error')).admin();
  const registered = async () => {
    try {
      return (await admin.describeCluster()).brokers.length >= nodes.length;
    } catch {
      return false;
    }
  };
  await admin.connect();
  try {
    await waitFor(`${nodes.length} Kafka brokers in the cluster`, registered, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

export async function stopKafka(dir: string): Promise<boolean> {
  return stopPid(join(dir, 'kafka.pid'), 60000);
}

/** Runs one of Kafka's own tools from the cached jars, adding --bootstrap-server when it is missing. */
export function runKafkaTool(tool: string, args: string[], bootstrap: string, cacheDir: string, stateDir: string): number {
  const mainClass = KAFKA_TOOLS[tool];
  if (!mainClass) throw new StackError(`unknown tool ${tool}; one of: ${Object.keys(KAFKA_TOOLS).join(', ')}`);
  const classpath = kafkaClasspath(cacheDir, (line) => process.stderr.write(`${line}\n`));
  mkdirSync(stateDir, { recursive: true });
  const toolsLog = log4jConfig(join(stateDir, 'tools-log4j.properties'), 'stderr', 'WARN');
  const needsBootstrap = tool !== 'storage' && !args.includes('--bootstrap-server') && !args.includes('--help');
  const fullArgs = needsBootstrap ? ['--bootstrap-server', bootstrap, ...args] : args;
  const result = spawnSync('java', ['-Xmx256m', `-Dlog4j.configuration=file:${toolsLog}`, '-cp', classpath, mainClass, ...fullArgs], { stdio: 'inherit' });
  return result.status ?? 1;
}
