import type { Logger, Redis } from '@trapline/runtime';
import { perTurn } from './per-turn.ts';

// One command marks every id of a turn: a pipeline of one SET each cost a command object and a
// parsed reply per event in ingest's profile. Redis caches the script after its first run.
const MARK_SCRIPT = "for _, key in ipairs(KEYS) do redis.call('SET', key, '1', 'EX', ARGV[1]) end";

/** A request's mark, waiting for the next lookup batch (or the timer) to carry it. */
interface PendingMark {
  keys: string[];
  done: (error: Error | undefined) => void;
}

/**
 * How long a mark may wait for a lookup batch to ride along with before it is sent alone. Under
 * load lookups come every turn, so the marks of an ack go in the same write as the next lookups;
 * a lookup never waits for this (it takes every queued mark with it, ahead of itself).
 */
const MARK_DELAY_MS = 5;

/**
 * Remembers recently appended event ids per project, so an SDK retry of an event that was already
 * appended is acknowledged again without a second append. An id is marked only after Kafka acked
 * its append, so a crash in between can only cause a duplicate append (which the projector
 * absorbs), never a lost event. When Redis is unavailable, dedupe fails open. The lookups of all
 * the requests of one event-loop turn are one MGET; the marks queued until then go with it, one
 * script call ahead of it in one pipeline (or alone, MARK_DELAY_MS after the first of them, when
 * no lookup comes). A mark is queued when `markAppended` is called: Redis applies it before any
 * lookup asked after that call (that lookup's batch carries it, or follows it on the same
 * connection), so a caller need not wait for the mark's answer before acknowledging the events.
 */
export class Dedupe {
  private marks: PendingMark[] = [];
  private markTimer: NodeJS.Timeout | undefined;

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

  private takeMarks(): PendingMark[] {
    const marks = this.marks;
    this.marks = [];
    clearTimeout(this.markTimer);
    this.markTimer = undefined;
    return marks;
  }

  /**
   * The lookups of one turn and the marks queued until then: one MGET, after one script call in
   * the same pipeline (one write, one read) when there are marks. Each request is answered its own
   * slice, or its command's error.
   */
  private readonly lookups = perTurn(async (lookups: string[][]): Promise<(Error | (string | null)[])[]> => {
    const marks = this.takeMarks();
    const lookupKeys = lookups.flat();
    const markKeys = marks.flatMap((mark) => mark.keys);
    let found: Error | (string | null)[];
    let marked: Error | undefined;
    if (markKeys.length === 0) found = await this.redis.mget(lookupKeys).catch((error: Error) => error);
    else {
      // The marks first: a retry arriving as its event's ack does is then found.
      const results = await this.redis.pipeline().eval(MARK_SCRIPT, markKeys.length, ...markKeys, this.windowSeconds).mget(lookupKeys).exec().catch((error: Error) => [[error], [error]] as [Error][]);
      const [mark, lookup] = results ?? [];
      found = lookup?.[0] ?? (lookup?.[1] as (string | null)[] | undefined) ?? new Error('no answer to the dedupe lookup');
      marked = mark?.[0] ?? (mark ? undefined : new Error('no answer to the dedupe mark'));
    }
    for (const mark of marks) mark.done(marked);
    let offset = 0;
    return lookups.map((keys) => (found instanceof Error ? found : found.slice(offset, (offset += keys.length))));
  });

  /** The marks no lookup took within MARK_DELAY_MS, alone. */
  private readonly flushMarks = () => {
    const marks = this.takeMarks();
    if (marks.length === 0) return;
    const keys = marks.flatMap((mark) => mark.keys);
    this.redis.eval(MARK_SCRIPT, keys.length, ...keys, this.windowSeconds).then(
      () => marks.forEach((mark) => mark.done(undefined)),
      (error: Error) => marks.forEach((mark) => mark.done(error)),
    );
  };

  /** The ids of `eventIds` appended within the window. */
  async seen(projectId: number, eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    try {
      const found = await this.lookups(eventIds.map((id) => this.key(projectId, id)));
      if (found instanceof Error) throw found;
      return new Set(eventIds.filter((_, index) => found[index] !== null));
    } catch (error) {
      this.logger.warn({ err: error }, 'dedupe lookup failed; appending without dedupe');
      return new Set();
    }
  }

  async markAppended(projectId: number, eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    try {
      await new Promise<void>((resolve, reject) => {
        this.marks.push({ keys: eventIds.map((id) => this.key(projectId, id)), done: (error) => (error ? reject(error) : resolve()) });
        this.markTimer ??= setTimeout(this.flushMarks, MARK_DELAY_MS);
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'dedupe mark failed');
    }
  }
}
