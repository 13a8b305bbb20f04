import pg from 'pg';
import type { AppendedPosition } from './kafka.ts';
import type { Logger } from './logger.ts';

// Read your own writes (DESIGN.md, invariant 9): the projector NOTIFYs, in each batch's
// transaction, where it now stands in the partition (`projector_positions`); a ProjectionWatcher
// LISTENs on one connection per process and wakes every request waiting for a record it appended.
// Postgres delivers a notification only once its transaction committed, so "notified" means "in
// the read models", and no request polls.

export const PROJECTOR_POSITIONS_CHANNEL = 'trapline_projector_positions';

/** What the projector sends on the channel: the next offset to apply in a partition, in a schema. */
export interface PositionNotice {
  schema: string;
  topic: string;
  partition: number;
  nextOffset: number;
}

/**
 * The projector's statement that records its position and notifies the watchers, in one round trip.
 * The schema is in the notice because a rebuild projects into another schema of the same database:
 * its positions say nothing about the tables the API reads.
 */
export const RECORD_POSITION_SQL = `WITH recorded AS (
  INSERT INTO projector_positions (topic, partition, next_offset) VALUES ($1, $2, $3)
  ON CONFLICT (topic, partition) DO UPDATE SET next_offset = GREATEST(projector_positions.next_offset, EXCLUDED.next_offset)
  RETURNING topic, partition, next_offset
)
SELECT pg_notify('${PROJECTOR_POSITIONS_CHANNEL}', json_build_object('schema', current_schema(), 'topic', topic, 'partition', partition, 'nextOffset', next_offset)::text) FROM recorded`;

const at = (topic: string, partition: number) => `${topic}:${partition}`;

interface Waiter {
  positions: AppendedPosition[];
  resolve: (applied: boolean) => void;
}

const RECONNECT_MS = 1000;

/** Names the LISTEN connection in pg_stat_activity. */
export const WATCHER_APPLICATION_NAME = 'trapline-projection-watch';

export class ProjectionWatcher {
  /** Next offset the projector will apply, by `topic:partition` (the largest seen: positions only grow). */
  private readonly reached = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private readonly advanceListeners = new Set<(topic: string) => void>();
  private client: pg.Client | undefined;
  private schema: string | undefined;
  private closed = false;
  private reconnect: NodeJS.Timeout | undefined;

  private constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Listening when it resolves, if Postgres answers; if not, or once its connection breaks, it
   * connects again every second (waits meanwhile run to their timeout), so a service starts and
   * goes on without it.
   */
  static async start(databaseUrl: string, logger: Logger): Promise<ProjectionWatcher> {
    const watcher = new ProjectionWatcher(databaseUrl, logger);
    await watcher.connect().catch((error: unknown) => {
      logger.warn({ err: error }, 'projection watcher cannot listen yet; retrying');
      watcher.retry();
    });
    return watcher;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: WATCHER_APPLICATION_NAME });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === PROJECTOR_POSITIONS_CHANNEL && message.payload) this.notice(JSON.parse(message.payload) as PositionNotice);
    });
    await client.connect();
    try {
      await client.query(`LISTEN ${PROJECTOR_POSITIONS_CHANNEL}`);
      // After LISTEN, so no position falls between the table read and the first notification.
      this.schema = (await client.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]!.schema;
      const rows = await client.query<{ topic: string; partition: number; next_offset: number }>('SELECT topic, partition, next_offset FROM projector_positions');
      for (const row of rows.rows) this.advance(row.topic, row.partition, Number(row.next_offset));
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.settle();
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.closed) return;
    this.logger.warn({ err: error }, 'projection watcher lost its Postgres connection; reconnecting');
    this.retry();
  }

  private retry(): void {
    this.reconnect = setTimeout(() => {
      this.connect().catch((failure: unknown) => {
        this.logger.warn({ err: failure }, 'projection watcher cannot reconnect yet');
        if (!this.closed) this.retry();
      });
    }, RECONNECT_MS);
    this.reconnect.unref();
  }

  private notice(notice: PositionNotice): void {
    if (notice.schema !== this.schema) return;
    this.advance(notice.topic, notice.partition, Number(notice.nextOffset));
    this.settle();
  }

  private advance(topic: string, partition: number, nextOffset: number): void {
    const key = at(topic, partition);
    if (nextOffset <= (this.reached.get(key) ?? 0)) return;
    this.reached.set(key, nextOffset);
    for (const listener of this.advanceListeners) listener(topic);
  }

  private settle(): void {
    for (const waiter of this.waiters) {
      if (this.applied(waiter.positions)) {
        this.waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  }

  /** Whether the projector has applied every one of these records. */
  applied(positions: AppendedPosition[]): boolean {
    return positions.every((position) => (this.reached.get(at(position.topic, position.partition)) ?? 0) > position.offset);
  }

  /** True once the projector has applied every one of these records; false if it has not within `timeoutMs`. */
  awaitProjected(positions: AppendedPosition[], timeoutMs: number): Promise<boolean> {
    if (this.applied(positions)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      const waiter: Waiter = {
        positions,
        resolve: (applied) => {
          clearTimeout(timer);
          resolve(applied);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Calls `listener` with the topic whenever the projector moves on in one of its partitions. */
  onAdvance(listener: (topic: string) => void): () => void {
    this.advanceListeners.add(listener);
    return () => this.advanceListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnect);
    for (const waiter of this.waiters) waiter.resolve(false);
    this.waiters.clear();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
