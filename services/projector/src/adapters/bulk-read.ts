import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { WireRange } from '@trapline/runtime/wire';
import type { BulkEvents, BulkRows } from './bulk-parse.ts';

// The bulk load's reading of the events topic: worker threads that each read some of its
// partitions over Kafka's wire protocol (the runtime's wire-reader.ts) and parse what they read
// (bulk-parse.ts), so the records never cross the main thread. The main thread only takes their
// batches in each partition's order and decides (bulk.ts). Handing librdkafka's messages over on
// the main thread, then packing them off to parse workers, was about 40 % of its work
// (bench/results/2026-12-07-wire-read.md); the binding cannot be loaded on a worker thread.

/** Records per batch a worker sends (one fetch of a partition may make several). */
export const READ_BATCH = 256;

/** A record of a batch other than an EventReceived parsed: an event the parse refused (why), or any other record as it is. */
export type OtherRecord = { reason: string } | { key: Uint8Array | null; value: Uint8Array | null; headers: Record<string, string | string[]> };

/**
 * A partition's records in order, column by column (cheap to clone): the parsed events, the rows
 * written for them, the other records, and where the partition's reading stands after them.
 */
export interface ReadBatch {
  partition: number;
  /** Each record's offset. */
  offsets: number[];
  /** Each record's index among `events` (≥ 0), or -1 minus its index among `others`. */
  kinds: number[];
  events: BulkEvents;
  /** Per event: where its value lies in `rows` when it may have to be read again (between that mark and the next; -1: not carried), and its schema version. */
  raws: number[];
  versions: (string | null)[];
  others: OtherRecord[];
  rows: BulkRows;
  /** The numbers of its events' tags and the pairs first met in it (tag-sums.ts); null once its reader stopped numbering them. */
  tagPairs: { ids: Uint32Array; added: string[]; from: number } | null;
  nextOffset: number;
}

export interface ReadResult {
  /** Partitions where nothing moved for `idleMs` (an open transaction holds them back). */
  idle: number[];
  /** Partitions the wire reader cannot go on with, from `offset`. */
  unreadable: { partition: number; offset: number; reason: string }[];
}

/** What a worker is given. */
export interface ReaderJob {
  brokers: string[];
  clientId: string;
  topic: string;
  ranges: WireRange[];
  idleMs: number;
  maxBytesPerPartition: number;
  /** Batches it may send before the loader has taken them. */
  credits: number;
  /** Where it sends its batches; each is announced on the worker's own channel by a `batch` message. */
  batches: MessagePort;
}

export type ReaderMessage = { type: 'batch' } | ({ type: 'done' } & ReadResult) | { type: 'error'; message: string };

export interface BulkReadersOptions {
  brokers: string[];
  clientId: string;
  topic: string;
  ranges: WireRange[];
  /** Worker threads (default: the cores, at most 4, at most one per partition). */
  workers?: number;
  idleMs?: number;
  maxBytesPerPartition?: number;
}

/**
 * Reads `ranges` on worker threads, one share of the partitions each; `take` gets every batch in
 * its partition's order, one at a time. After each, a partition `stopped` says is done with is
 * read no further. Resolves once every worker finished (or each partition stopped).
 */
export async function readOnWorkers(options: BulkReadersOptions, take: (batch: ReadBatch) => Promise<void>, stopped: (partition: number) => boolean): Promise<ReadResult> {
  const ranges = options.ranges.filter((range) => range.from < range.end);
  if (ranges.length === 0) return { idle: [], unreadable: [] };
  const count = Math.max(1, Math.min(options.workers ?? Math.min(4, availableParallelism()), ranges.length));
  const shares = Array.from({ length: count }, (_, index) => ranges.filter((_range, at) => at % count === index));
  const result: ReadResult = { idle: [], unreadable: [] };
  // The code runs from source: a worker needs tsx (Node's own type stripping refuses parts of it).
  // Only the process' loaders are passed on: a worker refuses V8 flags (`--max-semi-space-size`),
  // and its heap takes the process' own (NODE_FLAGS in packages/cli/src/services.ts).
  const execArgv = ['--import', 'tsx'];
  // Each worker's batches wait on a port of their own, still serialized, until the loader takes
  // them (receiveMessageOnPort): a batch is made into objects only when its turn comes, and they
  // die young; the worker's own channel only announces them and carries its answer.
  const channels = shares.map(() => new MessageChannel());
  const workers = shares.map((share, index) => new Worker(new URL('./bulk-read.worker.ts', import.meta.url), {
    execArgv,
    workerData: {
      brokers: options.brokers, clientId: options.clientId, topic: options.topic, ranges: share,
      idleMs: options.idleMs ?? 5000, maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024, credits: 8,
      batches: channels[index]!.port2,
    } satisfies ReaderJob,
    transferList: [channels[index]!.port2],
  }));
  const owner = new Map(shares.flatMap((share, index) => share.map((range) => [range.partition, workers[index]!] as const)));
  const told = new Set<number>();
  try {
    await new Promise<void>((resolve, reject) => {
      /** Workers whose next batch waits on their port, in the order announced. */
      const queue: MessagePort[] = [];
      let running = false;
      let finished = 0;
      let failed = false;
      const fail = (error: unknown) => {
        failed = true;
        reject(error);
      };
      const settleIfDone = () => {
        if (!running && queue.length === 0 && finished === workers.length) resolve();
      };
      const pump = async () => {
        if (running) return;
        running = true;
        try {
          for (let port = queue.shift(); port && !failed; port = queue.shift()) {
            const batch = receiveMessageOnPort(port)!.message as ReadBatch;
            await take(batch);
            const worker = owner.get(batch.partition)!;
            if (stopped(batch.partition) && !told.has(batch.partition)) {
              told.add(batch.partition);
              worker.postMessage({ type: 'stop', partition: batch.partition });
            }
            worker.postMessage({ type: 'credit' });
          }
        } catch (error) {
          fail(error);
        } finally {
          running = false;
        }
        settleIfDone();
      };
      for (const [index, worker] of workers.entries()) {
        let done = false;
        worker.on('message', (message: ReaderMessage) => {
          if (message.type === 'batch') {
            queue.push(channels[index]!.port1);
            void pump();
          } else if (message.type === 'done') {
            done = true;
            result.idle.push(...message.idle);
            result.unreadable.push(...message.unreadable);
            finished += 1;
            settleIfDone();
          } else {
            fail(new Error(`reading the events topic: ${message.message}`));
          }
        });
        worker.on('error', fail);
        // A worker that ends without its answer (killed, out of memory) would leave the read waiting forever.
        worker.on('exit', (code) => {
          if (!done) fail(new Error(`a reader of the events topic ended (exit code ${code}) before it finished`));
        });
      }
    });
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
    for (const channel of channels) channel.port1.close();
  }
  return result;
}
