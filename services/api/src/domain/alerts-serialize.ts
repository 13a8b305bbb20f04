import type { DeliveryRow, HookRow, RuleRow } from '@trapline/runtime';

// Sentry's shapes of a project rule and a service hook; the delivery log is Trapline's own.

const iso = (date: Date) => date.toISOString();

export function serializeRule(rule: RuleRow, projectSlug: string) {
  return {
    id: rule.rule_id,
    name: rule.name,
    actionMatch: rule.action_match,
    filterMatch: rule.filter_match,
    frequency: rule.frequency,
    environment: rule.environment,
    conditions: rule.conditions,
    filters: rule.filters,
    actions: rule.actions,
    status: rule.status,
    dateCreated: iso(rule.created_at),
    createdBy: null,
    owner: null,
    snooze: false,
    projects: [projectSlug],
  };
}

export function serializeHook(hook: HookRow) {
  return { id: hook.hook_id, url: hook.url, secret: hook.secret, status: hook.status, events: hook.events, dateCreated: iso(hook.created_at) };
}

export function serializeDelivery(delivery: DeliveryRow) {
  return {
    id: delivery.delivery_id,
    issueId: String(delivery.group_id),
    ruleId: delivery.rule_id,
    ruleName: delivery.rule_name,
    trigger: delivery.trigger,
    kind: delivery.kind,
    target: delivery.target,
    status: delivery.status,
    attempts: delivery.attempts,
    lastError: delivery.last_error,
    dateDecided: iso(delivery.decided_at),
    dateChanged: iso(delivery.changed_at),
  };
}
