import type { Command } from 'commander';
import { type Admin, type Config, createKafka, createLogger, DLQ_HEADERS, type Kafka, type KafkaMessage, type OffsetRange, readConfig, readRange, type RecordVerdict, redriveDeadLetters, topicPartitions, withAdmin } from '@trapline/runtime';
import { Codec, TOPIC_SPECS, topicNames, type TopicId } from '@trapline/schemas';
import type { RedriveResult } from '@trapline/deleter';
import { AdminError } from './admin.ts';
import {
  DEAD_LETTER_TOPICS, deadLetterEntry, decodeLine, groupLag, lagTableRows, offsetChangeLine, parseNonNegative, parseReplayTarget, partitionLag,
  replayOffset, resolveTopic, shownConfigs, topicSummary, topicTableRow, unknownTopicReason, withoutDeadLetterHeaders,
  type DecodedLine, type GroupLag, type OffsetChange, type ResolvedTopic, type TopicSummary,
} from './ops-format.ts';

// `trapline topics | decode | lag | replay | dlq`: the operator's view of the log itself, the same
// facts Kafka's own tools give (see docs/operations.md), in Trapline's names and schemas.

export interface OpsCommandDeps {
  printTable(rows: Record<string, unknown>[]): void;
  /** What `trapline deletions redrive` does: every dead letter on the deletions DLQ back to run. */
  redriveDeletions(): Promise<RedriveResult>;
  /** Every alert delivery on the alerts DLQ back to run, sent once more. */
  redriveAlerts(): Promise<RedriveResult>;
}

interface Ops {
  config: Config;
  kafka: Kafka;
  codec: Codec;
}

function opsContext(command: string): Ops {
  const config = readConfig();
  return { config, kafka: createKafka(config.kafkaBrokers, `${config.KAFKA_CLIENT_ID}-${command}`, createLogger('cli', 'error')), codec: new Codec() };
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`trapline: ${line}\n`);

function requireTopic(config: Config, name: string, among?: readonly TopicId[]): ResolvedTopic {
  const topic = resolveTopic(config.KAFKA_TOPIC_PREFIX, name);
  if (!topic || (among && !among.includes(topic.id))) throw new AdminError(unknownTopicReason(config.KAFKA_TOPIC_PREFIX, name, among));
  return topic;
}

function requireNumber(option: string, text: string | undefined, minimum = 0): bigint | undefined {
  if (text === undefined) return undefined;
  const value = parseNonNegative(text);
  if (value === undefined || value < BigInt(minimum)) throw new AdminError(`${option} needs a whole number ≥ ${minimum}, got ${JSON.stringify(text)}`);
  return value;
}

/** Every committed record in `ranges` (a consumer assigned the partitions: no group to clean up). */
async function readThrough(ops: Ops, topic: string, ranges: OffsetRange[], onRecord: (line: DecodedLine, message: KafkaMessage) => RecordVerdict): Promise<void> {
  await readRange({
    kafka: ops.kafka,
    topic,
    ranges,
    onRecord: (partition, message) => onRecord(decodeLine(ops.codec, { topic, partition, ...message }), message),
    onIdle: (partitions) => note(`stopped early: nothing more arrived on ${topic} partition(s) ${partitions.join(', ')} (an open transaction holds back what follows it)`),
  });
}

/** Each partition from `from` (clamped to the log start) to its current end; partitions not chosen read nothing. */
async function rangesOf(ops: Ops, topic: string, options: { partition?: number; from?: bigint } = {}): Promise<OffsetRange[]> {
  const offsets = await withAdmin(ops.kafka, (admin) => admin.fetchTopicOffsets(topic));
  if (options.partition !== undefined && !offsets.some(({ partition }) => partition === options.partition)) {
    throw new AdminError(`${topic} has no partition ${options.partition} (it has ${offsets.length})`);
  }
  return offsets.map(({ partition, low, high }) => {
    const start = options.from === undefined || options.from < BigInt(low) ? BigInt(low) : options.from;
    const chosen = options.partition === undefined || options.partition === partition;
    return { partition, from: chosen ? start : BigInt(high), end: BigInt(high) };
  });
}

// --- topics -----------------------------------------------------------------------------------

async function describeTopics(ops: Ops): Promise<TopicSummary[]> {
  const prefix = ops.config.KAFKA_TOPIC_PREFIX;
  const names = topicNames(prefix);
  const ids = Object.keys(TOPIC_SPECS) as TopicId[];
  const configured = topicPartitions(ops.config);
  return withAdmin(ops.kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = ids.filter((id) => existing.has(names[id]));
    const described = present.length === 0 ? new Map<string, Record<string, string>>() : await admin.topicConfigs(present.map((id) => names[id]), [...new Set(present.flatMap(shownConfigs))]);
    return Promise.all(ids.map(async (id) => {
      if (!existing.has(names[id])) return topicSummary(prefix, id, undefined, configured[id]);
      const entries = described.get(names[id]) ?? {};
      const configs = Object.fromEntries(shownConfigs(id).flatMap((name) => (entries[name] === undefined ? [] : [[name, entries[name]]])));
      return topicSummary(prefix, id, { configs, offsets: await admin.fetchTopicOffsets(names[id]) }, configured[id]);
    }));
  });
}

// --- lag --------------------------------------------------------------------------------------

async function describeLag(ops: Ops, group?: string): Promise<GroupLag[]> {
  return withAdmin(ops.kafka, async (admin) => {
    const listed = (await admin.listGroups()).groups.map(({ groupId }) => groupId);
    if (group !== undefined && !listed.includes(group)) throw new AdminError(`no consumer group ${JSON.stringify(group)}`);
    const ids = group !== undefined ? [group] : listed.filter((id) => id.startsWith(`${ops.config.KAFKA_TOPIC_PREFIX}.`)).sort();
    if (ids.length === 0) return [];
    const described = (await admin.describeGroups(ids)).groups;
    return Promise.all(ids.map(async (groupId) => {
      const committed = await admin.fetchOffsets({ groupId });
      const partitions = await Promise.all(committed.map(async ({ topic, partitions: offsets }) =>
        (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => partitionLag(topic, partition, offsets.find((entry) => entry.partition === partition)?.offset, high))));
      const description = described.find((entry) => entry.groupId === groupId);
      return groupLag(groupId, description?.state ?? 'Unknown', description?.members.length ?? 0, partitions.flat());
    }));
  });
}

// --- replay -----------------------------------------------------------------------------------

/** Longer than the services' 30 s session timeout, so a consumer that died without leaving drops out. */
const FORCE_WAIT_MS = 45000;

/** Kafka lets no one move a group's offsets while it has members; --force waits for them to go. */
async function untilNoMembers(admin: Admin, group: string, force: boolean): Promise<void> {
  const deadline = Date.now() + FORCE_WAIT_MS;
  let waiting = false;
  for (;;) {
    const members = (await admin.describeGroups([group])).groups[0]?.members ?? [];
    if (members.length === 0) return;
    const who = `${members.length} live member(s): ${members.map((member) => `${member.clientId} on ${member.clientHost}`).join(', ')}`;
    if (!force) throw new AdminError(`group ${group} has ${who}. Stop its consumers first (Kafka moves a group's offsets only while it is empty); --force waits up to ${FORCE_WAIT_MS / 1000} s for members that died without leaving to time out`);
    if (Date.now() > deadline) throw new AdminError(`group ${group} still has ${who} after ${FORCE_WAIT_MS / 1000} s: stop its consumers first`);
    if (!waiting) note(`waiting for ${who} to leave group ${group}`);
    waiting = true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

interface ReplayOptions {
  group?: string;
  toEarliest?: boolean;
  toOffset?: string;
  toDatetime?: string;
  topic?: string;
  force?: boolean;
  dryRun?: boolean;
}

async function replay(ops: Ops, options: ReplayOptions): Promise<OffsetChange[]> {
  const group = options.group;
  if (!group) throw new AdminError('name the consumer group with --group <name>');
  const parsed = parseReplayTarget(options);
  if (!parsed.ok) throw new AdminError(parsed.reason);
  const { target } = parsed;
  const only = options.topic === undefined ? undefined : requireTopic(ops.config, options.topic).name;
  return withAdmin(ops.kafka, async (admin) => {
    if (!(await admin.listGroups()).groups.some(({ groupId }) => groupId === group)) throw new AdminError(`no consumer group ${JSON.stringify(group)}`);
    await untilNoMembers(admin, group, options.force === true);
    const committed = await admin.fetchOffsets({ groupId: group, ...(only ? { topics: [only] } : {}) });
    const topics = only ? [only] : committed.filter(({ partitions }) => partitions.some(({ offset }) => Number(offset) >= 0)).map(({ topic }) => topic).sort();
    if (topics.length === 0) throw new AdminError(`group ${group} has no committed offsets: name the topic with --topic`);
    const changes: OffsetChange[] = [];
    for (const topic of topics) {
      const atTimestamp = target.kind === 'datetime' ? await admin.fetchTopicOffsetsByTimestamp(topic, target.at) : [];
      const before = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
      for (const partition of await admin.fetchTopicOffsets(topic)) {
        const from = Number(before.find((entry) => entry.partition === partition.partition)?.offset ?? -1);
        const to = replayOffset(target, partition, atTimestamp.find((entry) => entry.partition === partition.partition)?.offset);
        changes.push({ topic, partition: partition.partition, from: from < 0 ? null : from, to: Number(to) });
      }
    }
    if (!options.dryRun) {
      for (const topic of topics) {
        await admin.setOffsets({ groupId: group, topic, partitions: changes.filter((change) => change.topic === topic).map(({ partition, to }) => ({ partition, offset: String(to) })) });
      }
    }
    return changes;
  });
}

// --- dead letters -----------------------------------------------------------------------------

async function readWhole(ops: Ops, topic: string): Promise<DecodedLine[]> {
  const lines: DecodedLine[] = [];
  await readThrough(ops, topic, await rangesOf(ops, topic), (line) => {
    lines.push(line);
    return 'continue';
  });
  return lines;
}

export interface EventRedriveResult {
  /** records appended back, per original topic */
  redriven: Record<string, number>;
  /** dead letters that name no original topic of this deployment: left behind, the group moved past them */
  skipped: number;
}

/**
 * `trapline.events.dlq` back to where each record came from: its original key, value and headers
 * (without the dead-letter ones) to the topic in `trapline-dlq-topic` (the runtime's re-drive: its
 * own consumer group, each append in one transaction with the group's move past the record).
 */
async function redriveEventDeadLetters(ops: Ops): Promise<EventRedriveResult> {
  const names = topicNames(ops.config.KAFKA_TOPIC_PREFIX);
  const dlq = names.eventsDlq;
  const origins = new Set(Object.values(names).filter((name) => name !== dlq));
  const { redriven, skipped } = await redriveDeadLetters({
    kafka: ops.kafka,
    dlqTopic: dlq,
    groupId: `${dlq}.redrive`,
    transactionalId: `${dlq}.redrive`,
    logger: createLogger('cli', 'error'),
    idleMs: 5000,
    back: (record) => {
      const named = record.headers[DLQ_HEADERS.topic];
      const origin = (Array.isArray(named) ? named[0] : named)?.toString();
      if (origin === undefined || !origins.has(origin)) return undefined;
      return { id: origin, appends: [{ topic: origin, raw: [{ key: record.key, value: record.value, headers: withoutDeadLetterHeaders(record.headers) }] }] };
    },
  });
  const counts: Record<string, number> = {};
  for (const topic of redriven) counts[topic] = (counts[topic] ?? 0) + 1;
  return { redriven: counts, skipped };
}

// --- commands ---------------------------------------------------------------------------------

export function opsCommands(program: Command, deps: OpsCommandDeps): void {
  program
    .command('topics')
    .description('every declared topic: partitions, configs as the broker has them, end offsets per partition')
    .option('--json', 'one JSON array instead of a table')
    .action(async (options: { json?: boolean }) => {
      const summaries = await describeTopics(opsContext('topics'));
      if (options.json) out(JSON.stringify(summaries, null, 2));
      else deps.printTable(summaries.map(topicTableRow));
    });

  program
    .command('decode <topic>')
    .description('records as JSON lines, decoded with the schema their headers name; from the beginning to the end offsets at start')
    .option('--partition <p>', 'only this partition')
    .option('--from <offset>', 'start at this offset (of every partition read)')
    .option('--from-beginning', 'start at the beginning (the default)')
    .option('--key <key>', 'only records with this key')
    .option('--limit <n>', 'stop after n records')
    .action(async (topicName: string, options: { partition?: string; from?: string; fromBeginning?: boolean; key?: string; limit?: string }) => {
      const ops = opsContext('decode');
      const topic = requireTopic(ops.config, topicName);
      if (options.from !== undefined && options.fromBeginning) throw new AdminError('--from and --from-beginning exclude each other');
      const partition = requireNumber('--partition', options.partition);
      const from = requireNumber('--from', options.from);
      const limit = requireNumber('--limit', options.limit, 1);
      const ranges = await rangesOf(ops, topic.name, { ...(partition !== undefined ? { partition: Number(partition) } : {}), ...(from !== undefined ? { from } : {}) });
      // `trapline decode … | head` closes the pipe early: that ends the output, it is no failure.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));
      let printed = 0n;
      await readThrough(ops, topic.name, ranges, (line) => {
        if (options.key !== undefined && line.key !== options.key) return 'continue';
        out(JSON.stringify(line));
        printed += 1n;
        return limit !== undefined && printed >= limit ? 'stop' : 'continue';
      });
    });

  program
    .command('lag')
    .description('per consumer group (default: every group named <prefix>.…) and partition: committed offset, end offset, lag; group state and members')
    .option('--group <group>', 'only this group')
    .option('--json', 'one JSON array instead of a table')
    .action(async (options: { group?: string; json?: boolean }) => {
      const ops = opsContext('lag');
      const groups = await describeLag(ops, options.group);
      if (options.json) out(JSON.stringify(groups, null, 2));
      else if (groups.length === 0) out(`no consumer groups named ${ops.config.KAFKA_TOPIC_PREFIX}.…`);
      else deps.printTable(groups.flatMap(lagTableRows));
    });

  program
    .command('replay')
    .description('move a stopped consumer group\'s committed offsets, so it re-reads (or skips) the log from there')
    .option('--group <group>', 'the consumer group, e.g. trapline.projector')
    .option('--to-earliest', 'to the start of each partition')
    .option('--to-offset <n>', 'to this offset in every partition (clamped to the log)')
    .option('--to-datetime <iso>', 'to the first record at or after this time, e.g. 2025-01-31T12:00:00Z')
    .option('--topic <topic>', 'only this topic (default: every topic the group has offsets for)')
    .option('--force', `wait up to ${FORCE_WAIT_MS / 1000} s for live members to leave instead of refusing`)
    .option('--dry-run', 'show the changes without making them')
    .action(async (options: ReplayOptions) => {
      const changes = await replay(opsContext('replay'), options);
      out(`${options.dryRun ? 'would move' : 'moved'} group ${options.group}:`);
      for (const change of changes) out(`  ${offsetChangeLine(change)}`);
    });

  const dlq = program.command('dlq').description(`dead letters on ${DEAD_LETTER_TOPICS.map((id) => TOPIC_SPECS[id].suffix).join(' and ')}: what is there and why, and sending it back`);

  dlq
    .command('list')
    .description('per dead-letter topic: how many records, and each one\'s partition, offset, reason and original topic')
    .option('--json', 'one JSON array instead of tables')
    .action(async (options: { json?: boolean }) => {
      const ops = opsContext('dlq');
      const names = topicNames(ops.config.KAFKA_TOPIC_PREFIX);
      const listed = [];
      for (const id of DEAD_LETTER_TOPICS) {
        const records = (await readWhole(ops, names[id])).map(deadLetterEntry);
        listed.push({ topic: names[id], count: records.length, records });
      }
      if (options.json) {
        out(JSON.stringify(listed, null, 2));
        return;
      }
      for (const { topic, count, records } of listed) {
        out(`${topic}: ${count} record(s)`);
        if (count === 0) continue;
        deps.printTable(records.map((entry) => ({
          partition: entry.partition,
          offset: entry.offset,
          key: entry.key ?? '',
          original: entry.originalTopic === null ? '' : `${entry.originalTopic}/${entry.originalPartition}@${entry.originalOffset}`,
          reason: entry.reason,
        })));
      }
    });

  dlq
    .command('show <topic> <offset>')
    .description('one dead letter decoded in full, with its reason and origin')
    .option('--partition <p>', 'partition of the dead-letter topic', '0')
    .action(async (topicName: string, offsetText: string, options: { partition: string }) => {
      const ops = opsContext('dlq');
      const topic = requireTopic(ops.config, topicName, DEAD_LETTER_TOPICS);
      const offset = requireNumber('<offset>', offsetText)!;
      const partition = Number(requireNumber('--partition', options.partition));
      let found: DecodedLine | undefined;
      await readThrough(ops, topic.name, await rangesOf(ops, topic.name, { partition, from: offset }), (line) => {
        found = line;
        return 'stop';
      });
      if (found?.offset !== Number(offset)) throw new AdminError(`no record at offset ${offset} of ${topic.name} partition ${partition}`);
      const entry = deadLetterEntry(found);
      out(JSON.stringify({ ...found, reason: entry.reason, original: { topic: entry.originalTopic, partition: entry.originalPartition, offset: entry.originalOffset } }, null, 2));
    });

  dlq
    .command('redrive')
    .description('send dead letters back: deletions and alert deliveries to run with fresh attempts, other records to the topic they came from')
    .option('--topic <topic>', 'only this dead-letter topic')
    .action(async (options: { topic?: string }) => {
      const ops = opsContext('dlq');
      const names = topicNames(ops.config.KAFKA_TOPIC_PREFIX);
      const only = options.topic === undefined ? undefined : requireTopic(ops.config, options.topic, DEAD_LETTER_TOPICS).id;
      if (only === undefined || only === 'deletionsDlq') {
        const { redriven, skipped } = await deps.redriveDeletions();
        out(`${names.deletionsDlq}: re-driven ${redriven.length} deletion(s)${redriven.length ? ` (${redriven.join(', ')})` : ''}${skipped ? `; skipped ${skipped} unreadable record(s)` : ''}`);
      }
      if (only === undefined || only === 'alertsDlq') {
        const { redriven, skipped } = await deps.redriveAlerts();
        out(`${names.alertsDlq}: re-driven ${redriven.length} alert deliver${redriven.length === 1 ? 'y' : 'ies'}${skipped ? `; skipped ${skipped} unreadable record(s)` : ''}`);
      }
      if (only === undefined || only === 'eventsDlq') {
        const { redriven, skipped } = await redriveEventDeadLetters(ops);
        const total = Object.values(redriven).reduce((sum, count) => sum + count, 0);
        const where = Object.entries(redriven).map(([topic, count]) => `${count} to ${topic}`).join(', ');
        out(`${names.eventsDlq}: re-driven ${total} record(s)${where ? ` (${where})` : ''}${skipped ? `; skipped ${skipped} naming no topic of this deployment` : ''}`);
      }
    });
}
