import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createKafka, createLogger } from '@trapline/runtime';
import { commandExists, portAnswers, readPid, run, runAsync, StackError, startDetached, stopPid, waitFor } from './processes.ts';

// Apache Kafka in KRaft mode from Maven Central jars: one combined broker+controller, or a cluster
// of several such nodes that are together the controller quorum. The current 4.x release by default
// (docker-compose.yml's image is the same release); 3.9 still runs when a node asks for it. The two
// differ in their logging backend (reload4j, log4j2) and in where a few tools live.
export const KAFKA_VERSION = '4.4.0';

/** What the stack does differently for a Kafka release line. */
interface KafkaRelease {
  version: string;
  /** 4.x logs through log4j2 (3.9 through reload4j, which kafka-tools brings along). */
  log4j2: boolean;
  /** The operator tools' main classes. */
  tools: Record<string, string>;
}

function release(version: string): KafkaRelease {
  const four = Number(version.split('.')[0]) >= 4;
  return { version, log4j2: four, tools: four ? KAFKA_TOOLS : { ...KAFKA_TOOLS, configs: 'kafka.admin.ConfigCommand' } };
}

const POM = join(dirname(fileURLToPath(import.meta.url)), '..', 'kafka-pom.xml');

export interface KafkaNode {
  host: string;
  port: number;
  controllerPort: number;
  dir: string;
  /** KRaft node id, unique in a cluster; 1 when alone. */
  id?: number;
  /** The Kafka release to run (KAFKA_VERSION unless a test asks for another). */
  version?: string;
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
  // kafka.admin.ConfigCommand in 3.9 (release().tools)
  'configs': 'org.apache.kafka.tools.ConfigCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'features': 'org.apache.kafka.tools.FeatureCommand',
  'storage': 'kafka.tools.StorageTool',
};

function javaMajor(): number {
  if (!commandExists('java')) return 0;
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(`${result.stderr}${result.stdout}`);
  return match ? Number(match[1]) : 0;
}

/** Resolves the broker's jars once into the cache and returns the classpath. */
export function kafkaClasspath(cacheDir: string, log: (line: string) => void, version = KAFKA_VERSION): string {
  const libs = join(cacheDir, `kafka-${version}`, 'libs');
  const ready = join(libs, '.complete');
  if (!existsSync(ready)) {
    if (javaMajor() < 17) throw new StackError('Kafka needs Java 17 or newer: install it (apt-get install -y openjdk-17-jre-headless) and put java on PATH');
    if (!commandExists('mvn')) throw new StackError('resolving Kafka from Maven Central needs Maven: apt-get install -y maven');
    log(`resolving Apache Kafka ${version} from Maven Central into ${libs}`);
    mkdirSync(libs, { recursive: true });
    // 4.x: Kafka's POMs bring log4j2's API and core, not the binding for its slf4j 1.7 (profile log4j2).
    const profile = release(version).log4j2 ? ['-Plog4j2'] : [];
    run('mvn', ['-B', '-q', '-f', POM, ...profile, `-Dkafka.version=${version}`, 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime']);
    if (!readdirSync(libs).some((file) => file.startsWith(`kafka_2.13-${version}`))) throw new StackError(`Maven did not deliver kafka_2.13-${version}`);
    writeFileSync(ready, `${new Date().toISOString()}\n`);
  }
  return `${libs}/*`;
}

/** A logging config for the release's backend, and the JVM flag that names it. */
function logConfig(kafka: KafkaRelease, file: string, appender: 'file' | 'stderr', level: string): string {
  if (kafka.log4j2) {
    const lines =
      appender === 'file'
        ? ['appender.main.type=RollingFile', 'appender.main.fileName=${sys:kafka.logs.dir}/server.log', 'appender.main.filePattern=${sys:kafka.logs.dir}/server.log.%i', 'appender.main.policies.type=Policies', 'appender.main.policies.size.type=SizeBasedTriggeringPolicy', 'appender.main.policies.size.size=20MB', 'appender.main.strategy.type=DefaultRolloverStrategy', 'appender.main.strategy.max=3']
        : ['appender.main.type=Console', 'appender.main.target=SYSTEM_ERR'];
    // log4j2 picks the parser by the file's extension.
    const properties = file.replace(/log4j\.properties$/, 'log4j2.properties');
    writeFileSync(properties, ['status=warn', 'appender.main.name=main', ...lines, 'appender.main.layout.type=PatternLayout', 'appender.main.layout.pattern=[%d] %p %m (%c)%n', `rootLogger.level=${level}`, 'rootLogger.appenderRef.main.ref=main', ''].join('\n'));
    return `-Dlog4j2.configurationFile=${properties}`;
  }
  const lines =
    appender === 'file'
      ? ['log4j.appender.main=org.apache.log4j.RollingFileAppender', 'log4j.appender.main.File=${kafka.logs.dir}/server.log', 'log4j.appender.main.MaxFileSize=20MB', 'log4j.appender.main.MaxBackupIndex=3']
      : ['log4j.appender.main=org.apache.log4j.ConsoleAppender', 'log4j.appender.main.Target=System.err'];
  writeFileSync(
    file,
    [`log4j.rootLogger=${level}, main`, ...lines, 'log4j.appender.main.layout=org.apache.log4j.PatternLayout', 'log4j.appender.main.layout.ConversionPattern=[%d] %p %m (%c)%n', ''].join('\n'),
  );
  return `-Dlog4j.configuration=file:${file}`;
}

function serverProperties(node: KafkaNode, quorum: KafkaNode[], kafka: KafkaRelease): string {
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
    // 4.x: share groups (KIP-932) keep their state in an internal topic of their own.
    ...(kafka.log4j2 ? [`share.coordinator.state.topic.replication.factor=${replicas}`, `share.coordinator.state.topic.min.isr=${minInSync}`] : []),
    'group.initial.rebalance.delay.ms=0',
    // In a cluster, a killed node is fenced and its partitions led elsewhere after 6 s (default 9 s).
    // The heartbeat interval stays at its default, 2 s: 4.x also takes it as the timeout of a node's
    // registration with the controller, and at 1 s a loaded machine kept timing registrations out.
    ...(quorum.length > 1 ? ['broker.session.timeout.ms=6000'] : []),
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
  const kafka = release(node.version ?? KAFKA_VERSION);
  const classpath = kafkaClasspath(cacheDir, log, kafka.version);
  mkdirSync(node.dir, { recursive: true });
  const properties = join(node.dir, 'server.properties');
  writeFileSync(properties, serverProperties(node, cluster?.nodes ?? [node], kafka));
  const toolsLog = logConfig(kafka, join(node.dir, 'tools-log4j.properties'), 'stderr', 'WARN');
  if (!existsSync(join(node.dir, 'data', 'meta.properties'))) {
    log(`formatting Kafka storage (KRaft)${cluster ? ` of node ${node.id}` : ''}`);
    const clusterId = cluster?.clusterId ?? kafkaClusterId();
    // Asynchronous: a cluster's nodes format at once (a JVM each), then start together.
    await runAsync('java', [toolsLog, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, '--ignore-formatted']);
  }
  const serverLog = logConfig(kafka, join(node.dir, 'log4j.properties'), 'file', 'INFO');
  const logs = join(node.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  log(`starting Kafka ${kafka.version} on ${node.host}:${node.port}`);
  // Three nodes on one machine get a smaller heap each.
  const heap = cluster ? ['-Xms128m', '-Xmx384m'] : ['-Xms256m', '-Xmx512m'];
  startDetached(
    'java',
    [...heap, '-XX:+UseG1GC', serverLog, `-Dkafka.logs.dir=${logs}`, '-cp', classpath, 'kafka.Kafka', properties],
    join(logs, 'stdout.log'),
    pidFile,
  );
  // A node of a cluster answers only once a majority of the quorum is up: it waits for the others' JVMs too.
  await waitFor('Kafka', () => portAnswers(node.host, node.port), cluster ? 150000 : 90000, join(logs, 'server.log'));
  return 'started';
}

/**
 * A new cluster id as `kafka-storage random-uuid` makes it (16 random bytes, URL-safe base64
 * without padding; never starting with '-', which the tools would take for an option), without
 * starting a JVM for it.
 */
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
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
  const kafka = release(nodes[0]?.version ?? KAFKA_VERSION);
  kafkaClasspath(cacheDir, log, kafka.version);
  const clusterId = nodes.map(formattedClusterId).find((id) => id !== undefined) ?? kafkaClusterId();
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
  const kafka = release(KAFKA_VERSION);
  const mainClass = kafka.tools[tool];
  if (!mainClass) throw new StackError(`unknown tool ${tool}; one of: ${Object.keys(kafka.tools).join(', ')}`);
  const classpath = kafkaClasspath(cacheDir, (line) => process.stderr.write(`${line}\n`), kafka.version);
  mkdirSync(stateDir, { recursive: true });
  const toolsLog = logConfig(kafka, join(stateDir, 'tools-log4j.properties'), 'stderr', 'WARN');
  const needsBootstrap = tool !== 'storage' && !args.includes('--bootstrap-server') && !args.includes('--help');
  const fullArgs = needsBootstrap ? ['--bootstrap-server', bootstrap, ...args] : args;
  const result = spawnSync('java', ['-Xmx256m', toolsLog, '-cp', classpath, mainClass, ...fullArgs], { stdio: 'inherit' });
  return result.status ?? 1;
}
