import type { Registry } from 'prom-client';
import { type Appender, type ConsumeLoop, type Kafka, type Logger, type PartitionRange, type Pool, settingsOf, startConsumeLoop } from '@trapline/runtime';
import type { Codec } from '@trapline/schemas';
import { BatchPlan } from './domain/batch.ts';
import { applyBatch } from './steps/apply-batch.ts';
import { dropEmptiedPartitions, settle } from './steps/settle.ts';

// The projector: one consumer group over the projected topics, each batch (one partition's
// records) taken through three steps, and only then its offset committed by the runtime's loop:
//   plan   (domain/batch.ts)        records decoded, events parsed, dead letters named — pure
//   apply  (steps/apply-batch.ts)   one Postgres transaction; each read model returns its effects
//   settle (steps/settle.ts)        dead letters appended, emptied partitions dropped, erasures appended

export { handoverLockName } from './steps/apply-batch.ts';

export interface ProjectorConsumerDeps {
  kafka: Kafka;
  pool: Pool;
  codec: Codec;
  appender: Appender;
  groupId: string;
  topics: string[];
  dlqTopic: string;
  logger: Logger;
  /** Width of new time partitions of the events table (EVENTS_PARTITION_SECONDS). */
  partitionWidthSeconds?: number;
  /** After each batch is durable (read models committed, dead letters appended). */
  onBatch?: (outcome: BatchOutcome) => void;
  /** Consumer lag and batch figures (`trapline_consumer_*`) go here. */
  metrics?: Registry;
}

export interface BatchOutcome {
  /** Records applied to the read models, by record name. */
  projected: Map<string, number>;
  /** Records appended to the dead-letter topic. */
  deadLettered: number;
}

/** How long after a drop that gave up it is tried again. */
const DROP_RETRY_MS = 5000;
/** Records planned between two turns of the event loop (about 10 ms of parsing). */
const PLAN_SLICE = 500;

export async function startProjectorConsumer(deps: ProjectorConsumerDeps): Promise<ConsumeLoop> {
  const partitionWidthSeconds = deps.partitionWidthSeconds ?? 86400;
  // The events table's partitions known to exist, as of the last committed batch: each batch works
  // on a copy. Forgotten when a batch fails (one may have been dropped under it by another
  // instance) and when this process drops some.
  let partitions: PartitionRange[] = [];
  // Bumped whenever this process drops partitions: a batch that started before keeps no cache.
  let drops = 0;
  // Emptied partitions whose drop gave up (readers held the tables) are tried again on a timer,
  // not only at the next expiry, which may be a day away.
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const dropLater = () => {
    if (stopped) return;
    retry ??= setTimeout(async () => {
      if (await dropEmptiedPartitions(deps)) {
        drops += 1;
        partitions = [];
        retry = undefined;
      } else {
        retry = undefined;
        dropLater();
      }
    }, DROP_RETRY_MS).unref();
  };
  if (!(await dropEmptiedPartitions(deps))) dropLater();
  // A fetch waits for 512 KB or 100 ms, as the deleter's do: under steady traffic a batch (one
  // transaction, a dozen statements, an offset commit) then holds many produce requests' worth of
  // events instead of one, for up to 100 ms more from ack to visible (measured: bench/README.md).
  const loop = await startConsumeLoop({
    client: settingsOf(deps.kafka),
    groupId: deps.groupId,
    topics: deps.topics,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    fetchMinBytes: 512 * 1024,
    fetchMaxWaitMs: 100,
    // Records per poll, across partitions; each partition's share is one batch and one transaction,
    // and a fetch brings up to 4 MB of a partition (librdkafka's default, 1 MB, is about 500 events
    // of 2 KB). Behind a backlog, a run then holds a few thousand events, and what a run writes per
    // issue and tag value (the updates of groups and group_tag_values) is written once for more of
    // them: 12,000 and 4 MB against 2,000 and 1 MB took the live projection from 366–381 to
    // 287–300 µs of CPU per event, Postgres' share from 240–251 to 153–161
    // (bench/results/2026-12-03-projector-runs.md). Under light traffic a run is what has come,
    // as before. The memory a cycle holds is bounded by librdkafka's queue (64 MB by default).
    maxBatchSize: 12000,
    fetchMaxPartitionBytes: 4 * 1024 * 1024,
    // Partitions hold disjoint projects, so their batches touch disjoint rows: a few at once keep
    // Postgres busy.
    partitionsConcurrently: 3,
    // A cycle takes what librdkafka has fetched, waiting only for the first record (not up to 100 ms
    // for each up to maxBatchSize): ack → visible lower, quiet and paced (bench/results/2026-12-02-projector-live-3.md).
    takeFetched: true,
    // The loop commits after the handler returned, and also past batches of nothing but transaction
    // markers (the deleter writes in transactions), so the group's offset reaches the end.
    handle: async (batch, control) => {
      if (!control.owned()) return;
      const dropsBefore = drops;
      // Planned a slice at a time, the event loop let run between slices: the other partitions'
      // batches, waiting on Postgres, send their next statement meanwhile, not after this whole parse.
      const plan = new BatchPlan(deps.codec, batch.topic);
      for (let from = 0; from < batch.records.length; from += PLAN_SLICE) {
        if (from > 0) await new Promise((resolve) => setImmediate(resolve));
        plan.add(batch.records.slice(from, from + PLAN_SLICE));
      }
      if (!control.owned()) return;
      const steps = plan.finish();
      const applied = await applyBatch(deps.pool, batch, steps, { partitionWidthSeconds, partitions: [...partitions] }).catch((error: unknown) => {
        partitions = [];
        throw error;
      });
      partitions = drops === dropsBefore ? applied.partitions : [];
      const dropped = await settle(applied, batch, deps);
      if (dropped) {
        drops += 1;
        partitions = [];
      } else if (applied.effects.partitionsEmptied) dropLater();
      // Returning hands the batch back as handled: the transaction, the dead letters and erasures are durable.
      deps.onBatch?.({ projected: applied.projected, deadLettered: applied.deadLetters.length });
    },
  });
  return {
    check: () => loop.check(),
    stop: async () => {
      stopped = true;
      clearTimeout(retry);
      await loop.stop();
    },
  };
}
