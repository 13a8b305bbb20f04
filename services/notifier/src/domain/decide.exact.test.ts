import { describe, expect, it } from 'vitest';
import { ACTION, CONDITION, FILTER, type AlertRule, type Filter } from '@trapline/schemas';
import { decide, plannedDeliveries, type ActiveRule, type EventFacts, type Happened, type ProjectAlerting } from './decide.ts';
import { emptyState, markFired, observeEvent } from './issue-state.ts';

// Exact outcomes of Sentry's rule semantics, one event at a time: TaggedEventFilter's operators
// (sentry/rules/conditions/tagged_event.py), LevelFilter's (conditions/level.py), actionMatch and
// filterMatch (rules/processing/processor.py), the rule's environment and its frequency per issue.

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

const rule = (overrides: Partial<AlertRule> = {}): AlertRule => ({
  name: 'r', actionMatch: 'all', filterMatch: 'all', frequency: 30, environment: null, conditions: [{ id: CONDITION.firstSeen }], filters: [], actions: [{ id: ACTION.email, targetType: 'IssueOwners', targetIdentifier: null }], status: 'active', ...overrides,
});

const facts = (overrides: Partial<EventFacts> = {}): EventFacts => ({ eventId: 'e', receivedAt: T0, level: 'error', environment: 'production', tags: [], ...overrides });

/** The first event of a new issue (first seen, no regression). */
function firstEvent(at = T0): Happened {
  const observed = observeEvent(emptyState(1, 'h'), at);
  if (observed.kind === 'ignored') throw new Error('a new issue counts its first event');
  return observed;
}

/** A later event of an issue that is neither new nor regressed. */
const laterEvent = (): Happened => ({ ...firstEvent(), firstSeen: false, regression: false });

const fired = (rules: AlertRule[], event: EventFacts, happened: Happened) => decide(rules.map((candidate, index) => ({ ruleId: String(index + 1), rule: candidate })), event, happened).firings;

const passesFilter = (filter: Filter, event: EventFacts) => fired([rule({ filters: [filter] })], event, firstEvent()).length === 1;

describe("Sentry's tag filter", () => {
  // Two values of one key, a `sentry:`-prefixed key and a key spelled in capitals.
  const tags: [string, string][] = [['browser', 'Chrome 120'], ['browser', 'Firefox 3'], ['sentry:release', 'Shop@1.2.0'], ['OS', 'Linux'], ['device', 'Pixel'], ['custom_os', 'Windows']];
  it.each([
    ['browser', 'eq', 'Firefox 3', true],
    ['browser', 'eq', 'firefox 3', true],
    ['BROWSER', 'eq', 'Chrome 120', true],
    ['browser', 'eq', 'Firefox', false],
    ['os', 'eq', 'linux', true],
    ['os', 'eq', 'windows', false],
    ['release', 'eq', 'shop@1.2.0', true],
    ['sentry:release', 'eq', 'Shop@1.2.0', true],
    ['missing', 'eq', 'x', false],
    ['browser', 'ne', 'Firefox 3', false],
    ['browser', 'ne', 'CHROME 120', false],
    ['browser', 'ne', 'Safari', true],
    ['missing', 'ne', 'x', true],
    ['browser', 'sw', 'fire', true],
    ['browser', 'sw', 'Chrome 120 beta', false],
    ['browser', 'sw', '120', false],
    ['missing', 'sw', 'x', false],
    ['browser', 'ew', '120', true],
    ['browser', 'ew', ' 3', true],
    ['browser', 'ew', 'Chrome', false],
    ['missing', 'ew', 'x', false],
    ['browser', 'co', 'ME 1', true],
    ['browser', 'co', 'fox', true],
    ['browser', 'co', 'safari', false],
    ['missing', 'co', 'x', false],
    ['browser', 'nc', 'fox', false],
    ['browser', 'nc', 'ROME', false],
    ['browser', 'nc', 'safari', true],
    ['missing', 'nc', 'x', true],
    ['os', 'is', '', true],
    ['release', 'is', '', true],
    ['missing', 'is', '', false],
    ['os', 'ns', '', false],
    ['missing', 'ns', '', true],
  ] as const)('%s %s %j: %s', (key, match, value, expected) => {
    expect(passesFilter({ id: FILTER.tagged, key, match, value }, facts({ tags }))).toBe(expected);
  });

  it('looks at the tag the filter names only', () => {
    expect(passesFilter({ id: FILTER.tagged, key: 'device', match: 'co', value: 'chrome' }, facts({ tags }))).toBe(false);
    expect(passesFilter({ id: FILTER.tagged, key: 'device', match: 'nc', value: 'chrome' }, facts({ tags }))).toBe(true);
    expect(passesFilter({ id: FILTER.tagged, key: 'device', match: 'ne', value: 'Linux' }, facts({ tags }))).toBe(true);
  });
});

describe("Sentry's level filter", () => {
  // Levels as Sentry numbers them: fatal 50, error 40, warning 30, info 20, debug 10, sample 0.
  it.each([
    ['warning', 'eq', '30', true],
    ['warning', 'eq', '40', false],
    ['warning', 'eq', '20', false],
    ['warning', 'gte', '30', true],
    ['warning', 'gte', '20', true],
    ['warning', 'gte', '40', false],
    ['warning', 'lte', '30', true],
    ['warning', 'lte', '40', true],
    ['warning', 'lte', '20', false],
    ['fatal', 'gte', '50', true],
    ['sample', 'lte', '0', true],
    ['debug', 'eq', '10', true],
    ['info', 'eq', '20', true],
    ['error', 'eq', '40', true],
    ['loud', 'lte', '50', false],
    ['loud', 'gte', '0', false],
    ['loud', 'eq', '40', false],
  ] as const)('a %s event, level %s %s: %s', (level, match, wanted, expected) => {
    expect(passesFilter({ id: FILTER.level, match, level: wanted }, facts({ level }))).toBe(expected);
  });
});

describe('actionMatch and filterMatch', () => {
  const conditions = [{ id: CONDITION.firstSeen }, { id: CONDITION.regression }] as AlertRule['conditions'];
  it.each([
    ['all', firstEvent, []],
    ['any', firstEvent, [{ ruleId: '1', trigger: 'first_seen' }]],
    ['none', firstEvent, []],
    ['all', laterEvent, []],
    ['any', laterEvent, []],
    ['none', laterEvent, [{ ruleId: '1', trigger: 'frequency' }]],
  ] as const)('conditions first seen, regression by %s, for %o', (actionMatch, happened, expected) => {
    expect(fired([rule({ actionMatch, conditions })], facts(), happened())).toEqual(expected);
  });

  it('names the regression when a regression condition passed', () => {
    const regressed = { ...laterEvent(), regression: true };
    expect(fired([rule({ actionMatch: 'any', conditions })], facts(), regressed)).toEqual([{ ruleId: '1', trigger: 'regression' }]);
    expect(fired([rule({ actionMatch: 'any', conditions: [{ id: CONDITION.regression }, { id: CONDITION.firstSeen }] })], facts(), { ...firstEvent(), regression: true })).toEqual([{ ruleId: '1', trigger: 'first_seen' }]);
  });

  it('names the trigger after a condition of the rule only', () => {
    expect(fired([rule({ actionMatch: 'none', conditions: [{ id: CONDITION.regression }] })], facts(), firstEvent())).toEqual([{ ruleId: '1', trigger: 'frequency' }]);
    expect(fired([rule({ actionMatch: 'none', conditions: [{ id: CONDITION.firstSeen }] })], facts(), { ...laterEvent(), regression: true })).toEqual([{ ruleId: '1', trigger: 'frequency' }]);
  });

  const pass: Filter = { id: FILTER.level, match: 'gte', level: '40' };
  const fail: Filter = { id: FILTER.level, match: 'eq', level: '50' };
  it.each([
    ['all', [pass, pass], true],
    ['all', [pass, fail], false],
    ['any', [pass, fail], true],
    ['any', [fail, fail], false],
    ['none', [pass, fail], false],
    ['none', [fail, fail], true],
    // Sentry's RuleProcessor skips an empty filter list, whatever the match.
    ['all', [], true],
    ['any', [], true],
    ['none', [], true],
  ] as const)('filters by %s %j: fires %s', (filterMatch, filters, expected) => {
    expect(fired([rule({ filterMatch, filters: [...filters] })], facts(), firstEvent()).length).toBe(expected ? 1 : 0);
  });

});

describe('a rule without conditions (Sentry’s RuleProcessor evaluates conditions only when there are some)', () => {
  const regressed = (): Happened => ({ ...laterEvent(), regression: true });
  it.each([
    ['all', firstEvent, 'first_seen'],
    ['any', firstEvent, 'first_seen'],
    ['none', firstEvent, 'first_seen'],
    ['all', regressed, 'regression'],
    ['any', laterEvent, 'event'],
    ['none', laterEvent, 'event'],
  ] as const)('given actionMatch %s, when an event comes (%o), then it fires, named for what happened: %s', (actionMatch, happened, trigger) => {
    expect(fired([rule({ actionMatch, conditions: [] })], facts(), happened())).toEqual([{ ruleId: '1', trigger }]);
  });

  it('given filters, when the event fails them, then it does not fire; when it passes them, it does', () => {
    const errorsOnly: Filter = { id: FILTER.level, match: 'gte', level: '40' };
    expect(fired([rule({ conditions: [], filters: [errorsOnly] })], facts({ level: 'info' }), laterEvent())).toEqual([]);
    expect(fired([rule({ conditions: [], filters: [errorsOnly] })], facts({ level: 'fatal' }), laterEvent())).toEqual([{ ruleId: '1', trigger: 'event' }]);
  });

  it('given its frequency, when events follow one another, then it fires once per frequency per issue', () => {
    const always = [{ ruleId: '1', rule: rule({ conditions: [], frequency: 5 }) }];
    const first = decide(always, facts(), laterEvent());
    const soon = decide(always, facts({ receivedAt: T0 + 4 * MIN }), { ...laterEvent(), state: first.state });
    const later = decide(always, facts({ receivedAt: T0 + 5 * MIN }), { ...laterEvent(), state: first.state });
    expect([first.firings.length, soon.firings.length, later.firings.length]).toEqual([1, 0, 1]);
  });

  it('given it is disabled or for another environment, then it does not fire', () => {
    expect(fired([rule({ conditions: [], status: 'disabled' }), rule({ conditions: [], environment: 'staging' })], facts(), laterEvent())).toEqual([]);
  });
});

describe('environment, status and frequency', () => {
  it.each([
    [null, 'production', true],
    [null, null, true],
    ['production', 'production', true],
    ['production', 'staging', false],
    ['production', null, false],
  ] as const)('a rule for environment %j, an event in %j: fires %s', (environment, eventEnvironment, expected) => {
    expect(fired([rule({ environment })], facts({ environment: eventEnvironment }), firstEvent()).length).toBe(expected ? 1 : 0);
  });

  it('skips a disabled rule and decides the others', () => {
    expect(fired([rule({ status: 'disabled' }), rule()], facts(), firstEvent())).toEqual([{ ruleId: '2', trigger: 'first_seen' }]);
  });

  it('fires a rule at most once per issue per frequency minutes, counted from its last firing', () => {
    const everyEvent = rule({ frequency: 5, actionMatch: 'none', conditions: [{ id: CONDITION.regression }] });
    const at = (receivedAt: number, lastFired?: number) => {
      const happened = laterEvent();
      const state = lastFired === undefined ? happened.state : markFired(happened.state, '1', lastFired);
      return decide([{ ruleId: '1', rule: everyEvent }], facts({ receivedAt }), { ...happened, state });
    };
    expect(at(T0).firings).toEqual([{ ruleId: '1', trigger: 'frequency' }]);
    expect(at(T0 + 5 * MIN - 1, T0).firings).toEqual([]);
    expect(at(T0 + 5 * MIN, T0).firings).toEqual([{ ruleId: '1', trigger: 'frequency' }]);
    expect(at(T0 + 5 * MIN, T0).state.lastFired).toEqual({ '1': T0 + 5 * MIN });
    expect(at(T0 + MIN, T0).state.lastFired).toEqual({ '1': T0 });
  });

  it('throttles each rule on its own', () => {
    const rules: ActiveRule[] = [{ ruleId: 'a', rule: rule() }, { ruleId: 'b', rule: rule() }];
    const happened = firstEvent();
    const decided = decide(rules, facts(), { ...happened, state: markFired(happened.state, 'a', T0 - MIN) });
    expect(decided.firings).toEqual([{ ruleId: 'b', trigger: 'first_seen' }]);
    expect(decided.state.lastFired).toEqual({ a: T0 - MIN, b: T0 });
  });

  it('a frequency of 0 fires for every event', () => {
    const happened = firstEvent();
    expect(decide([{ ruleId: '1', rule: rule({ frequency: 0 }) }], facts(), { ...happened, state: markFired(happened.state, '1', T0) }).firings).toEqual([{ ruleId: '1', trigger: 'first_seen' }]);
  });
});

describe('planned deliveries, exactly', () => {
  it('gives each action of the fired rule its delivery, event.alert hooks for a service action, event.created hooks every event', () => {
    const project: ProjectAlerting = {
      organizationSlug: 'acme', projectSlug: 'web',
      rules: [
        { ruleId: 'r1', rule: rule({ name: 'first', actions: [{ id: ACTION.email, targetType: 'IssueOwners', targetIdentifier: null }] }) },
        { ruleId: 'r2', rule: rule({ name: 'second', actions: [{ id: ACTION.slack, webhookUrl: 'https://hooks.slack/x' }, { id: ACTION.service, service: 'webhooks' }] }) },
      ],
      hooks: [{ hookId: 'h1', events: ['event.created'] }, { hookId: 'h2', events: ['event.alert'] }],
    };
    const context = { position: { partition: 0, offset: '7' }, projectId: 3, groupId: 5, issue: '{"id":"5"}', event: '{"id":"e"}', decidedAt: T0 };
    const common = { projectId: 3, organizationSlug: 'acme', projectSlug: 'web', groupId: 5, issue: '{"id":"5"}', event: '{"id":"e"}', decidedAt: T0, attempt: 0, dueAt: T0, lastError: null };
    expect(plannedDeliveries(project, [{ ruleId: 'r2', trigger: 'regression' }], context)).toEqual([
      { ...common, ruleId: 'r2', ruleName: 'second', trigger: 'regression', kind: 'slack', deliveryId: '0-7-r2-0', action: JSON.stringify({ id: ACTION.slack, webhookUrl: 'https://hooks.slack/x' }) },
      { ...common, ruleId: 'r2', ruleName: 'second', trigger: 'regression', kind: 'webhook', deliveryId: '0-7-r2-1-h2', action: JSON.stringify({ id: ACTION.service, service: 'webhooks', hookId: 'h2', hookEvent: 'event.alert' }) },
      { ...common, ruleId: null, ruleName: 'event.created', trigger: 'event', kind: 'webhook', deliveryId: '0-7-hook-h1', action: JSON.stringify({ id: ACTION.service, service: 'webhooks', hookId: 'h1', hookEvent: 'event.created' }) },
    ]);
  });
});
