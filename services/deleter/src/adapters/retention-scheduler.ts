import { randomUUID } from 'node:crypto';
import type { Appender, Logger, Pool, PoolClient } from '@trapline/runtime';
import type { TopicNames } from '@trapline/schemas';
import { dueRetention } from '../domain/retention.ts';
import type { DeletionSource } from './source.ts';

// Sentry's cleanup, event-sourced: every RETENTION_CHECK_SECONDS, the one active scheduler (the
// deleter instance holding a Postgres advisory lock; any other instance stays idle until that
// lock's connection goes) appends a RetentionRequested per project with events older than it
// keeps. The deletion pipeline carries it out like any other deletion.

export interface RetentionSchedulerDeps {
  pool: Pool;
  source: DeletionSource;
  appender: Appender;
  topics: TopicNames;
  /** Names the advisory lock: one active scheduler per deployment. */
  lockName: string;
  defaultDays: number;
  intervalMs: number;
  logger: Logger;
  now: () => number;
  onRequested?: (count: number) => void;
}

export function startRetentionScheduler(deps: RetentionSchedulerDeps): { stop(): Promise<void> } {
  let leader: PoolClient | undefined;
  /** Requests appended but not yet in the read model, so the next tick does not ask twice. */
  const unseen = new Map<number, string>();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const lead = async (): Promise<boolean> => {
    if (leader) return true;
    const client = await deps.pool.connect();
    // Checked out, the client has no pool listener: a connection that breaks must not end the process.
    client.on('error', () => undefined);
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [deps.lockName]);
      if (rows[0]!.locked) {
        leader = client;
        deps.logger.info('retention scheduler active');
        return true;
      }
    } catch (error) {
      client.release(true);
      throw error;
    }
    client.release();
    return false;
  };

  const tick = async () => {
    try {
      if (!(await lead())) return;
      if (unseen.size > 0) {
        const { rows } = await deps.pool.query<{ transaction_id: string }>('SELECT transaction_id FROM deletions WHERE transaction_id = ANY($1)', [[...unseen.values()]]);
        for (const [projectId, transactionId] of unseen) if (rows.some((row) => row.transaction_id === transactionId)) unseen.delete(projectId);
      }
      const now = deps.now();
      const due = dueRetention(await deps.source.retentionState(), deps.defaultDays, now).filter((entry) => !unseen.has(entry.projectId));
      if (due.length === 0) return;
      const requests = due.map(({ projectId, cutoff }) => ({ projectId, cutoff, transactionId: randomUUID().replaceAll('-', ''), actor: 'system:retention', requestedAt: now }));
      await deps.appender.append(deps.topics.events, requests.map((value) => ({ key: `${value.projectId}/deletion/${value.transactionId}`, name: 'RetentionRequested' as const, value })));
      for (const request of requests) unseen.set(request.projectId, request.transactionId);
      deps.onRequested?.(requests.length);
      deps.logger.info({ projects: requests.map((request) => request.projectId) }, 'retention requested');
    } catch (error) {
      deps.logger.warn({ err: error }, 'retention check failed; trying again at the next one');
      leader?.release(true); // a broken connection gives the lock up; the next tick tries again
      leader = undefined;
    }
  };

  const timer = setInterval(() => {
    if (!stopped) running = running.then(tick);
  }, deps.intervalMs);
  running = running.then(tick);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      leader?.release(true); // closing the connection frees the lock for another instance
    },
  };
}
