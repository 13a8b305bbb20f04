import type { Logger, Redis } from '@trapline/runtime';
import { perTurn } from './per-turn.ts';

// One command marks every id of a turn: a pipeline of one SET each cost a command object and a
// parsed reply per event in ingest's profile. Redis caches the script after its first run.
const MARK_SCRIPT = "for _, key in ipairs(KEYS) do redis.call('SET', key, '1', 'EX', ARGV[1]) end";

/**
 * Remembers recently appended event ids per project, so an SDK retry of an event that was already
 * appended is acknowledged again without a second append. An id is marked only after Kafka acked
 * its append, so a crash in between can only cause a duplicate append (which the projector
 * absorbs), never a lost event. When Redis is unavailable, dedupe fails open. The lookups of all
 * the requests of one event-loop turn are one MGET, their marks one script call.
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

  private readonly lookup = perTurn(async (requests: string[][]) => {
    const found = await this.redis.mget(requests.flat());
    let offset = 0;
    return requests.map((keys) => found.slice(offset, (offset += keys.length)));
  });

  private readonly mark = perTurn(async (requests: string[][]) => {
    const keys = requests.flat();
    await this.redis.eval(MARK_SCRIPT, keys.length, ...keys, this.windowSeconds);
    return requests.map(() => undefined);
  });

  /** The ids of `eventIds` appended within the window. */
  async seen(projectId: number, eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    try {
      const found = await this.lookup(eventIds.map((id) => this.key(projectId, id)));
      return new Set(eventIds.filter((_, index) => found[index] !== null));
    } catch (error) {
      this.logger.warn({ err: error }, 'dedupe lookup failed; appending without dedupe');
      return new Set();
    }
  }

  async markAppended(projectId: number, eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    try {
      await this.mark(eventIds.map((id) => this.key(projectId, id)));
    } catch (error) {
      this.logger.warn({ err: error }, 'dedupe mark failed');
    }
  }
}
