import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { commandExists, portAnswers, readPid, run, StackError, startDetached, stopPid, waitFor } from './processes.ts';

// Apache Kafka in KRaft mode (one combined broker+controller) from Maven Central jars.
// 3.9.1 is pinned: kafkajs 2.2.4 predates Kafka 4.0, which removed old protocol versions (KIP-896).
export const KAFKA_VERSION = '3.9.1';

const POM = join(dirname(fileURLToPath(import.meta.url)), '..', 'kafka-pom.xml');

export interface KafkaNode {
  host: string;
  port: number;
  controllerPort: number;
  dir: string;
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

function serverProperties(node: KafkaNode): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${node.host}:${node.controllerPort}`,
    `listeners=PLAINTEXT://${node.host}:${node.port},CONTROLLER://${node.host}:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${node.host}:${node.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(node.dir, 'data')}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Quick compaction so erased events leave the log soon after their tombstone (tests rely on it).
    'log.cleaner.backoff.ms=1000',
    '',
  ].join('\n');
}

export async function startKafka(node: KafkaNode, cacheDir: string, log: (line: string) => void): Promise<'started' | 'running' | 'external'> {
  const pidFile = join(node.dir, 'kafka.pid');
  if (readPid(pidFile) !== undefined) return 'running';
  if (await portAnswers(node.host, node.port)) return 'external';
  const classpath = kafkaClasspath(cacheDir, log);
  mkdirSync(node.dir, { recursive: true });
  const properties = join(node.dir, 'server.properties');
  writeFileSync(properties, serverProperties(node));
  const toolsLog = log4jConfig(join(node.dir, 'tools-log4j.properties'), 'stderr', 'WARN');
  if (!existsSync(join(node.dir, 'data', 'meta.properties'))) {
    log('formatting Kafka storage (KRaft)');
    const clusterId = run('java', [`-Dlog4j.configuration=file:${toolsLog}`, '-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid']).trim();
    run('java', [`-Dlog4j.configuration=file:${toolsLog}`, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, '--ignore-formatted']);
  }
  const serverLog = log4jConfig(join(node.dir, 'log4j.properties'), 'file', 'INFO');
  const logs = join(node.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  log(`starting Kafka ${KAFKA_VERSION} on ${node.host}:${node.port}`);
  startDetached(
    'java',
    ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', `-Dlog4j.configuration=file:${serverLog}`, `-Dkafka.logs.dir=${logs}`, '-cp', classpath, 'kafka.Kafka', properties],
    join(logs, 'stdout.log'),
    pidFile,
  );
  await waitFor('Kafka', () => portAnswers(node.host, node.port), 90000, join(logs, 'server.log'));
  return 'started';
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
