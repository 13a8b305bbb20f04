import type { DeliveryRow, HookRow, Pool, RuleRow } from '@trapline/runtime';

// Queries over the alerting read models (rules, service hooks, alert addresses, delivery log).

export class AlertsReadModel {
  constructor(private readonly pool: Pool) {}

  async rules(projectId: number): Promise<RuleRow[]> {
    return (await this.pool.query<RuleRow>('SELECT * FROM alert_rules WHERE project_id = $1 ORDER BY created_at, rule_id', [projectId])).rows;
  }

  async rule(projectId: number, ruleId: string): Promise<RuleRow | undefined> {
    return (await this.pool.query<RuleRow>('SELECT * FROM alert_rules WHERE project_id = $1 AND rule_id = $2', [projectId, ruleId])).rows[0];
  }

  async hooks(projectId: number): Promise<HookRow[]> {
    return (await this.pool.query<HookRow>('SELECT * FROM service_hooks WHERE project_id = $1 ORDER BY created_at, hook_id', [projectId])).rows;
  }

  async hook(projectId: number, hookId: string): Promise<HookRow | undefined> {
    return (await this.pool.query<HookRow>('SELECT * FROM service_hooks WHERE project_id = $1 AND hook_id = $2', [projectId, hookId])).rows[0];
  }

  async emails(projectId: number): Promise<string[]> {
    return (await this.pool.query<{ emails: string[] }>('SELECT emails FROM project_alert_emails WHERE project_id = $1', [projectId])).rows[0]?.emails ?? [];
  }

  async deliveries(projectId: number, limit: number): Promise<DeliveryRow[]> {
    return (await this.pool.query<DeliveryRow>('SELECT * FROM alert_deliveries WHERE project_id = $1 ORDER BY decided_at DESC, delivery_id LIMIT $2', [projectId, limit])).rows;
  }
}
