import RdKafkaModule, { type Assignment, type KafkaConsumer, type LibrdKafkaError, type Message, type TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import type { Registry } from 'prom-client';
import type { Codec, DecodeResult, Headers } from '@trapline/schemas';
import { SCHEMA_HEADER } from '@trapline/schemas';
import { DLQ_HEADERS, type Appender, type KafkaClientSettings, type TransactionalAppend, type TransactionalAppender } from './kafka.ts';
import type { Logger } from './logger.ts';
import { consumerMetrics } from './metrics.ts';

// The one consume loop: every consumer group of Trapline reads through it (librdkafka's consumer,
// its raw API: the KafkaJS-shaped layer stores offsets itself and never moves them past
// transaction markers). One cycle polls up to `maxBatchSize` records, hands them to the caller one
// partition at a time, and commits what the caller has handled only after its effect is durable:
// inside the caller's Kafka transaction (`control.commit`, with this consumer's group metadata:
// KIP-447), in the cycle's one transaction (`control.stage`: the steps of every batch of the cycle
// and their positions commit together once the last batch is handled, one transaction instead of
// one per batch), or after the handler returned (a plain offset commit). Partitions are handled one after
// the other, as the caller would with one kafkajs consumer and `partitionsConsumedConcurrently: 1`.
//
// Transaction markers: librdkafka never hands a control record to the application, but its
// position moves past it. Once every record polled from a partition is handled, the loop commits
// that position, so a group whose last records were written in a transaction still ends without lag.
//
// Rebalances: librdkafka asks for the revocation on the event loop while a cycle may still run. The
// loop lets that cycle finish (a step in flight commits or fails as the broker decides: with its
// generation, a member that was fenced meanwhile cannot commit), commits what was handled, and only
// then gives the partitions up; records polled from a partition already revoked are dropped.

const { RdKafka } = RdKafkaModule;

const ERR_ASSIGN = -175; // ERR__ASSIGN_PARTITIONS
const ERR_REVOKE = -174; // ERR__REVOKE_PARTITIONS

/** A record as the loop hands it over; `decode` reads it with the codec (once). */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
  /** The schema its header names, without decoding it. */
  schema: string | undefined;
}

/** Consecutive records of one partition, in offset order. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
}

/**
 * What a handler may do with its batch. A handler that returns without calling `commit`, `handled`
 * or `holdFor` has handled its whole batch; one that calls them has handled what it marked, and the
 * records after it are read again (after the hold, if it asked for one). A handler that throws has
 * handled what it marked before: the rest is read again after a short pause of the partition.
 */
export interface BatchControl {
  /**
   * One Kafka transaction: `appends`, and the group moved past `through`, with this consumer's group
   * metadata (KIP-447): a member fenced by a rebalance meanwhile cannot commit it. Needs `transactions`.
   */
  commit(appends: TransactionalAppend[], through: string): Promise<void>;
  /**
   * `commit`, but in the cycle's one transaction: once every batch of the cycle is handled, what
   * they staged and their positions commit together, then each `committed` runs (in staging order).
   * If that transaction fails, each staging batch is read again from where it stood before it
   * staged, after a pause, as if its handler had thrown. A later stage of the batch extends its part
   * (`through` grows); `commit` and `handled` after a stage are refused (they would move the
   * partition past what is not durable yet). Needs `transactions`.
   */
  stage(appends: TransactionalAppend[], through: string, committed?: () => void): void;
  /** Records up to `through` are done with (nothing to append, or their effect is durable). */
  handled(through: string): void;
  /** Pauses the partition for `ms`; what is not marked handled is read again then. */
  holdFor(ms: number): void;
  /** Appends the record to the dead-letter topic with its reason and marks it handled (needs `deadLetters`). */
  deadLetter(record: ConsumedRecord, reason: string): Promise<void>;
  /** False once the partition was revoked or the loop is stopping: the handler should return. */
  owned(): boolean;
}

export type BatchHandler = (batch: ConsumedBatch, control: BatchControl) => Promise<void>;

export interface ConsumeLoopOptions {
  client: KafkaClientSettings;
  groupId: string;
  topics: string[];
  handle: BatchHandler;
  /** The producer whose transactions `control.commit` uses. */
  transactions?: TransactionalAppender;
  /** Where `control.deadLetter` appends (non-transactional callers). */
  deadLetters?: { topic: string; appender: Appender; onDeadLetter?: () => void };
  codec?: Codec;
  /** Lag, batch sizes and durations under the shared consumer metric names. */
  metrics?: Registry;
  /** Records per cycle across partitions (librdkafka polls, then the loop hands them over by partition). */
  maxBatchSize?: number;
  /**
   * A cycle takes the records librdkafka has fetched already, waiting only for the first one
   * (default: it waits for each record up to the poll timeout, so a steady stream fills
   * `maxBatchSize` before the handler sees any). For a consumer whose records are waited for.
   */
  takeFetched?: boolean;
  /** Each cycle's transaction (`control.stage`): the partitions it commits and how long it took, begin to commit. */
  onCycleTransaction?: (partitions: { topic: string; partition: number }[], seconds: number) => void;
  /** Of one cycle's batches, those of these topics are handled first (in this order), the rest as they came. */
  firstTopics?: string[];
  /** librdkafka waits up to this long for `fetchMinBytes` to accumulate on a broker. */
  fetchMaxWaitMs?: number;
  fetchMinBytes?: number;
  /**
   * The most one fetch brings of each partition (librdkafka's `fetch.message.max.bytes`, 1 MB by
   * default; a record larger than it still comes, alone). A cycle's batch of a partition holds at
   * most what its fetches brought.
   */
  fetchMaxPartitionBytes?: number;
  /** A member whose cycle runs longer than this leaves the group (its partitions go to others). */
  maxPollIntervalMs?: number;
  sessionTimeoutMs?: number;
  /** How long a partition rests after its handler threw, before it is read again. */
  retryPauseMs?: number;
  /**
   * Batches of different partitions handled at once within a cycle (default 1: one after the other).
   * Only for handlers whose partitions touch disjoint state, and without `transactions` (one
   * producer runs one transaction at a time).
   */
  partitionsConcurrently?: number;
  onJoin?: (assignment: { topic: string; partition: number }[]) => void;
  /**
   * After each cycle, per assigned partition: the offset the group stands at (past what was handled
   * and the transaction markers after it). A reader that stops at an end offset watches this.
   */
  onPosition?: (topic: string, partition: number, next: bigint) => void;
}

export interface ConsumeLoop {
  /** Readiness: undefined while the consumer is in its group, otherwise its state. */
  check(): string | undefined;
  /** Lets the cycle in flight finish, commits what was handled, leaves the group. */
  stop(): Promise<void>;
}

const partitionId = (topic: string, partition: number) => `${topic}/${partition}`;

/** Where the loop stands in one assigned partition. */
interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset not handled (undefined: nothing handled since the assignment). */
  handledNext: bigint | undefined;
  /** One past the highest offset polled since the assignment. */
  polledNext: bigint | undefined;
  /** The offset the group was last asked to commit. */
  committed: bigint | undefined;
  held: NodeJS.Timeout | undefined;
  revoked: boolean;
}

/** A batch's part of the cycle's transaction (`control.stage`). */
interface Staged {
  state: PartitionState;
  /** Where the partition is read again from if the transaction fails. */
  from: bigint;
  /** The last offset the part covers. */
  through: bigint;
  appends: TransactionalAppend[];
  committed: (() => void)[];
}

/** A librdkafka message's headers, repeated ones as arrays (what the codec reads). */
export function headersOf(message: Message): Headers {
  const headers: Headers = {};
  for (const entry of message.headers ?? []) {
    for (const [key, value] of Object.entries(entry)) {
      const existing = headers[key];
      headers[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
  }
  return headers;
}

/**
 * Where a record keeps its decoded form. Not a WeakMap: V8's scavenger keeps a WeakMap's values
 * alive whatever their keys, so every decoded record (an event's payload text) outlived two
 * young-generation collections and was promoted to the old generation, there to be marked and
 * compacted: in the notifier, 12 MB promoted per scavenge at 1,000 events/s and a fifth of its CPU
 * in the collector's threads (bench/results/2026-12-03-alerts-cpu.md).
 */
const DECODED = Symbol('decoded');
type DecodedOnce = ConsumedRecord & { [DECODED]?: DecodeResult };

function recordOf(message: Message): ConsumedRecord {
  const headers = headersOf(message);
  const schema = headers[SCHEMA_HEADER];
  const key = message.key === undefined || message.key === null ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(String(message.key));
  return {
    topic: message.topic,
    partition: message.partition,
    offset: String(message.offset),
    key,
    value: message.value,
    headers,
    schema: (Array.isArray(schema) ? schema[0] : schema)?.toString(),
  };
}

/** The dead-letter form of a consumed record: original key, value and headers, plus where it came from and why. */
export function deadLetterOf(record: ConsumedRecord, reason: string): { key: Buffer | null; value: Buffer | null; headers: Headers } {
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.topic]: record.topic,
      [DLQ_HEADERS.partition]: String(record.partition),
      [DLQ_HEADERS.offset]: record.offset,
    },
  };
}

/** Decodes a consumed record with the codec; memoized per record (on it, not enumerable: it goes with the record). */
export function decodeRecord(codec: Codec, record: ConsumedRecord): DecodeResult {
  const memo = (record as DecodedOnce)[DECODED];
  if (memo) return memo;
  const decoded = codec.decode(record.headers, record.value);
  Object.defineProperty(record, DECODED, { value: decoded });
  return decoded;
}

/** One cycle's batches in the order they are handled: those of `firstTopics` first (in that order), the others as they came. */
export function inHandlingOrder<T extends { topic: string }>(batches: T[], firstTopics: string[]): T[] {
  const rank = (topic: string) => {
    const at = firstTopics.indexOf(topic);
    return at === -1 ? firstTopics.length : at;
  };
  return [...batches].sort((a, b) => rank(a.topic) - rank(b.topic));
}

/** Thrown by `control.commit` for a partition this member no longer owns: the records are someone else's now. */
export class PartitionRevoked extends Error {}

class Loop implements ConsumeLoop {
  private readonly consumer: KafkaConsumer;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly logger: Logger;
  private readonly metrics;
  private state = 'not joined yet';
  private joined = false;
  private running = true;
  private cycle: Promise<void> = Promise.resolve();
  private rebalancing: Promise<void> = Promise.resolve();
  private done: Promise<void> | undefined;
  /** The cycle's transaction so far, by partition (`control.stage`). */
  private readonly staged = new Map<PartitionState, Staged>();

  constructor(private readonly options: ConsumeLoopOptions) {
    if (options.transactions && (options.partitionsConcurrently ?? 1) > 1) throw new Error('a transactional consume loop handles one partition at a time');
    this.logger = options.client.logger.child({ component: 'consume-loop', group: options.groupId });
    this.metrics = options.metrics ? consumerMetrics(options.metrics) : undefined;
    this.consumer = new RdKafka.KafkaConsumer({
      'bootstrap.servers': options.client.brokers.join(','),
      'client.id': options.client.clientId,
      'group.id': options.groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'auto.offset.reset': 'earliest',
      // Committed records only; also makes the offset fetch wait for a pending transactional commit (KIP-447).
      'isolation.level': 'read_committed',
      'allow.auto.create.topics': false,
      'session.timeout.ms': options.sessionTimeoutMs ?? 30000,
      'heartbeat.interval.ms': 3000,
      'max.poll.interval.ms': options.maxPollIntervalMs ?? 300000,
      'fetch.wait.max.ms': options.fetchMaxWaitMs ?? 100,
      'fetch.min.bytes': options.fetchMinBytes ?? 1,
      ...(options.fetchMaxPartitionBytes !== undefined ? { 'fetch.message.max.bytes': options.fetchMaxPartitionBytes } : {}),
      'socket.nagle.disable': true,
      rebalance_cb: (error: LibrdKafkaError, assignment: Assignment[]) => this.rebalance(error, assignment),
      offset_commit_cb: (error: LibrdKafkaError | undefined, offsets: TopicPartitionOffset[]) => this.commitAnswered(error, offsets),
    });
    this.consumer.on('event.error', (error) => this.logger.warn({ code: error.code }, error.message));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.consumer.connect({ timeout: 30000 }, (error) => (error ? reject(error) : resolve()));
    });
    this.consumer.setDefaultConsumeTimeout(100);
    if (this.options.takeFetched) (this.consumer as KafkaConsumer & { setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.consumer.subscribe(this.options.topics);
    this.done = this.run();
  }

  check(): string | undefined {
    return this.state === 'joined' ? undefined : this.state;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.rebalancing;
      if (!this.running) break;
      this.cycle = this.oneCycle();
      await this.cycle;
    }
  }

  private consume(): Promise<Message[]> {
    return new Promise((resolve, reject) => {
      this.consumer.consume(this.options.maxBatchSize ?? 500, (error, messages) => (error ? reject(error) : resolve(messages ?? [])));
    });
  }

  private async oneCycle(): Promise<void> {
    let messages: Message[];
    try {
      messages = await this.consume();
    } catch (error) {
      const { code, message } = error as LibrdKafkaError;
      if (code === -185 /* ERR__TIMED_OUT */) return;
      this.logger.warn({ code }, `consume failed: ${message}`);
      this.state = `rejoining after: ${message}`;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return;
    }
    if (this.state.startsWith('rejoining after') && this.joined) this.state = 'joined';
    const batches = new Map<string, ConsumedBatch>();
    for (const message of messages) {
      const state = this.partitions.get(partitionId(message.topic, message.partition));
      if (!state || state.revoked) continue; // revoked while this cycle polled: the next owner reads it
      const offset = BigInt(message.offset);
      if (state.handledNext !== undefined && offset < state.handledNext) continue; // already handled (a fetch raced a seek)
      state.polledNext = state.polledNext === undefined || offset + 1n > state.polledNext ? offset + 1n : state.polledNext;
      const id = partitionId(message.topic, message.partition);
      let batch = batches.get(id);
      if (!batch) batches.set(id, (batch = { topic: message.topic, partition: message.partition, records: [] }));
      batch.records.push(recordOf(message));
    }
    const waiting = inHandlingOrder([...batches.values()], this.options.firstTopics ?? []);
    const width = Math.min(this.options.partitionsConcurrently ?? 1, waiting.length);
    await Promise.all(Array.from({ length: width }, async () => {
      for (let batch = waiting.shift(); batch && this.running; batch = waiting.shift()) await this.handleBatch(batch);
    }));
    await this.commitStaged();
    this.commitHandled();
  }

  private async handleBatch(batch: ConsumedBatch): Promise<void> {
    const state = this.partitions.get(partitionId(batch.topic, batch.partition))!;
    const started = performance.now();
    let marked = false;
    const owned = () => this.running && !state.revoked && this.partitions.get(partitionId(batch.topic, batch.partition)) === state;
    const refuseAfterStage = (what: string) => {
      if (this.staged.has(state)) throw new Error(`control.${what} after control.stage in one batch: the staged part is not durable yet`);
    };
    const markHandled = (through: string) => {
      marked = true;
      const next = BigInt(through) + 1n;
      if (state.handledNext === undefined || next > state.handledNext) state.handledNext = next;
    };
    const control: BatchControl = {
      owned,
      handled: (through) => {
        refuseAfterStage('handled');
        markHandled(through);
      },
      holdFor: (ms) => {
        marked = true;
        this.hold(state, ms);
      },
      commit: async (appends, through) => {
        if (!this.options.transactions) throw new Error('control.commit needs a transactional appender');
        if (!owned()) throw new PartitionRevoked(`${batch.topic}/${batch.partition} is no longer this member's`);
        refuseAfterStage('commit');
        await this.options.transactions.commit(appends, { consumer: this.consumer, topic: batch.topic, partition: batch.partition, offset: (BigInt(through) + 1n).toString() });
        markHandled(through);
        state.committed = BigInt(through) + 1n;
      },
      stage: (appends, through, committed) => {
        if (!this.options.transactions) throw new Error('control.stage needs a transactional appender');
        if (!owned()) throw new PartitionRevoked(`${batch.topic}/${batch.partition} is no longer this member's`);
        marked = true;
        let part = this.staged.get(state);
        if (!part) this.staged.set(state, (part = { state, from: state.handledNext ?? BigInt(batch.records[0]!.offset), through: BigInt(through), appends: [], committed: [] }));
        if (BigInt(through) > part.through) part.through = BigInt(through);
        part.appends.push(...appends);
        if (committed) part.committed.push(committed);
      },
      deadLetter: async (record, reason) => {
        const target = this.options.deadLetters;
        if (!target) throw new Error('control.deadLetter needs a dead-letter topic');
        await target.appender.appendRaw(target.topic, [deadLetterOf(record, reason)]);
        target.onDeadLetter?.();
        markHandled(record.offset);
      },
    };
    try {
      await this.options.handle(batch, control);
      // A handler that returned because the loop is stopping or the partition went elsewhere handled only what it marked.
      if (!marked && owned()) markHandled(batch.records.at(-1)!.offset);
    } catch (error) {
      if (owned()) {
        this.logger.warn({ topic: batch.topic, partition: batch.partition, err: error }, 'batch failed: read again after a pause');
        this.hold(state, this.options.retryPauseMs ?? 1000);
      }
    }
    const last = BigInt(batch.records.at(-1)!.offset);
    // A staged part counts as handled here: if the cycle's transaction fails, it is read again from where it started.
    const part = this.staged.get(state);
    const handledNext = part ? part.through + 1n : state.handledNext;
    if (owned() && (handledNext === undefined || handledNext <= last)) {
      // What was not handled is read again (after the hold): librdkafka's fetch position goes back to it.
      const from = handledNext ?? BigInt(batch.records[0]!.offset);
      this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: Number(from) }, 0, (error) => {
        if (error) this.logger.warn({ topic: batch.topic, partition: batch.partition, code: error.code }, `seek failed: ${error.message}`);
      });
      state.polledNext = from;
    }
    const records = batch.records.length;
    this.metrics?.batchRecords.observe({ group: this.options.groupId, topic: batch.topic }, records);
    this.metrics?.batchSeconds.observe({ group: this.options.groupId, topic: batch.topic }, (performance.now() - started) / 1000);
  }

  /**
   * The cycle's one transaction: every staged part and its position. A partition revoked meanwhile
   * is left out (its next owner reads it); one the loop still owns while stopping goes in (its
   * step is done, sends included). If the transaction fails, each part is read again after a pause.
   */
  private async commitStaged(): Promise<void> {
    if (this.staged.size === 0) return;
    const still = (state: PartitionState) => !state.revoked && this.partitions.get(partitionId(state.topic, state.partition)) === state;
    const parts = [...this.staged.values()].filter((part) => still(part.state));
    this.staged.clear();
    if (parts.length === 0) return;
    const started = performance.now();
    try {
      await this.options.transactions!.commit(
        parts.flatMap((part) => part.appends),
        parts.map(({ state, through }) => ({ consumer: this.consumer, topic: state.topic, partition: state.partition, offset: (through + 1n).toString() })),
      );
    } catch (error) {
      this.logger.warn({ partitions: parts.map(({ state }) => partitionId(state.topic, state.partition)), err: error }, 'the cycle\'s transaction failed: its batches are read again after a pause');
      for (const { state, from } of parts) {
        if (!still(state)) continue;
        this.hold(state, this.options.retryPauseMs ?? 1000);
        this.consumer.seek({ topic: state.topic, partition: state.partition, offset: Number(from) }, 0, (seekError) => {
          if (seekError) this.logger.warn({ topic: state.topic, partition: state.partition, code: seekError.code }, `seek failed: ${seekError.message}`);
        });
        state.polledNext = from;
      }
      return;
    }
    this.options.onCycleTransaction?.(parts.map(({ state }) => ({ topic: state.topic, partition: state.partition })), (performance.now() - started) / 1000);
    for (const { state, through, committed } of parts) {
      const next = through + 1n;
      if (state.handledNext === undefined || next > state.handledNext) state.handledNext = next;
      state.committed = next;
      for (const done of committed) {
        try {
          done();
        } catch (error) {
          this.logger.warn({ topic: state.topic, partition: state.partition, err: error }, 'a step\'s committed callback threw');
        }
      }
    }
  }

  private hold(state: PartitionState, ms: number): void {
    const toppar = [{ topic: state.topic, partition: state.partition }];
    try {
      this.consumer.pause(toppar);
    } catch {
      return; // not assigned any more
    }
    clearTimeout(state.held);
    state.held = setTimeout(() => {
      state.held = undefined;
      if (state.revoked || !this.running) return;
      try {
        this.consumer.resume(toppar);
      } catch {
        // revoked meanwhile
      }
    }, ms);
  }

  /** Where the group may stand in a partition: past every handled record, and past the transaction markers after them. */
  private commitTarget(state: PartitionState): bigint | undefined {
    let target = state.handledNext;
    const everythingPolledHandled = state.polledNext === undefined || (state.handledNext !== undefined && state.handledNext >= state.polledNext);
    if (everythingPolledHandled) {
      const [position] = this.consumer.position([{ topic: state.topic, partition: state.partition }]);
      const at = position && position.offset >= 0 ? BigInt(position.offset) : undefined;
      if (at !== undefined && (target === undefined || at > target)) target = at;
    }
    return target;
  }

  /** Commits what was handled (and the markers after it) where the group is not there yet; sets the lag. */
  private commitHandled(sync = false): void {
    const offsets: TopicPartitionOffset[] = [];
    for (const state of this.partitions.values()) {
      if (state.revoked) continue;
      const target = this.commitTarget(state);
      if (target === undefined) continue;
      this.reportLag(state, target);
      this.options.onPosition?.(state.topic, state.partition, target);
      if (state.committed !== undefined && target <= state.committed) continue;
      state.committed = target;
      offsets.push({ topic: state.topic, partition: state.partition, offset: Number(target) });
    }
    if (offsets.length === 0) return;
    try {
      if (sync) this.consumer.commitSync(offsets);
      else this.consumer.commit(offsets);
    } catch (error) {
      for (const { topic, partition } of offsets) {
        const state = this.partitions.get(partitionId(topic, partition));
        if (state) state.committed = undefined;
      }
      this.logger.warn({ err: error }, 'offset commit failed: tried again after the next cycle');
    }
  }

  private commitAnswered(error: LibrdKafkaError | undefined, offsets: TopicPartitionOffset[]): void {
    if (!error || error.code === -191 /* ERR__NO_OFFSET */) return;
    this.logger.warn({ code: error.code }, `offset commit failed: ${error.message}`);
    for (const { topic, partition } of offsets ?? []) {
      const state = this.partitions.get(partitionId(topic, partition));
      if (state) state.committed = undefined;
    }
  }

  private reportLag(state: PartitionState, position: bigint): void {
    if (!this.metrics) return;
    try {
      const { highOffset } = this.consumer.getWatermarkOffsets(state.topic, state.partition);
      if (highOffset < 0) return;
      const lag = BigInt(highOffset) - position;
      this.metrics.lag.set({ group: this.options.groupId, topic: state.topic, partition: String(state.partition) }, Number(lag > 0n ? lag : 0n));
    } catch {
      // no watermark known yet
    }
  }

  private rebalance(error: LibrdKafkaError, assignment: Assignment[]): void {
    if (error.code === ERR_ASSIGN) {
      for (const { topic, partition } of assignment) {
        this.partitions.set(partitionId(topic, partition), { topic, partition, handledNext: undefined, polledNext: undefined, committed: undefined, held: undefined, revoked: false });
      }
      try {
        this.consumer.assign(assignment);
        // librdkafka keeps a partition's pause across a revocation: held partitions start afresh here.
        if (assignment.length > 0) this.consumer.resume(assignment.map(({ topic, partition }) => ({ topic, partition })));
      } catch (assignError) {
        this.logger.warn({ err: assignError }, 'assign failed');
      }
      this.state = 'joined';
      this.joined = true;
      this.options.onJoin?.(assignment.map(({ topic, partition }) => ({ topic, partition })));
      return;
    }
    if (error.code !== ERR_REVOKE) {
      this.logger.warn({ code: error.code }, `rebalance error: ${error.message}`);
      return;
    }
    const lost = (this.consumer as KafkaConsumer & { assignmentLost(): boolean }).assignmentLost();
    for (const state of this.partitions.values()) state.revoked = true;
    // Give the partitions up only once the cycle in flight is over (its steps committed or failed).
    this.rebalancing = this.cycle.then(() => {
      if (!lost) this.commitRevoked();
      for (const state of this.partitions.values()) {
        clearTimeout(state.held);
        if (state.held !== undefined) {
          try {
            this.consumer.resume([{ topic: state.topic, partition: state.partition }]);
          } catch {
            // gone already
          }
        }
        if (this.metrics) this.metrics.lag.remove({ group: this.options.groupId, topic: state.topic, partition: String(state.partition) });
      }
      this.partitions.clear();
      try {
        this.consumer.unassign();
      } catch (unassignError) {
        this.logger.warn({ err: unassignError }, 'unassign failed');
      }
    });
  }

  private commitRevoked(): void {
    for (const state of this.partitions.values()) state.revoked = false;
    try {
      this.commitHandled(true);
    } catch {
      // the next owner reads from the last commit
    }
    for (const state of this.partitions.values()) state.revoked = true;
  }

  async stop(): Promise<void> {
    if (!this.running) return this.done;
    this.running = false;
    await this.done;
    await this.rebalancing;
    for (const state of this.partitions.values()) clearTimeout(state.held);
    try {
      this.commitHandled(true);
    } catch {
      // the next member reads from the last commit
    }
    this.state = 'stopped';
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}

/**
 * Starts the group's consume loop; resolves once connected and subscribed (joining goes on in the
 * background: `check()` says when it is in).
 */
export async function startConsumeLoop(options: ConsumeLoopOptions): Promise<ConsumeLoop> {
  const loop = new Loop(options);
  await loop.start();
  return loop;
}
