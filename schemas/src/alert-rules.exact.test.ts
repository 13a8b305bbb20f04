import { describe, expect, it } from 'vitest';
import { ACTION, alertKeys, checkHttpUrl, CONDITION, DEFAULT_RULE, FILTER, INTERVALS, LEVELS, newRuleId, parseAlertRule, ruleRecord, type AlertRule } from './alert-rules.ts';

// Alert rule bodies as Sentry's API (and its UI, and terraform) send them: what each is read as,
// and each refusal with the field it names and the reason the 400 gives.

const base = { name: 'New errors', conditions: [{ id: CONDITION.firstSeen }], actions: [{ id: ACTION.service, service: 'webhooks' }] };
const parsed = (body: object) => {
  const result = parseAlertRule({ ...base, ...body });
  if (!result.ok) throw new Error(`${result.field} ${result.reason}`);
  return result.rule;
};
const refusal = (body: unknown) => parseAlertRule(body);

describe('what a rule body is read as', () => {
  it('fills Sentry’s defaults', () => {
    expect(parseAlertRule(base)).toEqual({
      ok: true,
      rule: { name: 'New errors', actionMatch: 'all', filterMatch: 'all', frequency: 30, environment: null, conditions: [{ id: CONDITION.firstSeen }], filters: [], actions: [{ id: ACTION.service, service: 'webhooks' }], status: 'active' },
    });
  });

  it('takes the matches, frequency, environment and status it is given', () => {
    expect(parsed({ actionMatch: 'none', filterMatch: 'any', frequency: '60', environment: 'production', status: 'disabled', owner: 'team:1', projects: ['web'], filters: null })).toMatchObject({
      actionMatch: 'none',
      filterMatch: 'any',
      frequency: 60,
      environment: 'production',
      status: 'disabled',
      filters: [],
    });
    expect(parsed({ environment: '' }).environment).toBeNull();
    expect(parsed({ environment: null }).environment).toBeNull();
    expect(parsed({ frequency: 5 }).frequency).toBe(5);
    expect(parsed({ frequency: 43_200 }).frequency).toBe(43_200);
  });

  it('reads every condition, with counts as numbers or digits', () => {
    expect(parsed({ conditions: [{ id: CONDITION.regression, extra: 1 }, { id: CONDITION.eventFrequency, value: '0', interval: '1m' }, { id: CONDITION.eventFrequency, value: 123_456_789, interval: '30d' }] }).conditions).toEqual([
      { id: CONDITION.regression },
      { id: CONDITION.eventFrequency, value: 0, interval: '1m' },
      { id: CONDITION.eventFrequency, value: 123_456_789, interval: '30d' },
    ]);
  });

  it('reads the level and tag filters', () => {
    expect(parsed({ filters: [{ id: FILTER.level, match: 'lte', level: 30 }, { id: FILTER.level, match: 'eq', level: '0' }, { id: FILTER.tagged, key: 'browser', match: 'sw', value: 'Chrome' }, { id: FILTER.tagged, key: 'user', match: 'is' }, { id: FILTER.tagged, key: 'user', match: 'ns', value: 7 }] }).filters).toEqual([
      { id: FILTER.level, match: 'lte', level: '30' },
      { id: FILTER.level, match: 'eq', level: '0' },
      { id: FILTER.tagged, key: 'browser', match: 'sw', value: 'Chrome' },
      { id: FILTER.tagged, key: 'user', match: 'is', value: '' },
      { id: FILTER.tagged, key: 'user', match: 'ns', value: '7' },
    ]);
  });

  it('reads the e-mail, service and Slack actions', () => {
    expect(parsed({ actions: [
      { id: ACTION.email, targetType: 'IssueOwners', targetIdentifier: '', fallthroughType: 'ActiveMembers' },
      { id: ACTION.email, targetType: 'Team', targetIdentifier: 3, fallthroughType: 5 },
      { id: ACTION.email, targetType: 'Member' },
      { id: ACTION.email, targetType: 'Member', targetIdentifier: null },
      { id: ACTION.service },
      { id: ACTION.slack, webhookUrl: 'https://hooks.slack.com/services/T/B/x' },
      { id: ACTION.slack, webhookUrl: 'http://slack.internal/hook' },
    ] }).actions).toEqual([
      { id: ACTION.email, targetType: 'IssueOwners', targetIdentifier: null, fallthroughType: 'ActiveMembers' },
      { id: ACTION.email, targetType: 'Team', targetIdentifier: '3' },
      { id: ACTION.email, targetType: 'Member', targetIdentifier: null },
      { id: ACTION.email, targetType: 'Member', targetIdentifier: null },
      { id: ACTION.service, service: 'webhooks' },
      { id: ACTION.slack, webhookUrl: 'https://hooks.slack.com/services/T/B/x' },
      { id: ACTION.slack, webhookUrl: 'http://slack.internal/hook' },
    ]);
  });

  it.each([
    ['left out', undefined],
    ['null', null],
    ['empty', []],
  ])('takes a rule whose conditions are %s, as Sentry does: no conditions (it fires for every event)', (_, conditions) => {
    expect(parsed({ conditions }).conditions).toEqual([]);
  });

  it('takes up to 20 conditions, filters and actions', () => {
    const twenty = <T>(item: T) => Array.from({ length: 20 }, () => item);
    const rule = parsed({ conditions: twenty({ id: CONDITION.firstSeen }), filters: twenty({ id: FILTER.level, match: 'eq', level: '40' }), actions: twenty({ id: ACTION.service }) });
    expect([rule.conditions.length, rule.filters.length, rule.actions.length]).toEqual([20, 20, 20]);
  });

  it('knows Sentry’s intervals and levels', () => {
    expect(INTERVALS).toEqual({ '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000, '1w': 604_800_000, '30d': 2_592_000_000 });
    expect(LEVELS).toEqual({ fatal: 50, error: 40, warning: 30, info: 20, debug: 10, sample: 0 });
  });
});

const FREQUENCY = 'must be a whole number of minutes from 5 to 43200';

describe('refusals, naming the field', () => {
  it.each([
    ['not an object', 'rule', 'body', 'must be a JSON object'],
    ['null', null, 'body', 'must be a JSON object'],
    ['an unknown field', { ...base, when: 'now' }, 'body.when', 'is not a field of a rule'],
    ['no name', { ...base, name: undefined }, 'body.name', 'must be a non-empty string'],
    ['a number as name', { ...base, name: 7 }, 'body.name', 'must be a non-empty string'],
    ['a long name', { ...base, name: 'n'.repeat(257) }, 'body.name', 'must be at most 256 characters'],
    ['a NUL in the name', { ...base, name: 'a\u0000b' }, 'body.name', 'must not contain NUL characters'],
    ['a frequency of 4', { ...base, frequency: 4 }, 'body.frequency', FREQUENCY],
    ['a frequency beyond 30 days', { ...base, frequency: 43_201 }, 'body.frequency', FREQUENCY],
    ['a fractional frequency', { ...base, frequency: 30.5 }, 'body.frequency', FREQUENCY],
    ['a frequency of too many digits', { ...base, frequency: '0000030' }, 'body.frequency', FREQUENCY],
    ['a frequency that is not digits', { ...base, frequency: '30m' }, 'body.frequency', FREQUENCY],
    ['a null frequency', { ...base, frequency: null }, 'body.frequency', FREQUENCY],
    ['a frequency in a list', { ...base, frequency: [60] }, 'body.frequency', FREQUENCY],
    ['a long environment', { ...base, environment: 'e'.repeat(65) }, 'body.environment', 'must be at most 64 characters'],
    ['a bad action match', { ...base, actionMatch: 'some' }, 'body.actionMatch', 'must be one of all, any, none'],
    ['a bad filter match', { ...base, filterMatch: 1 }, 'body.filterMatch', 'must be one of all, any, none'],
    ['a bad status', { ...base, status: 'paused' }, 'body.status', 'must be one of active, disabled'],
    ['conditions that are no list', { ...base, conditions: { id: CONDITION.firstSeen } }, 'body.conditions', 'must be a list'],
    ['21 conditions', { ...base, conditions: Array.from({ length: 21 }, () => ({ id: CONDITION.firstSeen })) }, 'body.conditions', 'must have at most 20 items'],
    ['a condition that is no object', { ...base, conditions: ['first_seen'] }, 'body.conditions[0]', 'must be an object'],
    ['a condition without id', { ...base, conditions: [{}] }, 'body.conditions[0].id', 'must be a non-empty string'],
    ['an unknown condition', { ...base, conditions: [{ id: CONDITION.firstSeen }, { id: 'nope' }] }, 'body.conditions[1].id', 'unknown condition "nope"'],
    ['a negative count', { ...base, conditions: [{ id: CONDITION.eventFrequency, value: -1, interval: '1h' }] }, 'body.conditions[0].value', 'must be a whole number of events, 0 or more'],
    ['a fractional count', { ...base, conditions: [{ id: CONDITION.eventFrequency, value: 1.5, interval: '1h' }] }, 'body.conditions[0].value', 'must be a whole number of events, 0 or more'],
    ['a count of ten digits', { ...base, conditions: [{ id: CONDITION.eventFrequency, value: '1234567890', interval: '1h' }] }, 'body.conditions[0].value', 'must be a whole number of events, 0 or more'],
    ['a count that is no number', { ...base, conditions: [{ id: CONDITION.eventFrequency, value: '1e3', interval: '1h' }] }, 'body.conditions[0].value', 'must be a whole number of events, 0 or more'],
    ['a count in a list', { ...base, conditions: [{ id: CONDITION.eventFrequency, value: [5], interval: '1h' }] }, 'body.conditions[0].value', 'must be a whole number of events, 0 or more'],
    ['an unsafe count', { ...base, conditions: [{ id: CONDITION.eventFrequency, value: 2 ** 53, interval: '1h' }] }, 'body.conditions[0].value', 'must be a whole number of events, 0 or more'],
    ['a bad interval', { ...base, conditions: [{ id: CONDITION.eventFrequency, value: 1, interval: '2h' }] }, 'body.conditions[0].interval', 'must be one of 1m, 5m, 15m, 1h, 1d, 1w, 30d'],
    ['filters that are no list', { ...base, filters: 'level' }, 'body.filters', 'must be a list'],
    ['21 filters', { ...base, filters: Array.from({ length: 21 }, () => ({ id: FILTER.level, match: 'eq', level: '40' })) }, 'body.filters', 'must have at most 20 items'],
    ['an unknown filter', { ...base, filters: [{ id: 'x' }] }, 'body.filters[0].id', 'unknown filter "x"'],
    ['a bad level', { ...base, filters: [{ id: FILTER.level, match: 'eq', level: '45' }] }, 'body.filters[0].level', 'must be one of 50, 40, 30, 20, 10, 0'],
    ['no level', { ...base, filters: [{ id: FILTER.level, match: 'eq' }] }, 'body.filters[0].level', 'must be one of 50, 40, 30, 20, 10, 0'],
    ['a bad level match', { ...base, filters: [{ id: FILTER.level, match: 'gt', level: '40' }] }, 'body.filters[0].match', 'must be one of eq, gte, lte'],
    ['a bad tag match', { ...base, filters: [{ id: FILTER.tagged, key: 'k', match: 'like', value: 'v' }] }, 'body.filters[0].match', 'must be one of eq, ne, sw, ew, co, nc, is, ns'],
    ['a tag filter without value', { ...base, filters: [{ id: FILTER.tagged, key: 'k', match: 'eq' }] }, 'body.filters[0].value', 'must be a non-empty string'],
    ['a long tag value', { ...base, filters: [{ id: FILTER.tagged, key: 'k', match: 'eq', value: 'v'.repeat(201) }] }, 'body.filters[0].value', 'must be at most 200 characters'],
    ['a long tag key', { ...base, filters: [{ id: FILTER.tagged, key: 'k'.repeat(201), match: 'eq', value: 'v' }] }, 'body.filters[0].key', 'must be at most 200 characters'],
    ['no actions', { ...base, actions: undefined }, 'body.actions', 'is required'],
    ['empty actions', { ...base, actions: [] }, 'body.actions', 'must not be empty'],
    ['an unknown action', { ...base, actions: [{ id: 'nope' }] }, 'body.actions[0].id', 'unknown action "nope"'],
    ['a bad e-mail target', { ...base, actions: [{ id: ACTION.email, targetType: 'Everyone' }] }, 'body.actions[0].targetType', 'must be one of IssueOwners, Team, Member'],
    ['a target that is an object', { ...base, actions: [{ id: ACTION.email, targetType: 'Member', targetIdentifier: { id: 1 } }] }, 'body.actions[0].targetIdentifier', 'must be a string or a number'],
    ['a long target', { ...base, actions: [{ id: ACTION.email, targetType: 'Member', targetIdentifier: 't'.repeat(257) }] }, 'body.actions[0].targetIdentifier', 'must be at most 256 characters'],
    ['a long service', { ...base, actions: [{ id: ACTION.service, service: 's'.repeat(101) }] }, 'body.actions[0].service', 'must be at most 100 characters'],
    ['a Slack URL that is not http(s)', { ...base, actions: [{ id: ACTION.slack, webhookUrl: 'ftp://hooks.example/x' }] }, 'body.actions[0].webhookUrl', 'must be an http(s) URL'],
    ['a Slack URL that is no URL', { ...base, actions: [{ id: ACTION.slack, webhookUrl: 'hooks.slack.com/x' }] }, 'body.actions[0].webhookUrl', 'must be an http(s) URL'],
    ['no Slack URL', { ...base, actions: [{ id: ACTION.slack }] }, 'body.actions[0].webhookUrl', 'must be a non-empty string'],
    ['a Slack URL too long', { ...base, actions: [{ id: ACTION.slack, webhookUrl: `https://x/${'p'.repeat(2040)}` }] }, 'body.actions[0].webhookUrl', 'must be at most 2048 characters'],
  ])('refuses %s', (_what, body, field, reason) => {
    expect(refusal(body)).toEqual({ ok: false, field, reason });
  });

  it('takes names, keys and URLs at their limits', () => {
    expect(parsed({ name: 'n'.repeat(256), environment: 'e'.repeat(64) }).name).toHaveLength(256);
    expect(parsed({ actions: [{ id: ACTION.slack, webhookUrl: `https://x/${'p'.repeat(2038)}` }] }).actions).toHaveLength(1);
  });
});

describe('hooks, records and keys', () => {
  it('checks a hook URL', () => {
    expect(checkHttpUrl('https://hooks.example.com/x', 'url')).toEqual({ ok: true, url: 'https://hooks.example.com/x' });
    expect(checkHttpUrl('mailto:a@b.c', 'url')).toEqual({ ok: false, field: 'url', reason: 'must be an http(s) URL' });
    expect(checkHttpUrl(undefined, 'url')).toEqual({ ok: false, field: 'url', reason: 'must be a non-empty string' });
  });

  it('keys each alerting record by its entity, so compaction keeps its last state', () => {
    expect([alertKeys.rule(7, '1001'), alertKeys.hook(7, 'h1'), alertKeys.emails(7)]).toEqual(['project/7/rule/1001', 'project/7/hook/h1', 'project/7/alert-emails']);
  });

  it('writes a rule as its admin record, not deleted unless told', () => {
    const rule: AlertRule = parsed({ environment: 'prod', filters: [{ id: FILTER.level, match: 'eq', level: '40' }] });
    const meta = { projectId: 7, ruleId: '1001', actor: 'user:1', createdAt: 1, changedAt: 2 };
    expect(ruleRecord(rule, meta)).toEqual({
      projectId: 7,
      ruleId: '1001',
      name: 'New errors',
      actionMatch: 'all',
      filterMatch: 'all',
      frequency: 30,
      environment: 'prod',
      conditions: JSON.stringify([{ id: CONDITION.firstSeen }]),
      filters: JSON.stringify([{ id: FILTER.level, match: 'eq', level: '40' }]),
      actions: JSON.stringify([{ id: ACTION.service, service: 'webhooks' }]),
      status: 'active',
      deleted: false,
      actor: 'user:1',
      createdAt: 1,
      changedAt: 2,
    });
    expect(ruleRecord(rule, { ...meta, deleted: true }).deleted).toBe(true);
  });

  it('makes rule ids of ten digits, as Sentry’s numeric ids', () => {
    const ids = Array.from({ length: 50 }, () => newRuleId());
    for (const id of ids) expect(id).toMatch(/^[1-9]\d{9}$/);
    expect(new Set(ids).size).toBe(50);
  });

  it("is Sentry's default rule for a new project: a new issue e-mails the issue owners, falling through to the active members", () => {
    expect(DEFAULT_RULE).toEqual({
      name: 'Send a notification for new issues',
      actionMatch: 'all',
      filterMatch: 'all',
      frequency: 30,
      environment: null,
      conditions: [{ id: CONDITION.firstSeen }],
      filters: [],
      actions: [{ id: ACTION.email, targetType: 'IssueOwners', targetIdentifier: null, fallthroughType: 'ActiveMembers' }],
      status: 'active',
    });
  });
});
