import { randomUUID } from 'node:crypto';
import type { Appender, Logger, Pool, PoolClient } from '@trapline/runtime';
import type { TopicNames } from '@trapline/schemas';
import { dueExpiry, dueRetention, longestRetentionDays } from '../domain/retention.ts';
import type { DeletionSource } from './source.ts';
import { eventKeys } from '@trapline/schemas';

// Sentry's cleanup, event-sourced: every RETENTION_CHECK_SECONDS, the one active scheduler (the
// deleter instance holding a Postgres advisory lock; any other instance stays idle until that
// lock's connection goes) appends RetentionRequested records: one for every project at once
// (allProjects, an expiry) when time partitions are wholly older than the longest retention, and
// one per project keeping less than that with events older than it keeps. The deletion pipeline
// carries them out like any other deletion.

/** The project id an expiry (every project at once) is recorded under. */
const EVERY_PROJECT = 0;

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
  /** After each check the active scheduler made (what is due decided), whether or not it asks for anything. */
  onChecked?: () => void;
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
      const state = await deps.source.retentionState();
      const due = dueRetention(state, deps.defaultDays, now).map((entry) => ({ ...entry, allProjects: false }));
      const expiry = dueExpiry(await deps.source.partitions(), longestRetentionDays(state, deps.defaultDays), now);
      if (expiry !== null && !(await deps.source.expiryRunning())) due.push({ projectId: EVERY_PROJECT, cutoff: expiry, allProjects: true });
      const fresh = due.filter((entry) => !unseen.has(entry.projectId));
      deps.onChecked?.();
      if (fresh.length === 0) return;
      const requests = fresh.map(({ projectId, cutoff, allProjects }) => ({ projectId, cutoff, allProjects, transactionId: randomUUID().replaceAll('-', ''), actor: 'system:retention', requestedAt: now }));
      await deps.appender.append(deps.topics.events, requests.map((value) => ({ key: eventKeys.deletion(value.projectId, value.transactionId), name: 'RetentionRequested' as const, value })));
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
