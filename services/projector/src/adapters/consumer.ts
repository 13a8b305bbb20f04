import type { Registry } from 'prom-client';
import {
  type Appender, type ConsumedBatch, type ConsumedRecord, type ConsumeLoop, deadLetterOf, decodeRecord, dropExpiredPartitions, ExpiredPartitionError, inTransaction, type Kafka, type Logger,
  type Pool, RECORD_POSITION_SQL, settingsOf, startConsumeLoop,
} from '@trapline/runtime';
import { PROJECTED_TOPICS, TOPIC_SPECS, type Codec, type DomainRecord, type RecordName } from '@trapline/schemas';
import { applyEvents, isMissingPartition, newProjection, parseEvents } from './events.ts';
import { applyAdminTombstone, applyRecord, PoisonRecord } from './read-models.ts';

// The projector's consumer, on the runtime's consume loop: a batch per partition is applied in one
// Postgres transaction, dead letters and erasures are appended, and only then does the handler
// return, after which the loop commits the batch's offset to the consumer group.

export interface ProjectorConsumerDeps {
  kafka: Kafka;
  pool: Pool;
  codec: Codec;
  appender: Appender;
  groupId: string;
  topics: string[];
  dlqTopic: string;
  logger: Logger;
  /** Width of new time partitions of the events tables (EVENTS_PARTITION_SECONDS). */
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

/**
 * The records a projected topic (`<prefix>.<suffix>`) carries, from the one topic declaration. A
 * readable record on another topic is dead-lettered, never applied: a token grant on the events
 * topic or an event on the admin topic is not what the log says happened.
 */
function carriedOn(topic: string): ReadonlySet<RecordName> {
  const id = PROJECTED_TOPICS.find((candidate) => topic.endsWith(`.${TOPIC_SPECS[candidate].suffix}`));
  return new Set(id === undefined ? [] : TOPIC_SPECS[id].records);
}

const DLQ_REQUEST_BYTES = 512 * 1024;

/**
 * Names the advisory lock each batch's transaction takes shared, in the schema it writes:
 * `trapline rebuild` takes it exclusively on `public` to hold the running projector still while it
 * hands over to the rebuilt tables (see packages/cli/src/rebuild.ts).
 */
export const handoverLockName = (schema: string) => `${schema}.projector handover`;

/** Consecutive runs of records whose keys and values add up to at most `limit` bytes (a larger record alone). */
export function bySize<T extends { key: Buffer | string | null; value: Buffer | null }>(records: T[], limit: number): T[][] {
  const parts: T[][] = [];
  let part: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
    if (part.length > 0 && bytes + size > limit) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(record);
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/** Postgres refuses the data itself (bad text, constraint): retrying would fail forever. */
function isPoisonError(error: unknown): boolean {
  if (error instanceof PoisonRecord) return true;
  if (isMissingPartition(error) || error instanceof ExpiredPartitionError) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

export async function startProjectorConsumer(deps: ProjectorConsumerDeps): Promise<ConsumeLoop> {
  const shared = newProjection(deps.partitionWidthSeconds);
  /** Expired partitions left empty by an expiry go now, or at the next try if readers hold the tables. */
  const dropEmpty = async () => {
    try {
      const dropped = await dropExpiredPartitions(deps.pool);
      shared.partitions.length = 0;
      if (dropped.length > 0) deps.logger.info({ partitions: dropped.length }, 'expired partitions dropped');
    } catch (error) {
      deps.logger.warn({ err: error }, 'expired partitions not dropped yet; tried again after the next expiry or restart');
    }
  };
  await dropEmpty();
  // A fetch waits for 512 KB or 100 ms, as the deleter's do: under steady traffic a batch (one
  // transaction, a dozen statements, an offset commit) then holds many produce requests' worth of
  // events instead of one, for up to 100 ms more from ack to visible (measured: bench/README.md).
  return startConsumeLoop({
    client: settingsOf(deps.kafka),
    groupId: deps.groupId,
    topics: deps.topics,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    fetchMinBytes: 512 * 1024,
    fetchMaxWaitMs: 100,
    // Records per poll, across partitions; each partition's share is one batch and one transaction.
    maxBatchSize: 2000,
    // Partitions hold disjoint projects, so their batches touch disjoint rows: a few at once keep
    // Postgres busy.
    partitionsConcurrently: 3,
    // The loop commits after the handler returned, and also past batches of nothing but transaction
    // markers (the deleter writes in transactions), so the group's offset reaches the end.
    handle: async (batch: ConsumedBatch, control) => {
      if (!control.owned()) return;
      const origin = { topic: batch.topic, partition: batch.partition };
      const carried = carriedOn(batch.topic);
      const isAdmin = batch.topic.endsWith(`.${TOPIC_SPECS.admin.suffix}`);
      const deadLetters: ReturnType<typeof deadLetterOf>[] = [];
      const poison = (message: ConsumedRecord, reason: string) => deadLetters.push(deadLetterOf(message, reason));
      const projected = new Map<string, number>();
      const count = (name: string, records = 1) => projected.set(name, (projected.get(name) ?? 0) + records);
      // This batch's view: the partition cache is shared, the erasures are the batch's own.
      const projection = { ...shared, erasures: [] as string[] };
      const apply = () => inTransaction(deps.pool, async (db) => {
        await db.query(`SELECT pg_advisory_xact_lock_shared(hashtext(current_schema() || $1))`, [handoverLockName('')]);
        // One record, in a savepoint: a record Postgres refuses goes to the dead letters alone.
        const applyOne = async (message: ConsumedRecord, record: DomainRecord) => {
          await db.query('SAVEPOINT record');
          try {
            await applyRecord(db, record, projection, Number(message.offset));
            await db.query('RELEASE SAVEPOINT record');
            count(record.name);
          } catch (error) {
            if (!isPoisonError(error)) throw error;
            await db.query('ROLLBACK TO SAVEPOINT record');
            shared.partitions.length = 0; // a partition made in the savepoint is gone with it
            poison(message, `cannot apply ${record.name}: ${(error as Error).message}`);
          }
        };
        // A run of consecutive events in a few multi-row statements; if Postgres refuses the run,
        // its records one by one, so only the bad one is dead-lettered.
        let run: { message: ConsumedRecord; record: DomainRecord & { name: 'EventReceived' } }[] = [];
        const flush = async () => {
          const parsed = parseEvents(run.map((entry) => entry.record.value), run.map((entry) => Number(entry.message.offset)));
          const events = run.flatMap((entry, index) => {
            const result = parsed[index]!;
            if (result.ok) return [result.parsed];
            poison(entry.message, `cannot apply EventReceived: ${result.reason}`);
            return [];
          });
          await db.query('SAVEPOINT run');
          try {
            await applyEvents(db, events, projection);
            await db.query('RELEASE SAVEPOINT run');
            count('EventReceived', events.length);
          } catch (error) {
            if (!isPoisonError(error)) throw error;
            await db.query('ROLLBACK TO SAVEPOINT run');
            shared.partitions.length = 0; // a partition made in the savepoint is gone with it
            for (const [index, entry] of run.entries()) if (parsed[index]!.ok) await applyOne(entry.message, entry.record);
          }
          run = [];
        };
        for (const message of batch.records) {
          if (message.value === null) {
            // On the admin topic a null value removes an entity (a user, member, user token); on the
            // events topic it is an erasure whose purge record already did the work.
            if (isAdmin && message.key !== null) {
              if (run.length > 0) await flush();
              await applyAdminTombstone(db, message.key.toString());
            }
            continue;
          }
          const decoded = decodeRecord(deps.codec, message);
          if (!decoded.ok || !carried.has(decoded.record.name)) {
            poison(message, decoded.ok ? `unexpected ${decoded.record.name} on ${batch.topic}` : decoded.reason);
            continue;
          }
          if (decoded.record.name === 'EventReceived') {
            run.push({ message, record: decoded.record });
            continue;
          }
          if (run.length > 0) await flush();
          await applyOne(message, decoded.record);
        }
        if (run.length > 0) await flush();
        // Also wakes the API requests waiting for these records (read your own writes) once this commits.
        await db.query(RECORD_POSITION_SQL, [batch.topic, batch.partition, Number(batch.records.at(-1)!.offset) + 1]);
      });
      try {
        await apply();
      } catch (error) {
        // The batch fails as a whole and is read again: partitions made in the rolled-back
        // transaction are gone, and one may have been dropped under the cache by another instance.
        shared.partitions.length = 0;
        throw error;
      }
      if (deadLetters.length > 0) {
        deps.logger.warn({ ...origin, count: deadLetters.length }, 'records dead-lettered');
        // In requests well below the broker's message size limit: a batch of large poison records
        // sent at once would be refused as too large, and the partition would never move on.
        for (const part of bySize(deadLetters, DLQ_REQUEST_BYTES)) await deps.appender.appendRaw(deps.dlqTopic, part);
      }
      if (projection.partitionsEmptied) await dropEmpty();
      if (projection.erasures.length > 0) {
        const keys = [...new Set(projection.erasures)];
        deps.logger.info({ ...origin, count: keys.length }, 'expired events erased from the log');
        await deps.appender.append(batch.topic, keys.map((key) => ({ key, tombstone: true as const })));
      }
      // Returning hands the batch back as handled: the transaction, the dead letters and erasures are durable.
      deps.onBatch?.({ projected, deadLettered: deadLetters.length });
    },
  });
}
