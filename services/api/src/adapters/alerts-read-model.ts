import type { Pool } from '@trapline/runtime';

// Queries over the alerting read models (rules, service hooks, alert addresses, delivery log).

export interface RuleRow {
  rule_id: string;
  project_id: number;
  name: string;
  action_match: string;
  filter_match: string;
  frequency: number;
  environment: string | null;
  conditions: unknown[];
  filters: unknown[];
  actions: unknown[];
  status: string;
  created_by: string;
  created_at: Date;
}

export interface HookRow {
  hook_id: string;
  project_id: number;
  url: string;
  events: string[];
  secret: string;
  status: string;
  created_at: Date;
}

export interface DeliveryRow {
  delivery_id: string;
  project_id: number;
  group_id: number;
  rule_id: string | null;
  rule_name: string;
  trigger: string;
  kind: string;
  target: string;
  status: string;
  attempts: number;
  last_error: string | null;
  decided_at: Date;
  changed_at: Date;
}

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
