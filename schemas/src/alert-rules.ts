import { adminKeys } from './keys.ts';
// Issue alert rules in Sentry's shape (`/api/0/projects/{org}/{project}/rules/`): the condition,
// filter and action ids Trapline knows, and the one parser of a rule body, shared by the API (which
// refuses a bad body naming its field) and the notifier (which reads rules back from the log).

export const CONDITION = {
  firstSeen: 'sentry.rules.conditions.first_seen_event.FirstSeenEventCondition',
  regression: 'sentry.rules.conditions.regression_event.RegressionEventCondition',
  eventFrequency: 'sentry.rules.conditions.event_frequency.EventFrequencyCondition',
} as const;

export const FILTER = {
  level: 'sentry.rules.filters.level.LevelFilter',
  tagged: 'sentry.rules.filters.tagged_event.TaggedEventFilter',
} as const;

export const ACTION = {
  email: 'sentry.mail.actions.NotifyEmailAction',
  service: 'sentry.rules.actions.notify_event_service.NotifyEventServiceAction',
  /** Trapline's own: a Slack incoming webhook (Sentry's Slack action needs its Slack app). */
  slack: 'trapline.rules.actions.slack_webhook.SlackWebhookAction',
} as const;

/** Sentry's intervals of the event frequency condition, in milliseconds. */
export const INTERVALS: Record<string, number> = {
  '1m': 60_000,
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '1d': 24 * 60 * 60_000,
  '1w': 7 * 24 * 60 * 60_000,
  '30d': 30 * 24 * 60 * 60_000,
};

/** Sentry's numeric levels of the level filter. */
export const LEVELS: Record<string, number> = { fatal: 50, error: 40, warning: 30, info: 20, debug: 10, sample: 0 };

export const MATCHES = ['all', 'any', 'none'] as const;
export type Match = (typeof MATCHES)[number];

export const TAG_MATCHES = ['eq', 'ne', 'sw', 'ew', 'co', 'nc', 'is', 'ns'] as const;
export const EMAIL_TARGETS = ['IssueOwners', 'Team', 'Member'] as const;

export type Condition =
  | { id: typeof CONDITION.firstSeen }
  | { id: typeof CONDITION.regression }
  | { id: typeof CONDITION.eventFrequency; value: number; interval: string };

export type Filter =
  | { id: typeof FILTER.level; match: 'eq' | 'gte' | 'lte'; level: string }
  | { id: typeof FILTER.tagged; key: string; match: (typeof TAG_MATCHES)[number]; value: string };

export type Action =
  | { id: typeof ACTION.email; targetType: (typeof EMAIL_TARGETS)[number]; targetIdentifier: string | null; fallthroughType?: string }
  | { id: typeof ACTION.service; service: string }
  | { id: typeof ACTION.slack; webhookUrl: string };

export interface AlertRule {
  name: string;
  actionMatch: Match;
  filterMatch: Match;
  frequency: number;
  environment: string | null;
  conditions: Condition[];
  filters: Filter[];
  actions: Action[];
  status: 'active' | 'disabled';
}

export type RuleParse = { ok: true; rule: AlertRule } | { ok: false; field: string; reason: string };

const MIN_FREQUENCY = 5;
const MAX_FREQUENCY = 30 * 24 * 60;
const MAX_ITEMS = 20;

class Refusal extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(reason);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function text(value: unknown, field: string, max = 256): string {
  if (typeof value !== 'string' || value.length === 0) throw new Refusal(field, 'must be a non-empty string');
  if (value.length > max) throw new Refusal(field, `must be at most ${max} characters`);
  if (value.includes('\u0000')) throw new Refusal(field, 'must not contain NUL characters');
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new Refusal(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** An http(s) URL, as webhooks and Slack need. */
export function httpUrl(value: unknown, field: string): string {
  const raw = text(value, field, 2048);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Refusal(field, 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Refusal(field, 'must be an http(s) URL');
  return raw;
}

function list(value: unknown, field: string, required: boolean): unknown[] {
  if (value === undefined || value === null) {
    if (required) throw new Refusal(field, 'is required');
    return [];
  }
  if (!Array.isArray(value)) throw new Refusal(field, 'must be a list');
  if (required && value.length === 0) throw new Refusal(field, 'must not be empty');
  if (value.length > MAX_ITEMS) throw new Refusal(field, `must have at most ${MAX_ITEMS} items`);
  return value;
}

function entry(value: unknown, field: string): Record<string, unknown> & { id: string } {
  if (!isObject(value)) throw new Refusal(field, 'must be an object');
  text(value.id, `${field}.id`);
  return value as Record<string, unknown> & { id: string };
}

function condition(value: unknown, field: string): Condition {
  const item = entry(value, field);
  if (item.id === CONDITION.firstSeen || item.id === CONDITION.regression) return { id: item.id };
  if (item.id === CONDITION.eventFrequency) {
    const count = typeof item.value === 'string' && /^\d{1,9}$/.test(item.value) ? Number(item.value) : item.value;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new Refusal(`${field}.value`, 'must be a whole number of events, 0 or more');
    const interval = oneOf(item.interval, Object.keys(INTERVALS), `${field}.interval`);
    return { id: item.id, value: count, interval };
  }
  throw new Refusal(`${field}.id`, `unknown condition ${JSON.stringify(item.id)}`);
}

function filter(value: unknown, field: string): Filter {
  const item = entry(value, field);
  if (item.id === FILTER.level) {
    const level = String(item.level ?? '');
    if (!Object.values(LEVELS).map(String).includes(level)) throw new Refusal(`${field}.level`, `must be one of ${Object.values(LEVELS).join(', ')}`);
    return { id: item.id, match: oneOf(item.match, ['eq', 'gte', 'lte'] as const, `${field}.match`), level };
  }
  if (item.id === FILTER.tagged) {
    const match = oneOf(item.match, TAG_MATCHES, `${field}.match`);
    const tagValue = match === 'is' || match === 'ns' ? String(item.value ?? '') : text(item.value, `${field}.value`, 200);
    return { id: item.id, key: text(item.key, `${field}.key`, 200), match, value: tagValue };
  }
  throw new Refusal(`${field}.id`, `unknown filter ${JSON.stringify(item.id)}`);
}

function action(value: unknown, field: string): Action {
  const item = entry(value, field);
  if (item.id === ACTION.email) {
    const targetType = oneOf(item.targetType, EMAIL_TARGETS, `${field}.targetType`);
    const identifier = item.targetIdentifier;
    if (identifier !== undefined && identifier !== null && identifier !== '' && typeof identifier !== 'string' && typeof identifier !== 'number') {
      throw new Refusal(`${field}.targetIdentifier`, 'must be a string or a number');
    }
    const targetIdentifier = identifier === undefined || identifier === null || identifier === '' ? null : text(String(identifier), `${field}.targetIdentifier`);
    return { id: item.id, targetType, targetIdentifier, ...(typeof item.fallthroughType === 'string' ? { fallthroughType: item.fallthroughType } : {}) };
  }
  if (item.id === ACTION.service) return { id: item.id, service: text(item.service ?? 'webhooks', `${field}.service`, 100) };
  if (item.id === ACTION.slack) return { id: item.id, webhookUrl: httpUrl(item.webhookUrl, `${field}.webhookUrl`) };
  throw new Refusal(`${field}.id`, `unknown action ${JSON.stringify(item.id)}`);
}

const RULE_FIELDS = new Set(['name', 'actionMatch', 'filterMatch', 'frequency', 'environment', 'conditions', 'filters', 'actions', 'status', 'owner', 'projects']);

/** A rule body as Sentry's API takes it (`frequency` in minutes, 5 to 30 days); the first problem names its field. */
export function parseAlertRule(body: unknown): RuleParse {
  try {
    if (!isObject(body)) throw new Refusal('body', 'must be a JSON object');
    const unknown = Object.keys(body).find((key) => !RULE_FIELDS.has(key));
    if (unknown !== undefined) throw new Refusal(`body.${unknown}`, 'is not a field of a rule');
    const frequency = body.frequency === undefined ? 30 : typeof body.frequency === 'string' && /^\d{1,6}$/.test(body.frequency) ? Number(body.frequency) : body.frequency;
    if (typeof frequency !== 'number' || !Number.isInteger(frequency) || frequency < MIN_FREQUENCY || frequency > MAX_FREQUENCY) {
      throw new Refusal('body.frequency', `must be a whole number of minutes from ${MIN_FREQUENCY} to ${MAX_FREQUENCY}`);
    }
    const environment = body.environment === undefined || body.environment === null || body.environment === '' ? null : text(body.environment, 'body.environment', 64);
    return {
      ok: true,
      rule: {
        name: text(body.name, 'body.name'),
        actionMatch: oneOf(body.actionMatch ?? 'all', MATCHES, 'body.actionMatch'),
        filterMatch: oneOf(body.filterMatch ?? 'all', MATCHES, 'body.filterMatch'),
        frequency,
        environment,
        // As Sentry's RuleSerializer: conditions may be left out; a rule without any fires for every event its filters let through.
        conditions: list(body.conditions, 'body.conditions', false).map((item, index) => condition(item, `body.conditions[${index}]`)),
        filters: list(body.filters, 'body.filters', false).map((item, index) => filter(item, `body.filters[${index}]`)),
        actions: list(body.actions, 'body.actions', true).map((item, index) => action(item, `body.actions[${index}]`)),
        status: oneOf(body.status ?? 'active', ['active', 'disabled'] as const, 'body.status'),
      },
    };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, field: error.field, reason: error.message };
    throw error;
  }
}

/** Refusal message of a bad URL, for the hooks endpoint. */
export function checkHttpUrl(value: unknown, field: string): { ok: true; url: string } | { ok: false; field: string; reason: string } {
  try {
    return { ok: true, url: httpUrl(value, field) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, field: error.field, reason: error.message };
    throw error;
  }
}

/** Sentry's default rule of a new project: a new issue e-mails the project's people. */
export const DEFAULT_RULE: AlertRule = {
  name: 'Send a notification for new issues',
  actionMatch: 'all',
  filterMatch: 'all',
  frequency: 30,
  environment: null,
  conditions: [{ id: CONDITION.firstSeen }],
  filters: [],
  actions: [{ id: ACTION.email, targetType: 'IssueOwners', targetIdentifier: null, fallthroughType: 'ActiveMembers' }],
  status: 'active',
};

/** Keys of the alerting records on the admin topic: one per entity, so compaction keeps its last state. */
export const alertKeys = {
  rule: adminKeys.alertRule,
  hook: adminKeys.serviceHook,
  emails: adminKeys.alertEmails,
};

export interface RuleRecordMeta {
  projectId: number;
  ruleId: string;
  actor: string;
  createdAt: number;
  changedAt: number;
  deleted?: boolean;
}

/** The admin record of a rule. */
export function ruleRecord(rule: AlertRule, meta: RuleRecordMeta): import('./records.ts').AlertRuleUpserted {
  return {
    projectId: meta.projectId,
    ruleId: meta.ruleId,
    name: rule.name,
    actionMatch: rule.actionMatch,
    filterMatch: rule.filterMatch,
    frequency: rule.frequency,
    environment: rule.environment,
    conditions: JSON.stringify(rule.conditions),
    filters: JSON.stringify(rule.filters),
    actions: JSON.stringify(rule.actions),
    status: rule.status,
    deleted: meta.deleted ?? false,
    actor: meta.actor,
    createdAt: meta.createdAt,
    changedAt: meta.changedAt,
  };
}

/** A new rule id: Sentry's are numbers; this one is chosen once and then fixed by the record on the log. */
export function newRuleId(): string {
  return String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999));
}
