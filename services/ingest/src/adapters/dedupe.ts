import type { Logger, Redis } from '@trapline/runtime';

/**
 * Remembers recently appended event ids per project, so an SDK retry of an event that was already
 * appended is acknowledged again without a second append. An id is marked only after Kafka acked
 * its append, so a crash in between can only cause a duplicate append (which the projector
 * absorbs), never a lost event. When Redis is unavailable, dedupe fails open.
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

  /** The ids of `eventIds` appended within the window. */
  async seen(projectId: number, eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    try {
      const found = await this.redis.mget(eventIds.map((id) => this.key(projectId, id)));
      return new Set(eventIds.filter((_, index) => found[index] !== null));
    } catch (error) {
      this.logger.warn({ err: error }, 'dedupe lookup failed; appending without dedupe');
      return new Set();
    }
  }

  async markAppended(projectId: number, eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    try {
      // Separate commands rather than a pipeline of its own, so an auto-pipelining client sends the
      // marks of every request acknowledged in one turn together.
      await Promise.all(eventIds.map((id) => this.redis.set(this.key(projectId, id), '1', 'EX', this.windowSeconds)));
    } catch (error) {
      this.logger.warn({ err: error }, 'dedupe mark failed');
    }
  }
}
