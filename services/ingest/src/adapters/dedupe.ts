import type { Logger, Redis } from '@trapline/runtime';
import { perTurn } from './per-turn.ts';

// One command marks every id of a turn: a pipeline of one SET each cost a command object and a
// parsed reply per event in ingest's profile. Redis caches the script after its first run.
const MARK_SCRIPT = "for _, key in ipairs(KEYS) do redis.call('SET', key, '1', 'EX', ARGV[1]) end";

/** A request's lookup (which of these keys exist) or its mark (set them, with the window as expiry). */
interface DedupeOperation {
  mark: boolean;
  keys: string[];
}

/**
 * Remembers recently appended event ids per project, so an SDK retry of an event that was already
 * appended is acknowledged again without a second append. An id is marked only after Kafka acked
 * its append, so a crash in between can only cause a duplicate append (which the projector
 * absorbs), never a lost event. When Redis is unavailable, dedupe fails open. The lookups of all
 * the requests of one event-loop turn are one MGET, their marks one script call, both in one pipeline.
 * A mark is queued when `markAppended` is called: Redis applies it before any lookup asked after
 * that call (the same turn's go after the marks, a later turn's on the same connection after
 * them), so a caller need not wait for the mark's answer before acknowledging the events.
 */
export class Dedupe {
  /** `namespace` keeps deployments (topic prefixes) that share one Redis apart. */
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly windowSeconds: number,
    private readonly logger: Logger,
  ) {}

  private key(projectId: number, eventId: string): string {
    return `${this.namespace}:seen:${projectId}:${eventId}`;
  }

  /**
   * The lookups and the marks of one turn: one MGET and one script call, in one pipeline (one
   * write, one read) when the turn has both, as when a Kafka ack releases requests while others
   * arrive; the marks go first. Each request is answered its own slice, or its command's error.
   */
  private readonly batch = perTurn(async (operations: DedupeOperation[]): Promise<(Error | (string | null)[] | undefined)[]> => {
    const lookupKeys = operations.flatMap((operation) => (operation.mark ? [] : operation.keys));
    const markKeys = operations.flatMap((operation) => (operation.mark ? operation.keys : []));
    let found: Error | (string | null)[] = [];
    let marked: Error | undefined;
    if (markKeys.length === 0) found = await this.redis.mget(lookupKeys);
    else if (lookupKeys.length === 0) await this.redis.eval(MARK_SCRIPT, markKeys.length, ...markKeys, this.windowSeconds);
    else {
      // The marks first: a retry arriving as its event's ack does is then found.
      const results = await this.redis.pipeline().eval(MARK_SCRIPT, markKeys.length, ...markKeys, this.windowSeconds).mget(lookupKeys).exec();
      const [mark, lookup] = results ?? [];
      found = lookup?.[0] ?? (lookup?.[1] as (string | null)[] | undefined) ?? new Error('no answer to the dedupe lookup');
      marked = mark?.[0] ?? (mark ? undefined : new Error('no answer to the dedupe mark'));
    }
    let offset = 0;
    return operations.map((operation) => {
      if (operation.mark) return marked;
      if (found instanceof Error) return found;
      return found.slice(offset, (offset += operation.keys.length));
    });
  });

  private async run(operation: DedupeOperation): Promise<(string | null)[] | undefined> {
    const result = await this.batch(operation);
    if (result instanceof Error) throw result;
    return result;
  }

  /** The ids of `eventIds` appended within the window. */
  async seen(projectId: number, eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    try {
      const found = (await this.run({ mark: false, keys: eventIds.map((id) => this.key(projectId, id)) }))!;
      return new Set(eventIds.filter((_, index) => found[index] !== null));
    } catch (error) {
      this.logger.warn({ err: error }, 'dedupe lookup failed; appending without dedupe');
      return new Set();
    }
  }

  async markAppended(projectId: number, eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    try {
      await this.run({ mark: true, keys: eventIds.map((id) => this.key(projectId, id)) });
    } catch (error) {
      this.logger.warn({ err: error }, 'dedupe mark failed');
    }
  }
}
