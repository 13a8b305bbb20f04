import { describe, expect, it } from 'vitest';
import { ACTION, CONDITION, DEFAULT_RULE, FILTER, parseAlertRule } from './alert-rules.ts';

const valid = {
  name: 'New errors',
  actionMatch: 'any',
  frequency: 30,
  conditions: [{ id: CONDITION.firstSeen }, { id: CONDITION.eventFrequency, value: '100', interval: '1h' }],
  filters: [{ id: FILTER.level, match: 'gte', level: '40' }, { id: FILTER.tagged, key: 'browser', match: 'eq', value: 'Chrome' }],
  actions: [{ id: ACTION.service, service: 'webhooks' }, { id: ACTION.email, targetType: 'Member', targetIdentifier: 7 }],
};

describe('parsing an alert rule body', () => {
  it('takes Sentry’s shape and fills its defaults', () => {
    const parsed = parseAlertRule(valid);
    expect(parsed).toMatchObject({ ok: true, rule: { filterMatch: 'all', environment: null, status: 'active' } });
    if (!parsed.ok) return;
    expect(parsed.rule.conditions[1]).toEqual({ id: CONDITION.eventFrequency, value: 100, interval: '1h' });
    expect(parsed.rule.actions[1]).toEqual({ id: ACTION.email, targetType: 'Member', targetIdentifier: '7' });
  });

  it('takes its own default rule', () => {
    expect(parseAlertRule(JSON.parse(JSON.stringify(DEFAULT_RULE)))).toEqual({ ok: true, rule: DEFAULT_RULE });
  });

  it.each([
    ['no name', { ...valid, name: '' }, 'body.name'],
    ['an unknown field', { ...valid, when: 'now' }, 'body.when'],
    ['an unknown condition', { ...valid, conditions: [{ id: 'sentry.rules.conditions.nope' }] }, 'body.conditions[0].id'],
    ['a bad interval', { ...valid, conditions: [{ id: CONDITION.eventFrequency, value: 1, interval: '2h' }] }, 'body.conditions[0].interval'],
    ['a negative count', { ...valid, conditions: [{ id: CONDITION.eventFrequency, value: -1, interval: '1h' }] }, 'body.conditions[0].value'],
    ['an unknown filter', { ...valid, filters: [{ id: 'x' }] }, 'body.filters[0].id'],
    ['a bad level', { ...valid, filters: [{ id: FILTER.level, match: 'eq', level: '45' }] }, 'body.filters[0].level'],
    ['a bad tag match', { ...valid, filters: [{ id: FILTER.tagged, key: 'k', match: 'like', value: 'v' }] }, 'body.filters[0].match'],
    ['no actions', { ...valid, actions: [] }, 'body.actions'],
    ['an unknown action', { ...valid, actions: [{ id: 'sentry.rules.actions.nope' }] }, 'body.actions[0].id'],
    ['a bad e-mail target', { ...valid, actions: [{ id: ACTION.email, targetType: 'Everyone' }] }, 'body.actions[0].targetType'],
    ['a Slack URL that is not http(s)', { ...valid, actions: [{ id: ACTION.slack, webhookUrl: 'ftp://hooks.example/x' }] }, 'body.actions[0].webhookUrl'],
    ['a frequency below five minutes', { ...valid, frequency: 1 }, 'body.frequency'],
    ['a bad action match', { ...valid, actionMatch: 'some' }, 'body.actionMatch'],
    ['not an object', [valid], 'body'],
  ])('refuses %s, naming the field', (_what, body, field) => {
    expect(parseAlertRule(body)).toMatchObject({ ok: false, field });
  });
});
