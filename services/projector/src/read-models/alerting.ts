import type { PoolClient } from '@trapline/runtime';
import type { DomainRecord } from '@trapline/schemas';

// The alerting read models: rules and service hooks (their last record; a deleted one has no
// row), a project's alert addresses, and the delivery log (a delivery's newest change wins, so a
// change applied again, or an older one, leaves it as it is).

type AlertingRecord = Extract<DomainRecord, { name: 'AlertRuleUpserted' | 'ServiceHookUpserted' | 'ProjectAlertEmailsChanged' | 'AlertDeliveryChanged' }>;

const toDate = (epochMs: number) => new Date(epochMs);

export async function applyAlerting(db: PoolClient, record: AlertingRecord): Promise<void> {
  switch (record.name) {
    case 'AlertRuleUpserted': {
      const rule = record.value;
      if (rule.deleted) {
        await db.query('DELETE FROM alert_rules WHERE rule_id = $1 AND project_id = $2', [rule.ruleId, rule.projectId]);
        return;
      }
      await db.query(
        `INSERT INTO alert_rules (rule_id, project_id, name, action_match, filter_match, frequency, environment, conditions, filters, actions, status, created_by, created_at, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (rule_id) DO UPDATE SET name = EXCLUDED.name, action_match = EXCLUDED.action_match, filter_match = EXCLUDED.filter_match, frequency = EXCLUDED.frequency,
           environment = EXCLUDED.environment, conditions = EXCLUDED.conditions, filters = EXCLUDED.filters, actions = EXCLUDED.actions, status = EXCLUDED.status, changed_at = EXCLUDED.changed_at
         WHERE alert_rules.project_id = EXCLUDED.project_id`,
        [rule.ruleId, rule.projectId, rule.name, rule.actionMatch, rule.filterMatch, rule.frequency, rule.environment, rule.conditions, rule.filters, rule.actions, rule.status, rule.actor, toDate(rule.createdAt), toDate(rule.changedAt)],
      );
      return;
    }
    case 'ServiceHookUpserted': {
      const hook = record.value;
      if (hook.deleted) {
        await db.query('DELETE FROM service_hooks WHERE hook_id = $1 AND project_id = $2', [hook.hookId, hook.projectId]);
        return;
      }
      await db.query(
        `INSERT INTO service_hooks (hook_id, project_id, url, events, secret, status, created_at, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (hook_id) DO UPDATE SET url = EXCLUDED.url, events = EXCLUDED.events, status = EXCLUDED.status, changed_at = EXCLUDED.changed_at
         WHERE service_hooks.project_id = EXCLUDED.project_id`,
        [hook.hookId, hook.projectId, hook.url, hook.events, hook.secret, hook.status, toDate(hook.createdAt), toDate(hook.changedAt)],
      );
      return;
    }
    case 'ProjectAlertEmailsChanged': {
      const { projectId, emails } = record.value;
      await db.query('INSERT INTO project_alert_emails (project_id, emails) VALUES ($1, $2) ON CONFLICT (project_id) DO UPDATE SET emails = EXCLUDED.emails', [projectId, emails]);
      return;
    }
    case 'AlertDeliveryChanged': {
      const change = record.value;
      await db.query(
        `INSERT INTO alert_deliveries (delivery_id, project_id, group_id, rule_id, rule_name, trigger, kind, target, status, attempts, last_error, decided_at, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (delivery_id) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, target = EXCLUDED.target, changed_at = EXCLUDED.changed_at
         WHERE alert_deliveries.changed_at <= EXCLUDED.changed_at`,
        [change.deliveryId, change.projectId, change.groupId, change.ruleId, change.ruleName, change.trigger, change.kind, change.target, change.status, change.attempts, change.lastError, toDate(change.decidedAt), toDate(change.changedAt)],
      );
    }
  }
}
