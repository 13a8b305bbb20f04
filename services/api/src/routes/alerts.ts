import { randomBytes } from 'node:crypto';
import type { HookRow, RuleRow } from '@trapline/runtime';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { alertKeys, checkHttpUrl, emailTargetRefusal, newRuleId, parseAlertRule, ruleRecord, type AlertRule, type ServiceHookUpserted } from '@trapline/schemas';
import { AlertsReadModel } from '../adapters/alerts-read-model.ts';
import { serializeDelivery, serializeHook, serializeRule } from '../domain/alerts-serialize.ts';
import { alertEmailsAnswer, alertRuleAnswer, deliveryAnswer, empty, hookAnswer, refusals } from '../domain/answers.ts';
import { ApiError, NOT_FOUND, type ApiContext, type ZodApp } from './context.ts';
import { projectParams } from './schemas.ts';

// Issue alert rules and service hooks with Sentry's paths and shapes, as records on the admin
// topic; plus Trapline's own: addresses added to the issue-owner e-mails, and the delivery log.

const tags = ['alerts'];
const ruleParams = projectParams.extend({ ruleId: z.string().regex(/^\d{1,20}$/).describe('rule id') });
const hookParams = projectParams.extend({ hookId: z.string().regex(/^[0-9a-f]{32}$/).describe('service hook id') });
const deliveriesQuery = z.object({ per_page: z.string().regex(/^(100|[1-9]\d?)$/).optional().describe('1 to 100') });
const HOOK_EVENTS = ['event.alert', 'event.created'];
const MAX_EMAILS = 50;
const ANSWER_ONLY = new Set(['id', 'dateCreated', 'createdBy', 'snooze', 'projects', 'owner']);
const EMAIL = /^[^\s@<>",;\u0000]{1,64}@[^\s@<>",;\u0000]{1,255}$/;

const refuse = (field: string, reason: string) => new ApiError(400, `Invalid ${field}: ${reason}`);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const ruleOf = (row: RuleRow): AlertRule => ({
  name: row.name, actionMatch: row.action_match as AlertRule['actionMatch'], filterMatch: row.filter_match as AlertRule['filterMatch'], frequency: row.frequency,
  environment: row.environment, conditions: row.conditions as AlertRule['conditions'], filters: row.filters as AlertRule['filters'], actions: row.actions as AlertRule['actions'],
  status: row.status as AlertRule['status'],
});

function hookBody(body: unknown, current?: HookRow): { url: string; events: string[] } {
  if (!isObject(body)) throw refuse('body', 'must be a JSON object');
  const unknown = Object.keys(body).find((key) => key !== 'url' && key !== 'events');
  if (unknown) throw refuse(`body.${unknown}`, 'is not a field of a service hook');
  const url = body.url === undefined && current ? { ok: true as const, url: current.url } : checkHttpUrl(body.url, 'body.url');
  if (!url.ok) throw refuse(url.field, url.reason);
  const events = body.events === undefined && current ? current.events : body.events;
  if (!Array.isArray(events) || events.length === 0 || events.some((event) => typeof event !== 'string' || !HOOK_EVENTS.includes(event))) {
    throw refuse('body.events', `must be a non-empty list of ${HOOK_EVENTS.join(', ')}`);
  }
  return { url: url.url, events: [...new Set(events as string[])] };
}

export function alertRoutes(app: ZodApp, context: ApiContext): void {
  const { adminTopic } = context;
  const alerts = new AlertsReadModel(context.readModel.pool);

  const existingRule = async (projectId: number, ruleId: string) => {
    const rule = await alerts.rule(projectId, ruleId);
    if (!rule) throw new ApiError(404, NOT_FOUND);
    return rule;
  };
  const existingHook = async (projectId: number, hookId: string) => {
    const hook = await alerts.hook(projectId, hookId);
    if (!hook) throw new ApiError(404, NOT_FOUND);
    return hook;
  };
  /** A valid rule whose e-mail actions name members and teams of the project's organization. */
  const parsedRule = async (body: unknown, organizationSlug: string): Promise<AlertRule> => {
    const parsed = parseAlertRule(body);
    if (!parsed.ok) throw refuse(parsed.field, parsed.reason);
    if (parsed.rule.actions.some((action) => 'targetType' in action && action.targetType !== 'IssueOwners')) {
      const [members, teams] = await Promise.all([context.readModel.accounts.members(organizationSlug), context.readModel.teams(organizationSlug)]);
      const refusal = emailTargetRefusal(parsed.rule.actions, {
        members: members.map((row) => ({ memberId: row.id, userId: row.user_id, email: row.user_id === null ? null : row.email, pending: row.invite_token_hash !== null })),
        teams: teams.map((row) => ({ teamId: String(row.id), slug: row.slug })),
      });
      if (refusal) throw refuse(refusal.field, refusal.reason);
    }
    return parsed.rule;
  };
  // Each write answers once the projector applied it (read your writes), as every API write does.
  const appendRule = async (reply: FastifyReply, rule: AlertRule, meta: Parameters<typeof ruleRecord>[1]) => {
    const value = ruleRecord(rule, meta);
    await context.appendAndAwait(reply, adminTopic, [{ key: alertKeys.rule(meta.projectId, meta.ruleId), name: 'AlertRuleUpserted', value }]);
    return value;
  };
  const ruleAnswer = (ruleId: string, projectId: number, rule: AlertRule, actor: string, createdAt: number, projectSlug: string) =>
    serializeRule({
      rule_id: ruleId, project_id: projectId, name: rule.name, action_match: rule.actionMatch, filter_match: rule.filterMatch, frequency: rule.frequency, environment: rule.environment,
      conditions: rule.conditions, filters: rule.filters, actions: rule.actions, status: rule.status, created_by: actor, created_at: new Date(createdAt),
    }, projectSlug);

  app.get('/api/0/projects/:org/:project/rules/', { schema: { tags, summary: "List a project's issue alert rules", params: projectParams, response: { 200: z.array(alertRuleAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return (await alerts.rules(project.id)).map((rule) => serializeRule(rule, project.slug));
  });

  app.post('/api/0/projects/:org/:project/rules/', { schema: { tags, summary: 'Create an issue alert rule', params: projectParams, response: { 201: alertRuleAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const rule = await parsedRule(request.body, project.organization_slug);
    const now = context.now();
    const ruleId = newRuleId();
    await appendRule(reply, rule, { projectId: project.id, ruleId, actor: context.actor(token), createdAt: now, changedAt: now });
    return reply.code(201).send(ruleAnswer(ruleId, project.id, rule, context.actor(token), now, project.slug));
  });

  app.get('/api/0/projects/:org/:project/rules/:ruleId/', { schema: { tags, summary: 'Retrieve an issue alert rule', params: ruleParams, response: { 200: alertRuleAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return serializeRule(await existingRule(project.id, request.params.ruleId), project.slug);
  });

  // Sentry's PUT takes the whole rule; `status` (active, disabled) is Trapline's, to switch a rule off.
  app.put('/api/0/projects/:org/:project/rules/:ruleId/', { schema: { tags, summary: 'Update an issue alert rule', params: ruleParams, response: { 200: alertRuleAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const current = await existingRule(project.id, request.params.ruleId);
    // Fields the body leaves out keep their value; the answer's own fields (id, dateCreated, …) are not the rule's.
    const merged = isObject(request.body)
      ? Object.fromEntries(Object.entries({ ...serializeRule(current, project.slug), ...request.body }).filter(([key]) => !ANSWER_ONLY.has(key)))
      : request.body;
    const rule = await parsedRule(merged, project.organization_slug);
    await appendRule(reply, rule, { projectId: project.id, ruleId: current.rule_id, actor: context.actor(token), createdAt: current.created_at.getTime(), changedAt: context.now() });
    return ruleAnswer(current.rule_id, project.id, rule, current.created_by, current.created_at.getTime(), project.slug);
  });

  app.delete('/api/0/projects/:org/:project/rules/:ruleId/', { schema: { tags, summary: 'Delete an issue alert rule', params: ruleParams, response: { 202: empty, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const current = await existingRule(project.id, request.params.ruleId);
    await appendRule(reply, ruleOf(current), { projectId: project.id, ruleId: current.rule_id, actor: context.actor(token), createdAt: current.created_at.getTime(), changedAt: context.now(), deleted: true });
    // Sentry's 202 has no body.
    return reply.code(202).send(undefined as unknown as null);
  });

  const appendHook = async (reply: FastifyReply, value: ServiceHookUpserted) => {
    await context.appendAndAwait(reply, adminTopic, [{ key: alertKeys.hook(value.projectId, value.hookId), name: 'ServiceHookUpserted', value }]);
    return serializeHook({ hook_id: value.hookId, project_id: value.projectId, url: value.url, events: value.events, secret: value.secret, status: value.status, created_at: new Date(value.createdAt) });
  };

  app.get('/api/0/projects/:org/:project/hooks/', { schema: { tags, summary: "List a project's service hooks", params: projectParams, response: { 200: z.array(hookAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return (await alerts.hooks(project.id)).map(serializeHook);
  });

  app.post('/api/0/projects/:org/:project/hooks/', { schema: { tags, summary: 'Register a service hook', params: projectParams, response: { 201: hookAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const { url, events } = hookBody(request.body);
    const now = context.now();
    const hook = await appendHook(reply, {
      projectId: project.id, hookId: randomBytes(16).toString('hex'), url, events, secret: randomBytes(32).toString('hex'), status: 'active', deleted: false,
      actor: context.actor(token), createdAt: now, changedAt: now,
    });
    return reply.code(201).send(hook);
  });

  app.get('/api/0/projects/:org/:project/hooks/:hookId/', { schema: { tags, summary: 'Retrieve a service hook', params: hookParams, response: { 200: hookAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return serializeHook(await existingHook(project.id, request.params.hookId));
  });

  app.put('/api/0/projects/:org/:project/hooks/:hookId/', { schema: { tags, summary: 'Update a service hook', params: hookParams, response: { 200: hookAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const current = await existingHook(project.id, request.params.hookId);
    const { url, events } = hookBody(request.body, current);
    return appendHook(reply, { projectId: project.id, hookId: current.hook_id, url, events, secret: current.secret, status: current.status, deleted: false, actor: context.actor(token), createdAt: current.created_at.getTime(), changedAt: context.now() });
  });

  app.delete('/api/0/projects/:org/:project/hooks/:hookId/', { schema: { tags, summary: 'Remove a service hook', params: hookParams, response: { 204: empty, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const current = await existingHook(project.id, request.params.hookId);
    await appendHook(reply, { projectId: project.id, hookId: current.hook_id, url: current.url, events: current.events, secret: current.secret, status: current.status, deleted: true, actor: context.actor(token), createdAt: current.created_at.getTime(), changedAt: context.now() });
    return reply.code(204).send(null);
  });

  // Trapline's: addresses that are no member (a list, a pager) added to the project's issue-owner e-mails (see the notifier's recipients).
  app.get('/api/0/projects/:org/:project/alert-emails/', { schema: { tags, summary: 'The addresses added to the issue-owner e-mail alerts of a project', params: projectParams, response: { 200: alertEmailsAnswer, ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return { emails: await alerts.emails(project.id) };
  });

  app.put('/api/0/projects/:org/:project/alert-emails/', { schema: { tags, summary: 'Set the addresses added to the issue-owner e-mail alerts of a project', params: projectParams, response: { 200: alertEmailsAnswer, ...refusals } } }, async (request, reply) => {
    const token = await context.authenticate(request, 'project:write');
    const project = await context.project(token, request.params.org, request.params.project);
    const body = request.body;
    if (!isObject(body) || Object.keys(body).some((key) => key !== 'emails')) throw refuse('body', 'must be {"emails": [...]}');
    const { emails } = body;
    if (!Array.isArray(emails) || emails.length > MAX_EMAILS) throw refuse('body.emails', `must be a list of at most ${MAX_EMAILS} addresses`);
    const bad = emails.findIndex((email) => typeof email !== 'string' || !EMAIL.test(email));
    if (bad !== -1) throw refuse(`body.emails[${bad}]`, 'is not an e-mail address');
    const unique = [...new Set(emails as string[])];
    await context.appendAndAwait(reply, adminTopic, [{ key: alertKeys.emails(project.id), name: 'ProjectAlertEmailsChanged', value: { projectId: project.id, emails: unique, actor: context.actor(token), changedAt: context.now() } }]);
    return { emails: unique };
  });

  app.get('/api/0/projects/:org/:project/alert-deliveries/', { schema: { tags, summary: "A project's recent alert deliveries: status, attempts, last error", params: projectParams, querystring: deliveriesQuery, response: { 200: z.array(deliveryAnswer), ...refusals } } }, async (request) => {
    const token = await context.authenticate(request, 'project:read');
    const project = await context.project(token, request.params.org, request.params.project);
    return (await alerts.deliveries(project.id, Number(request.query.per_page ?? 100))).map(serializeDelivery);
  });
}
