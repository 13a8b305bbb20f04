import { ACTION, CONDITION, FILTER, INTERVALS, LEVELS, type Action, type AlertRule, type Condition, type Filter, type Match } from '@trapline/schemas';
import type { AlertDelivery, NotifierIssueState } from '@trapline/schemas';
import { eventsWithin, markFired } from './issue-state.ts';

// Which rules fire for one event of an issue, and the deliveries that follow: Sentry's semantics
// (conditions by actionMatch, filters by filterMatch, the rule's environment, at most one firing
// per issue per `frequency` minutes), decided from the event and the issue state alone. Pure:
// time is the event's received time, so a replay decides the same.

export interface ActiveRule {
  ruleId: string;
  rule: AlertRule;
}

export interface ActiveHook {
  hookId: string;
  events: string[];
}

/** A project's alerting set-up when the event is decided. */
export interface ProjectAlerting {
  organizationSlug: string;
  projectSlug: string;
  rules: ActiveRule[];
  hooks: ActiveHook[];
}

/** The event as rules see it. */
export interface EventFacts {
  eventId: string;
  receivedAt: number;
  level: string;
  environment: string | null;
  tags: [string, string][];
}

/** What the log says happened to the issue with this event. */
export interface Happened {
  firstSeen: boolean;
  regression: boolean;
  /** The issue's state after the event. */
  state: NotifierIssueState;
}

export type Trigger = 'first_seen' | 'regression' | 'frequency' | 'event';

export interface Firing {
  ruleId: string;
  trigger: Trigger;
}

function matches<T>(match: Match, items: T[], passes: (item: T) => boolean): boolean {
  if (match === 'all') return items.every(passes);
  if (match === 'any') return items.some(passes);
  return !items.some(passes);
}

function conditionPasses(condition: Condition, happened: Happened, at: number): boolean {
  switch (condition.id) {
    case CONDITION.firstSeen:
      return happened.firstSeen;
    case CONDITION.regression:
      return happened.regression;
    case CONDITION.eventFrequency:
      return eventsWithin(happened.state, INTERVALS[condition.interval]!, at) > condition.value;
  }
}

/** A tag key as Sentry's tag store names it: `sentry:release` is `release`. */
const standardized = (key: string) => (key.startsWith('sentry:') ? key.slice('sentry:'.length) : key);

/** Sentry's TaggedEventFilter: keys and values compared case-insensitively, a `sentry:` key by its short name. */
function tagMatches(filter: Extract<Filter, { id: typeof FILTER.tagged }>, tags: [string, string][]): boolean {
  const wanted = filter.key.toLowerCase();
  const values = tags.filter(([key]) => key.toLowerCase() === wanted || standardized(key) === wanted).map(([, value]) => value.toLowerCase());
  const value = filter.value.toLowerCase();
  switch (filter.match) {
    case 'is':
      return values.length > 0;
    case 'ns':
      return values.length === 0;
    case 'eq':
      return values.includes(value);
    case 'ne':
      return !values.includes(value);
    case 'sw':
      return values.some((tag) => tag.startsWith(value));
    case 'ew':
      return values.some((tag) => tag.endsWith(value));
    case 'co':
      return values.some((tag) => tag.includes(value));
    case 'nc':
      return !values.some((tag) => tag.includes(value));
  }
}

function filterPasses(filter: Filter, event: EventFacts): boolean {
  if (filter.id === FILTER.tagged) return tagMatches(filter, event.tags);
  // Sentry's LevelFilter: an event level it does not know passes no level filter.
  const level = LEVELS[event.level];
  if (level === undefined) return false;
  const wanted = Number(filter.level);
  return filter.match === 'eq' ? level === wanted : filter.match === 'gte' ? level >= wanted : level <= wanted;
}

/**
 * Sentry's RuleProcessor on a rule's conditions: a rule without any passes them, whatever its
 * actionMatch (the processor evaluates conditions only when there are some), so it fires for every
 * event its filters let through. With conditions, `all` and `any` are what they say and `none`
 * passes when none holds, as Sentry documents it (its processor computes that result for `none`
 * but never checks it, and so fires such a rule for every event: that slip is not copied).
 */
function conditionsPass(rule: AlertRule, happened: Happened, at: number): boolean {
  return rule.conditions.length === 0 || matches(rule.actionMatch, rule.conditions, (condition) => conditionPasses(condition, happened, at));
}

/** What set the rule off, for the message: the most specific condition that passed; for a rule without conditions, what happened. */
function triggerOf(rule: AlertRule, happened: Happened): Trigger {
  const unconditional = rule.conditions.length === 0;
  if (happened.firstSeen && (unconditional || rule.conditions.some((condition) => condition.id === CONDITION.firstSeen))) return 'first_seen';
  if (happened.regression && (unconditional || rule.conditions.some((condition) => condition.id === CONDITION.regression))) return 'regression';
  return unconditional ? 'event' : 'frequency';
}

/**
 * The rules that fire for this event, and the issue state with their firings marked (the
 * throttle). A disabled rule, one for another environment, or one that fired for this issue
 * within its `frequency` does not fire.
 */
export function decide(rules: ActiveRule[], event: EventFacts, happened: Happened): { firings: Firing[]; state: NotifierIssueState } {
  let state = happened.state;
  const firings: Firing[] = [];
  for (const { ruleId, rule } of rules) {
    if (rule.status !== 'active') continue;
    if (rule.environment !== null && rule.environment !== event.environment) continue;
    if (!conditionsPass(rule, happened, event.receivedAt)) continue;
    // As Sentry's RuleProcessor: a rule without filters passes them whatever its filterMatch.
    if (rule.filters.length > 0 && !matches(rule.filterMatch, rule.filters, (filter) => filterPasses(filter, event))) continue;
    const last = state.lastFired[ruleId];
    if (last !== undefined && event.receivedAt - last < rule.frequency * 60_000) continue;
    firings.push({ ruleId, trigger: triggerOf(rule, happened) });
    state = markFired(state, ruleId, event.receivedAt);
  }
  return { firings, state };
}

/** Where a decision sits in the log: one delivery id per position and action, whatever replays it. */
export interface LogPosition {
  partition: number;
  offset: string;
}

export interface DeliveryContext {
  position: LogPosition;
  projectId: number;
  groupId: number;
  /** JSON of the issue and the event, for the messages. */
  issue: string;
  event: string;
  decidedAt: number;
}

const KIND_OF: Record<Action['id'], string> = { [ACTION.email]: 'email', [ACTION.service]: 'webhook', [ACTION.slack]: 'slack' };

/**
 * One delivery per action of each firing; a service action fans out to each of the project's
 * active hooks that take `event.alert`, so a failing receiver holds up no other. Hooks that take
 * `event.created` get every event, rules or not.
 */
export function plannedDeliveries(project: ProjectAlerting, firings: Firing[], context: DeliveryContext): AlertDelivery[] {
  const base = { projectId: context.projectId, organizationSlug: project.organizationSlug, projectSlug: project.projectSlug, groupId: context.groupId, issue: context.issue, event: context.event, decidedAt: context.decidedAt, attempt: 0, dueAt: context.decidedAt, lastError: null };
  const id = (...parts: (string | number)[]) => [context.position.partition, context.position.offset, ...parts].join('-');
  const deliveries: AlertDelivery[] = [];
  for (const firing of firings) {
    const rule = project.rules.find((candidate) => candidate.ruleId === firing.ruleId)!;
    rule.rule.actions.forEach((action, index) => {
      const common = { ...base, ruleId: rule.ruleId, ruleName: rule.rule.name, trigger: firing.trigger, kind: KIND_OF[action.id] };
      if (action.id !== ACTION.service) {
        deliveries.push({ ...common, deliveryId: id(rule.ruleId, index), action: JSON.stringify(action) });
        return;
      }
      for (const hook of project.hooks.filter((candidate) => candidate.events.includes('event.alert'))) {
        deliveries.push({ ...common, deliveryId: id(rule.ruleId, index, hook.hookId), action: JSON.stringify({ ...action, hookId: hook.hookId, hookEvent: 'event.alert' }) });
      }
    });
  }
  for (const hook of project.hooks.filter((candidate) => candidate.events.includes('event.created'))) {
    deliveries.push({
      ...base, deliveryId: id('hook', hook.hookId), ruleId: null, ruleName: 'event.created', trigger: 'event', kind: 'webhook',
      action: JSON.stringify({ id: ACTION.service, service: 'webhooks', hookId: hook.hookId, hookEvent: 'event.created' }),
    });
  }
  return deliveries;
}
