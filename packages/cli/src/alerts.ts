import type { Command } from 'commander';
import type { Pool } from '@trapline/runtime';
import { AdminError } from './admin.ts';

// `trapline alerts list`: the delivery log the projector keeps (alert_deliveries), newest first.

export const ALERT_STATUSES = ['pending', 'sent', 'retrying', 'dead', 'not_sent'] as const;

export async function listAlertDeliveries(pool: Pool, options: { status?: string; project?: number; limit: number }) {
  if (options.status !== undefined && !(ALERT_STATUSES as readonly string[]).includes(options.status)) {
    throw new AdminError(`unknown status ${JSON.stringify(options.status)} (known: ${ALERT_STATUSES.join(', ')})`);
  }
  const result = await pool.query(
    `SELECT delivery_id AS delivery, project_id AS project, group_id::text AS issue, rule_name AS rule, trigger, kind, target, status, attempts,
       coalesce(last_error, '') AS "lastError", decided_at AS decided, changed_at AS changed
     FROM alert_deliveries WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR project_id = $2)
     ORDER BY decided_at DESC, delivery_id LIMIT $3`,
    [options.status ?? null, options.project ?? null, options.limit],
  );
  return result.rows as Record<string, unknown>[];
}

export function alertCommands(program: Command, deps: { withPool<T>(work: (pool: Pool) => Promise<T>): Promise<T>; printTable(rows: Record<string, unknown>[]): void }): void {
  const alerts = program.command('alerts').description('alert deliveries: what was sent, what is retrying, what is dead and why');
  alerts
    .command('list')
    .description('recent deliveries, newest first: rule, trigger, kind, target, status, attempts, last error')
    .option('--status <status>', `only ${ALERT_STATUSES.join(', ')}`)
    .option('--project <id>', 'only this project id')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (options: { status?: string; project?: string; limit: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new AdminError('--limit must be a whole number from 1 to 10000');
      const project = options.project === undefined ? undefined : Number(options.project);
      if (project !== undefined && !Number.isSafeInteger(project)) throw new AdminError('--project must be a project id');
      deps.printTable(await deps.withPool((pool) => listAlertDeliveries(pool, { ...(options.status === undefined ? {} : { status: options.status }), ...(project === undefined ? {} : { project }), limit })));
    });
}
