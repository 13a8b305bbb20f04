import type { Pool } from '@trapline/runtime';
import type { AlertRule } from '@trapline/schemas';
import type { ProjectAlerting } from '../domain/decide.ts';

// Every project's rules and active service hooks, from the read models, reloaded at most every
// `refreshMs` (a handful of small queries, whatever the traffic). Rules are configuration, not
// issue state: a rule changed a moment ago may miss an event decided just before it arrived.

interface RuleRow {
  rule_id: string;
  project_id: number;
  name: string;
  action_match: AlertRule['actionMatch'];
  filter_match: AlertRule['filterMatch'];
  frequency: number;
  environment: string | null;
  conditions: AlertRule['conditions'];
  filters: AlertRule['filters'];
  actions: AlertRule['actions'];
  status: AlertRule['status'];
}

export class AlertingCache {
  private projects = new Map<number, ProjectAlerting>();
  private loadedAt = -Infinity;

  constructor(
    private readonly pool: Pool,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async refreshIfStale(): Promise<void> {
    if (this.now() - this.loadedAt >= this.refreshMs) await this.refresh();
  }

  async refresh(): Promise<void> {
    const [projects, rules, hooks] = await Promise.all([
      this.pool.query<{ id: number; organization_slug: string; slug: string }>('SELECT id, organization_slug, slug FROM projects'),
      this.pool.query<RuleRow>("SELECT * FROM alert_rules WHERE status = 'active' ORDER BY created_at, rule_id"),
      this.pool.query<{ hook_id: string; project_id: number; events: string[] }>("SELECT hook_id, project_id, events FROM service_hooks WHERE status = 'active' ORDER BY created_at, hook_id"),
    ]);
    const next = new Map<number, ProjectAlerting>(projects.rows.map((row) => [Number(row.id), { organizationSlug: row.organization_slug, projectSlug: row.slug, rules: [], hooks: [] }]));
    for (const row of rules.rows) {
      next.get(Number(row.project_id))?.rules.push({
        ruleId: row.rule_id,
        rule: { name: row.name, actionMatch: row.action_match, filterMatch: row.filter_match, frequency: row.frequency, environment: row.environment, conditions: row.conditions, filters: row.filters, actions: row.actions, status: row.status },
      });
    }
    for (const row of hooks.rows) next.get(Number(row.project_id))?.hooks.push({ hookId: row.hook_id, events: row.events });
    this.projects = next;
    this.loadedAt = this.now();
  }

  project(projectId: number): ProjectAlerting | undefined {
    return this.projects.get(projectId);
  }
}
