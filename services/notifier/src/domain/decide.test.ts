import { describe, expect, it } from 'vitest';
import { ACTION, CONDITION, FILTER, type AlertRule } from '@trapline/schemas';
import { decide, plannedDeliveries, type ActiveRule, type EventFacts, type ProjectAlerting } from './decide.ts';
import { changeStatus, deleteIssue, emptyState, eventsWithin, observeEvent } from './issue-state.ts';

// Given the issue's history on the log, when an event arrives, then these rules fire.

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

const rule = (ruleId: string, overrides: Partial<AlertRule> = {}): ActiveRule => ({
  ruleId,
  rule: { name: `rule ${ruleId}`, actionMatch: 'all', filterMatch: 'all', frequency: 30, environment: null, conditions: [{ id: CONDITION.firstSeen }], filters: [], actions: [{ id: ACTION.service, service: 'webhooks' }], status: 'active', ...overrides },
});

const event = (receivedAt: number, overrides: Partial<EventFacts> = {}): EventFacts => ({ eventId: `e${receivedAt}`, receivedAt, level: 'error', environment: 'production', tags: [['browser', 'Chrome']], ...overrides });

/** Replays the events (times) of one hash, deciding each; returns the firings per event. */
function replay(rules: ActiveRule[], times: number[], between: (index: number, state: ReturnType<typeof emptyState>) => ReturnType<typeof emptyState> = (_i, s) => s) {
  let state = emptyState(1, 'h');
  return times.map((at, index) => {
    state = between(index, state);
    const observed = observeEvent(state, at);
    if (observed.kind === 'ignored') return [];
    const decided = decide(rules, event(at), observed);
    state = decided.state;
    return decided.firings.map((firing) => `${firing.ruleId}:${firing.trigger}`);
  });
}

describe('deciding which rules fire', () => {
  it('first seen fires for the first event of an issue only', () => {
    expect(replay([rule('1')], [T0, T0 + MIN, T0 + 2 * MIN])).toEqual([['1:first_seen'], [], []]);
  });

  it('regression fires when a resolved issue is seen again, once', () => {
    const rules = [rule('2', { conditions: [{ id: CONDITION.regression }] })];
    const resolveBeforeThird = (index: number, state: ReturnType<typeof emptyState>) => (index === 2 ? changeStatus(state, 'resolved') : state);
    expect(replay(rules, [T0, T0 + MIN, T0 + 40 * MIN, T0 + 41 * MIN], resolveBeforeThird)).toEqual([[], [], ['2:regression'], []]);
  });

  it('an ignored issue seen again is no regression', () => {
    const rules = [rule('2', { conditions: [{ id: CONDITION.regression }] })];
    expect(replay(rules, [T0, T0 + MIN], (index, state) => (index === 1 ? changeStatus(state, 'ignored') : state))).toEqual([[], []]);
  });

  it('event frequency fires when the count within the interval goes above the value, then at most once per frequency', () => {
    const rules = [rule('3', { frequency: 10, conditions: [{ id: CONDITION.eventFrequency, value: 2, interval: '1m' }] })];
    const times = [T0, T0 + 1000, T0 + 2000, T0 + 3000, T0 + 11 * MIN, T0 + 11 * MIN + 1, T0 + 11 * MIN + 2];
    expect(replay(rules, times)).toEqual([[], [], ['3:frequency'], [], [], [], ['3:frequency']]);
  });

  it('a deleted issue’s hash opens a new issue: first seen again, but not for events received before the deletion', () => {
    const deleted = (index: number, state: ReturnType<typeof emptyState>) => (index === 1 ? deleteIssue(state, state.groupId!, T0 + 10 * MIN) : state);
    expect(replay([rule('1')], [T0, T0 + 5 * MIN, T0 + 20 * MIN], deleted)).toEqual([['1:first_seen'], [], ['1:first_seen']]);
  });

  it.each([
    ['a disabled rule', rule('4', { status: 'disabled' }), false],
    ['another environment', rule('4', { environment: 'staging' }), false],
    ['its environment', rule('4', { environment: 'production' }), true],
    ['a level filter that passes (error >= warning)', rule('4', { filters: [{ id: FILTER.level, match: 'gte', level: '30' }] }), true],
    ['a level filter that fails (error == fatal)', rule('4', { filters: [{ id: FILTER.level, match: 'eq', level: '50' }] }), false],
    ['a tag filter that passes', rule('4', { filters: [{ id: FILTER.tagged, key: 'browser', match: 'sw', value: 'Chr' }] }), true],
    ['a tag filter that fails', rule('4', { filters: [{ id: FILTER.tagged, key: 'browser', match: 'eq', value: 'Firefox' }] }), false],
    ['any of the filters', rule('4', { filterMatch: 'any', filters: [{ id: FILTER.tagged, key: 'browser', match: 'eq', value: 'Firefox' }, { id: FILTER.tagged, key: 'browser', match: 'is', value: '' }] }), true],
    ['none of the conditions (first seen is one)', rule('4', { actionMatch: 'none' }), false],
  ])('for a first event, %s', (_what, candidate, fires) => {
    const observed = observeEvent(emptyState(1, 'h'), T0);
    if (observed.kind === 'ignored') throw new Error('counted');
    expect(decide([candidate], event(T0), observed).firings.length > 0).toBe(fires);
  });

  it('counts events per minute within an hour and per hour beyond', () => {
    let state = emptyState(1, 'h');
    for (const at of [T0, T0 + 30 * MIN, T0 + 90 * MIN]) {
      const observed = observeEvent(state, at);
      if (observed.kind === 'counted') state = observed.state;
    }
    expect(eventsWithin(state, 60 * MIN, T0 + 90 * MIN)).toBe(1);
    expect(eventsWithin(state, 24 * 60 * MIN, T0 + 90 * MIN)).toBe(3);
  });
});

describe('planning deliveries', () => {
  const project: ProjectAlerting = {
    organizationSlug: 'acme', projectSlug: 'web',
    rules: [rule('1', { actions: [{ id: ACTION.service, service: 'webhooks' }, { id: ACTION.email, targetType: 'IssueOwners', targetIdentifier: null }] })],
    hooks: [{ hookId: 'a'.repeat(32), events: ['event.alert'] }, { hookId: 'b'.repeat(32), events: ['event.alert', 'event.created'] }],
  };
  const context = { position: { partition: 2, offset: '41' }, projectId: 1, groupId: 9, issue: '{}', event: '{}', decidedAt: T0 };

  it('gives one delivery per action and hook, with ids from the log position', () => {
    const deliveries = plannedDeliveries(project, [{ ruleId: '1', trigger: 'first_seen' }], context);
    expect(deliveries.map((delivery) => [delivery.deliveryId, delivery.kind, delivery.trigger])).toEqual([
      [`2-41-1-0-${'a'.repeat(32)}`, 'webhook', 'first_seen'],
      [`2-41-1-0-${'b'.repeat(32)}`, 'webhook', 'first_seen'],
      ['2-41-1-1', 'email', 'first_seen'],
      [`2-41-hook-${'b'.repeat(32)}`, 'webhook', 'event'],
    ]);
  });

  it('gives event.created hooks every event, rules or not', () => {
    expect(plannedDeliveries(project, [], context).map((delivery) => delivery.ruleName)).toEqual(['event.created']);
  });
});
