import type { Command } from 'commander';
import type { Pool } from '@trapline/runtime';
import type { RedriveResult } from '@trapline/deleter';
import { AdminError } from './admin.ts';

// `trapline deletions …`: the operator's view of the deletion pipeline, read from the
// `deletions` read model the projector keeps.

export const DELETION_STATES = ['pending', 'running', 'retrying', 'dead', 'done'] as const;
export type DeletionState = (typeof DELETION_STATES)[number];

export interface DeletionListRow {
  transactionId: string;
  kind: string;
  projectId: number;
  groupId: string | null;
  eventId: string | null;
  actor: string;
  state: DeletionState;
  attempts: number;
  chunks: number;
  eventsRemoved: number;
  rowsRemoved: number;
  lastError: string | null;
  requestedAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export function parseDeletionState(state: string): DeletionState {
  if (!(DELETION_STATES as readonly string[]).includes(state)) throw new AdminError(`unknown state ${JSON.stringify(state)} (known: ${DELETION_STATES.join(', ')})`);
  return state as DeletionState;
}

/** Deletions in one state, or every one not done yet; oldest request first. */
export async function listDeletions(pool: Pool, state?: DeletionState): Promise<DeletionListRow[]> {
  const result = await pool.query<DeletionListRow>(
    `SELECT transaction_id AS "transactionId", kind, project_id AS "projectId", group_id::text AS "groupId", event_id AS "eventId",
       COALESCE((SELECT u.email || ' (' || u.name || ', ' || d.actor || ')' FROM users u WHERE d.actor = 'user:' || u.id), d.actor) AS actor, state,
       attempts, chunks, events_removed AS "eventsRemoved", rows_removed AS "rowsRemoved", last_error AS "lastError",
       requested_at AS "requestedAt", updated_at AS "updatedAt", completed_at AS "completedAt"
     FROM deletions d WHERE ($1::text IS NULL AND state <> 'done') OR state = $1 ORDER BY requested_at, transaction_id`,
    [state ?? null],
  );
  return result.rows;
}

/** The table an operator reads: one line per deletion, what it targets and how far it got. */
export function deletionTableRow(row: DeletionListRow): Record<string, unknown> {
  return {
    transaction: row.transactionId,
    kind: row.kind,
    project: row.projectId,
    target: row.groupId ?? row.eventId,
    state: row.state,
    attempts: row.attempts,
    chunks: row.chunks,
    events: row.eventsRemoved,
    requested: row.requestedAt.toISOString(),
    updated: row.updatedAt.toISOString(),
    error: row.lastError ?? '',
    // Who asked: `email (name, user:<id>)` for a person, `token:<12 hex>` for an organization token.
    actor: row.actor,
  };
}

export interface DeletionCommandDeps {
  /** A database pool for one command, closed afterwards (reading needs no Kafka). */
  withPool<T>(work: (pool: Pool) => Promise<T>): Promise<T>;
  printTable(rows: Record<string, unknown>[]): void;
  /** Sends every dead letter on the deletions DLQ back to the run topic. */
  redrive(): Promise<RedriveResult>;
}

export function deletionCommands(program: Command, deps: DeletionCommandDeps): void {
  const deletions = program.command('deletions').description('deletion requests and how far the deleter has got');

  deletions
    .command('list')
    .description('deletions not done yet (or those in --state), oldest request first')
    .option('--state <state>', `only this state: ${DELETION_STATES.join('|')}`)
    .option('--json', 'one JSON array instead of a table')
    .action(async (options: { state?: string; json?: boolean }) => {
      const state = options.state === undefined ? undefined : parseDeletionState(options.state);
      const rows = await deps.withPool((pool) => listDeletions(pool, state));
      if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else deps.printTable(rows.map(deletionTableRow));
    });

  deletions
    .command('redrive')
    .description('send every dead-lettered deletion back to run, with fresh attempts')
    .action(async () => {
      const { redriven, skipped } = await deps.redrive();
      process.stdout.write(`re-driven ${redriven.length} deletion(s)${redriven.length ? `: ${redriven.join(', ')}` : ''}${skipped ? `; skipped ${skipped} unreadable record(s)` : ''}\n`);
    });
}
