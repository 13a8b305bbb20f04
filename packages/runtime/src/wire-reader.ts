import { connect, type Socket } from 'node:net';
import { decodeBatches, decodeFetch, decodeMetadata, fetchRequest, KAFKA_ERRORS, LEADER_ERRORS, metadataRequest, type TopicMetadata, type WireRecord } from './wire.ts';

// Reading fixed ranges of one topic's partitions over Kafka's wire protocol (wire.ts), for code
// that runs where the librdkafka binding cannot: the rebuild's parse workers, which read their own
// partitions so the records never cross the main thread (bench/results/2026-12-07-wire-read.md).
// Like range-read.ts: committed records only, from a start offset to an end offset captured
// beforehand, no consumer group, nothing committed. It speaks plaintext only, as the runtime's
// Kafka settings do.
//
// What it does not read it says, and leaves alone: a partition whose next batch cannot be read
// here (compressed with snappy or lz4, an old message format) or whose offset is gone (retention
// removed it before it was read) is `unreadable` from there; one where nothing moved for `idleMs`
// (an open transaction holds back everything after it, or its leader stayed unreachable) is
// `idle`. The caller takes those on with the full client.

export type { WireRecord } from './wire.ts';

/** `host:port` as its parts. */
export function brokerAddress(address: string): { host: string; port: number } {
  const separator = address.lastIndexOf(':');
  return { host: address.slice(0, separator), port: Number(address.slice(separator + 1)) };
}

/** Bytes a connection reads at a time. */
const READ_BUFFER_BYTES = 64 * 1024;

/** One broker connection; requests are answered in the order sent (topic-configs.ts uses it too). */
export class BrokerConnection {
  private readonly socket: Socket;
  /** The next answer's size as it comes in, then the answer itself, filled as its bytes come. */
  private readonly size = Buffer.alloc(4);
  private sizeHave = 0;
  private answer: Buffer | undefined;
  private answerHave = 0;
  private readonly waiting: { resolve: (body: Buffer) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }[] = [];
  private nextCorrelation = 1;
  private failure: Error | undefined;

  private constructor(socket: Socket, private readonly timeoutMs: number) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the broker closed the connection')));
  }

  static open(host: string, port: number, timeoutMs: number): Promise<BrokerConnection> {
    return new Promise((resolve, reject) => {
      let connection: BrokerConnection | undefined;
      // Every read lands in one buffer of the connection's, copied out at once into the answer it
      // belongs to: no buffer per read, then no joining of them (a rebuild's parse worker reads
      // gigabytes, and memory outside the heap that comes and goes starts full collections).
      const reads = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const socket = connect({
        host, port,
        onread: {
          buffer: reads,
          callback: (bytes) => {
            connection?.received(reads.subarray(0, bytes));
            return true;
          },
        },
      });
      const timer = setTimeout(() => socket.destroy(new Error(`no connection to ${host}:${port} in ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', reject);
        resolve((connection = new BrokerConnection(socket, timeoutMs)));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  /** Sends what `build` makes with the next correlation id; resolves with the answer's body. */
  request(build: (correlationId: number) => Buffer): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no answer from the broker in ${this.timeoutMs} ms`)), this.timeoutMs);
      this.waiting.push({ resolve, reject, timer });
      this.socket.write(build(this.nextCorrelation++));
    });
  }

  close(): void {
    this.fail(new Error('closed'));
  }

  /** Bytes read (a view of the read buffer: copied before this returns). */
  private received(bytes: Buffer): void {
    let at = 0;
    for (;;) {
      if (this.answer === undefined) {
        const taken = Math.min(4 - this.sizeHave, bytes.length - at);
        bytes.copy(this.size, this.sizeHave, at, at + taken);
        this.sizeHave += taken;
        at += taken;
        if (this.sizeHave < 4) return;
        this.answer = Buffer.allocUnsafe(this.size.readInt32BE(0));
        this.answerHave = 0;
        this.sizeHave = 0;
      }
      const taken = Math.min(this.answer.length - this.answerHave, bytes.length - at);
      bytes.copy(this.answer, this.answerHave, at, at + taken);
      this.answerHave += taken;
      at += taken;
      if (this.answerHave < this.answer.length) return;
      const answer = this.answer;
      this.answer = undefined;
      const next = this.waiting.shift();
      if (!next) return this.fail(new Error('an answer nobody asked for'));
      clearTimeout(next.timer);
      next.resolve(answer.subarray(4)); // past the correlation id: answers come in order
      if (this.failure) return;
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const job of this.waiting.splice(0)) {
      clearTimeout(job.timer);
      job.reject(this.failure);
    }
    this.socket.destroy();
  }
}

export interface WireRange {
  partition: number;
  /** first offset to read */
  from: number;
  /** end offset captured before reading: records at or after it are left alone */
  end: number;
}

export interface WireReadOptions {
  /** `host:port` of the brokers to start from. */
  brokers: string[];
  clientId: string;
  topic: string;
  ranges: WireRange[];
  /** Each fetched partition's records in offset order (none when only markers or gaps were passed); awaited. */
  onRecords(partition: number, records: WireRecord[], nextOffset: number): Promise<void> | void;
  /** Whether a partition is still wanted (false: it is read no further). */
  wanted?(partition: number): boolean;
  idleMs?: number;
  maxBytesPerPartition?: number;
  /** How long a broker may take to connect or answer. */
  requestTimeoutMs?: number;
}

export interface WireReadResult {
  /** Partitions where nothing moved for `idleMs`. */
  idle: number[];
  /** Partitions left at `offset`: what comes next cannot be read here. */
  unreadable: { partition: number; offset: number; reason: string }[];
}

const MAX_WAIT_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `ranges` to their ends; each partition's records reach `onRecords` in order, one fetch's worth at a time. */
export async function readRangesByWire(options: WireReadOptions): Promise<WireReadResult> {
  const { topic, clientId, idleMs = 5000, maxBytesPerPartition = 4 * 1024 * 1024, requestTimeoutMs = 30000 } = options;
  const wanted = options.wanted ?? (() => true);
  const ends = new Map(options.ranges.filter((range) => range.from < range.end).map((range) => [range.partition, range.end]));
  const positions = new Map(options.ranges.filter((range) => range.from < range.end).map((range) => [range.partition, range.from]));
  const unreadable: WireReadResult['unreadable'] = [];
  const connections = new Map<number, BrokerConnection>();
  let metadata: TopicMetadata | undefined;

  const lookup = async (): Promise<TopicMetadata> => {
    let last: unknown;
    for (const address of options.brokers) {
      const { host, port } = brokerAddress(address);
      let connection: BrokerConnection | undefined;
      try {
        connection = await BrokerConnection.open(host, port, requestTimeoutMs);
        const found = decodeMetadata(await connection.request((id) => metadataRequest(id, clientId, topic)), topic);
        if (found.errorCode !== KAFKA_ERRORS.none) throw new Error(`Kafka error ${found.errorCode} for topic ${topic}`);
        return found;
      } catch (error) {
        last = error;
      } finally {
        connection?.close();
      }
    }
    throw new Error(`no broker answered for ${topic}: ${(last as Error)?.message}`);
  };

  const connectionTo = async (nodeId: number): Promise<BrokerConnection> => {
    const open = connections.get(nodeId);
    if (open && !open.broken) return open;
    const broker = metadata!.brokers.find((entry) => entry.nodeId === nodeId);
    if (!broker) throw new Error(`broker ${nodeId} is not in the cluster's metadata`);
    const connection = await BrokerConnection.open(broker.host, broker.port, requestTimeoutMs);
    connections.set(nodeId, connection);
    return connection;
  };

  /** One fetch per leader for the partitions still to read; a leader that fails is looked up again. */
  const fetchAll = () => {
    const byLeader = new Map<number, { partition: number; offset: number; leaderEpoch: number; maxBytes: number }[]>();
    for (const [partition, offset] of positions) {
      if (!wanted(partition)) continue;
      const leader = metadata!.partitions.find((entry) => entry.partition === partition);
      if (!leader || leader.leader < 0) continue;
      byLeader.set(leader.leader, [...(byLeader.get(leader.leader) ?? []), { partition, offset, leaderEpoch: leader.leaderEpoch, maxBytes: maxBytesPerPartition }]);
    }
    return Promise.all([...byLeader].map(async ([nodeId, partitions]) => {
      try {
        const connection = await connectionTo(nodeId);
        const body = await connection.request((id) => fetchRequest(id, clientId, topic, partitions, { maxWaitMs: MAX_WAIT_MS, maxBytes: Math.max(52428800, partitions.length * maxBytesPerPartition) }));
        return { asked: partitions, answer: decodeFetch(body), failed: undefined };
      } catch (error) {
        connections.get(nodeId)?.close();
        connections.delete(nodeId);
        return { asked: partitions, answer: undefined, failed: error as Error };
      }
    }));
  };

  try {
    metadata = await lookup();
    let lastProgress = Date.now();
    let inFlight = fetchAll();
    while (positions.size > 0) {
      const answers = await inFlight;
      let stale = answers.length === 0;
      const handed: { partition: number; records: WireRecord[]; nextOffset: number }[] = [];
      for (const { asked, answer, failed } of answers) {
        if (failed || !answer || answer.errorCode !== KAFKA_ERRORS.none) {
          stale = true;
          continue;
        }
        for (const fetched of answer.partitions) {
          const position = positions.get(fetched.partition);
          const request = asked.find((entry) => entry.partition === fetched.partition);
          if (position === undefined || request === undefined || request.offset !== position || !wanted(fetched.partition)) continue;
          if (LEADER_ERRORS.has(fetched.errorCode)) {
            stale = true;
            continue;
          }
          if (fetched.errorCode === KAFKA_ERRORS.offsetOutOfRange) {
            unreadable.push({ partition: fetched.partition, offset: position, reason: `offset ${position} is no longer in the log (retention removed it before it was read)` });
            positions.delete(fetched.partition);
            continue;
          }
          if (fetched.errorCode !== KAFKA_ERRORS.none) throw new Error(`Kafka error ${fetched.errorCode} fetching ${topic}/${fetched.partition}`);
          const end = ends.get(fetched.partition)!;
          const read = decodeBatches(fetched.records, position, end, fetched.aborted);
          if (read.nextOffset > position || read.records.length > 0) {
            lastProgress = Date.now();
            handed.push({ partition: fetched.partition, records: read.records, nextOffset: read.nextOffset });
          }
          if (!read.ok) {
            unreadable.push({ partition: fetched.partition, offset: read.nextOffset, reason: read.reason });
            positions.delete(fetched.partition);
          } else if (read.nextOffset >= end) {
            positions.delete(fetched.partition);
          } else {
            positions.set(fetched.partition, read.nextOffset);
          }
        }
      }
      for (const partition of positions.keys()) if (!wanted(partition)) positions.delete(partition);
      if (stale) {
        await sleep(MAX_WAIT_MS);
        metadata = await lookup().catch(() => metadata);
      }
      const idle = positions.size > 0 && Date.now() - lastProgress > idleMs;
      // The next fetch goes out before these records are taken, so the broker works while they are.
      inFlight = positions.size > 0 && !idle ? fetchAll() : Promise.resolve([]);
      for (const { partition, records, nextOffset } of handed) if (wanted(partition)) await options.onRecords(partition, records, nextOffset);
      if (idle) break;
    }
    return { idle: [...positions.keys()].filter((partition) => wanted(partition)), unreadable };
  } finally {
    for (const connection of connections.values()) connection.close();
  }
}
