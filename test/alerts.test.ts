import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createLogger } from '@trapline/runtime';
import { ACTION, CONDITION, FILTER } from '@trapline/schemas';
import { eventually, runCli, startTrapline, type RunningTrapline } from './harness.ts';
import { startHttpReceiver, startSmtpReceiver } from './receivers.ts';

// Alerting end to end: rules and service hooks through Sentry's API at the gateway, events through
// the store endpoint, and real receivers (an HTTP server for service hooks and Slack, an SMTP server
// for e-mail). Invariant 8: a restart, a reset of the notifier's group to the earliest offset, a
// rebuild and a killed notifier never send an alert twice.

let trapline: RunningTrapline;
let http: Awaited<ReturnType<typeof startHttpReceiver>>;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let org: string;
let project: string;

beforeAll(async () => {
  http = await startHttpReceiver();
  smtp = await startSmtpReceiver();
  trapline = await startTrapline({
    SMTP_URL: smtp.url, EMAIL_FROM: 'alerts@trapline.test', ALERT_RETRY_BACKOFF_MS: '200', ALERT_RETRY_MAX_BACKOFF_MS: '400', ALERT_MAX_ATTEMPTS: '3',
    ALERT_DELIVERY_TIMEOUT_MS: '1500', ALERT_RULES_REFRESH_MS: '200',
  });
  ({ organizationSlug: org, projectSlug: project } = trapline.defaults);
}, 180000);

afterAll(async () => {
  await trapline?.dispose();
  await http?.close();
  await smtp?.close();
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${trapline.publicUrl}/api/0${path}`, {
    method,
    headers: { authorization: `Bearer ${trapline.defaults.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const json = async <T = Record<string, unknown>>(response: Response) => (await response.json()) as T;

async function sendEvent(message: string, extra: Record<string, unknown> = {}): Promise<string> {
  const key = new URL(trapline.defaults.dsn).username;
  const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message, level: 'error', ...extra }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

const rules = async () => json<{ id: string; name: string; status: string }[]>(await api('GET', `/projects/${org}/${project}/rules/`));
const deliveries = async () => json<{ id: string; status: string; kind: string; trigger: string; attempts: number; lastError: string | null; ruleName: string }[]>(await api('GET', `/projects/${org}/${project}/alert-deliveries/`));

const hookRequests = () => http.on('/hook');

describe('rules and hooks through Sentry’s API', () => {
  it('a project starts with Sentry’s default rule', async () => {
    const found = await eventually(async () => ((await rules()).length > 0 ? rules() : undefined), 'the default rule');
    expect(found.map((rule) => rule.name)).toEqual(['Send a notification for new issues']);
  });

  it.each([
    ['an unknown condition', { name: 'x', conditions: [{ id: 'sentry.rules.conditions.nope' }], actions: [{ id: ACTION.email, targetType: 'IssueOwners' }] }, 'body.conditions[0].id'],
    ['a bad interval', { name: 'x', conditions: [{ id: CONDITION.eventFrequency, value: 1, interval: '7m' }], actions: [{ id: ACTION.email, targetType: 'IssueOwners' }] }, 'body.conditions[0].interval'],
    ['an unknown action', { name: 'x', conditions: [{ id: CONDITION.firstSeen }], actions: [{ id: 'nope' }] }, 'body.actions[0].id'],
    ['an unknown member', { name: 'x', conditions: [{ id: CONDITION.firstSeen }], actions: [{ id: ACTION.email, targetType: 'Member', targetIdentifier: '424242' }] }, 'body.actions[0].targetIdentifier'],
    ['an unknown team', { name: 'x', conditions: [{ id: CONDITION.firstSeen }], actions: [{ id: ACTION.email, targetType: 'Team', targetIdentifier: 'nobody' }] }, 'body.actions[0].targetIdentifier'],
    ['a Slack URL that is not http(s)', { name: 'x', conditions: [{ id: CONDITION.firstSeen }], actions: [{ id: ACTION.slack, webhookUrl: 'file:///etc/passwd' }] }, 'body.actions[0].webhookUrl'],
  ])('refuses a rule with %s: 400 naming the field, nothing appended', async (_what, body, field) => {
    const before = await rules();
    const response = await api('POST', `/projects/${org}/${project}/rules/`, body);
    expect(response.status).toBe(400);
    expect((await json<{ detail: string }>(response)).detail).toContain(field);
    expect(await rules()).toEqual(before);
  });

  it('refuses a rule that e-mails a member of another organization: 400 naming the field, nothing appended', async () => {
    expect(runCli(trapline.env, ['orgs', 'create', 'elsewhere']).status).toBe(0);
    const token = runCli(trapline.env, ['tokens', 'create', 'elsewhere']).stdout.trim();
    const invited = await fetch(`${trapline.publicUrl}/api/0/organizations/elsewhere/members/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'stranger@example.com', orgRole: 'member' }),
    });
    expect(invited.status, await invited.clone().text()).toBe(201);
    // Accepted, so the member could be mailed were it in this organization (a pending one never is).
    const [, memberId, invite] = /\/accept\/(\d+)\/([0-9a-f]{64})\/$/.exec((await json<{ inviteLink: string }>(invited)).inviteLink)!;
    const accepted = await fetch(`${trapline.publicUrl}/api/0/accept-invite/${memberId}/${invite}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'a member password 1', name: 'stranger' }) });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const stranger = (await json<{ user: { id: string } }>(accepted)).user.id;
    const before = await rules();
    const response = await api('POST', `/projects/${org}/${project}/rules/`, { name: 'x', conditions: [{ id: CONDITION.firstSeen }], actions: [{ id: ACTION.email, targetType: 'Member', targetIdentifier: stranger }] });
    expect(response.status).toBe(400);
    expect((await json<{ detail: string }>(response)).detail).toContain('body.actions[0].targetIdentifier');
    expect(await rules()).toEqual(before);
  });

  it('refuses a hook whose URL is not http(s) or whose events are unknown', async () => {
    for (const [body, field] of [[{ url: 'javascript:alert(1)', events: ['event.alert'] }, 'body.url'], [{ url: `${http.url}/hook`, events: ['issue.created'] }, 'body.events']] as const) {
      const response = await api('POST', `/projects/${org}/${project}/hooks/`, body);
      expect(response.status).toBe(400);
      expect((await json<{ detail: string }>(response)).detail).toContain(field);
    }
    expect(await json(await api('GET', `/projects/${org}/${project}/hooks/`))).toEqual([]);
  });

  it('creates, edits, disables and deletes a rule', async () => {
    const created = await api('POST', `/projects/${org}/${project}/rules/`, { name: 'temporary', frequency: 5, conditions: [{ id: CONDITION.regression }], actions: [{ id: ACTION.email, targetType: 'IssueOwners' }] });
    expect(created.status).toBe(201);
    const { id } = await json<{ id: string }>(created);
    await eventually(async () => ((await api('GET', `/projects/${org}/${project}/rules/${id}/`)).ok ? true : undefined), 'the rule projected');
    const put = await api('PUT', `/projects/${org}/${project}/rules/${id}/`, { name: 'renamed', status: 'disabled' });
    expect(await json(put)).toMatchObject({ id, name: 'renamed', status: 'disabled', frequency: 5, conditions: [{ id: CONDITION.regression }] });
    await eventually(async () => ((await rules()).some((rule) => rule.name === 'renamed' && rule.status === 'disabled') ? true : undefined), 'the edit projected');
    expect((await api('DELETE', `/projects/${org}/${project}/rules/${id}/`)).status).toBe(202);
    await eventually(async () => ((await api('GET', `/projects/${org}/${project}/rules/${id}/`)).status === 404 ? true : undefined), 'the rule gone');
  });
});

/** An invitation, accepted (a member with a user) unless `accept` is false. */
async function join(email: string, accept = true): Promise<{ memberId: string; userId: string | null }> {
  const invited = await api('POST', `/organizations/${org}/members/`, { email, orgRole: 'member' });
  expect(invited.status, await invited.clone().text()).toBe(201);
  const [, memberId, token] = /\/accept\/(\d+)\/([0-9a-f]{64})\/$/.exec((await json<{ inviteLink: string }>(invited)).inviteLink)!;
  if (!accept) return { memberId: memberId!, userId: null };
  const accepted = await fetch(`${trapline.publicUrl}/api/0/accept-invite/${memberId}/${token}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'a member password 1', name: email }) });
  expect(accepted.status, await accepted.clone().text()).toBe(200);
  return { memberId: memberId!, userId: (await json<{ user: { id: string } }>(accepted)).user.id };
}

describe('alerts', () => {
  let secret: string;
  let developer: { memberId: string; userId: string | null };
  const everyone = () => [trapline.defaults.owner.email, 'dev@example.com', 'oncall@example.com'].sort();

  beforeAll(async () => {
    // E-mail goes to the organization's accepted members (the owner and a developer, not a pending
    // invitation) and to the project's own addresses (a pager).
    expect((await api('PUT', `/projects/${org}/${project}/alert-emails/`, { emails: ['oncall@example.com'] })).status).toBe(200);
    developer = await join('dev@example.com');
    await join('invited@example.com', false);
    const hook = await api('POST', `/projects/${org}/${project}/hooks/`, { url: `${http.url}/hook`, events: ['event.alert'] });
    expect(hook.status).toBe(201);
    secret = (await json<{ secret: string }>(hook)).secret;
    http.answers.set('/slack-down', 503);
    http.answers.set('/slack-hangs', 'hang');
    for (const body of [
      { name: 'hook on new issues', conditions: [{ id: CONDITION.firstSeen }], filters: [{ id: FILTER.level, match: 'gte', level: '40' }], actions: [{ id: ACTION.service, service: 'webhooks' }] },
      { name: 'slack on regressions', conditions: [{ id: CONDITION.regression }], actions: [{ id: ACTION.slack, webhookUrl: `${http.url}/slack` }] },
      { name: 'mail the developer', conditions: [{ id: CONDITION.firstSeen }], filters: [{ id: FILTER.tagged, key: 'team', match: 'eq', value: 'mobile' }], actions: [{ id: ACTION.email, targetType: 'Member', targetIdentifier: developer.userId }] },
      { name: 'failing receivers', conditions: [{ id: CONDITION.firstSeen }], filters: [{ id: FILTER.tagged, key: 'team', match: 'eq', value: 'payments' }], actions: [{ id: ACTION.slack, webhookUrl: `${http.url}/slack-down` }, { id: ACTION.slack, webhookUrl: `${http.url}/slack-hangs` }, { id: ACTION.slack, webhookUrl: `${http.url}/slack-ok` }] },
    ]) expect((await api('POST', `/projects/${org}/${project}/rules/`, body)).status).toBe(201);
    await eventually(async () => ((await rules()).length === 5 ? true : undefined), 'the rules projected');
    await new Promise((resolve) => setTimeout(resolve, 500)); // the notifier's rule cache (ALERT_RULES_REFRESH_MS)
  });

  it('a new issue sends one signed service hook and one e-mail; its next events send nothing', async () => {
    const eventId = await sendEvent('checkout exploded');
    const [request] = await eventually(async () => (hookRequests().length > 0 ? hookRequests() : undefined), 'the service hook');
    expect(request!.headers['x-servicehook-signature']).toBe(createHmac('sha256', secret).update(request!.body).digest('hex'));
    const payload = JSON.parse(request!.body) as { project: { slug: string }; group: { title: string; permalink: string }; event: { event_id: string } };
    expect(payload).toMatchObject({ project: { slug: project }, group: { title: 'checkout exploded' }, event: { event_id: eventId } });
    expect(payload.group.permalink).toMatch(new RegExp(`^${trapline.publicUrl}/organizations/${org}/issues/\\d+/$`));
    const mail = await eventually(async () => smtp.mails.find((candidate) => candidate.raw.includes('checkout exploded')), 'the e-mail');
    expect(mail.to.sort()).toEqual(everyone());
    await sendEvent('checkout exploded');
    await sendEvent('checkout exploded');
    await eventually(async () => ((await deliveries()).filter((delivery) => delivery.status === 'sent').length >= 2 ? true : undefined), 'the delivery log');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(hookRequests()).toHaveLength(1);
    expect(smtp.mails.filter((candidate) => candidate.raw.includes('checkout exploded'))).toHaveLength(1);
  });

  it('a Member target mails that member alone', async () => {
    await sendEvent('mobile crash', { tags: { team: 'mobile' } });
    const mails = await eventually(async () => {
      const found = smtp.mails.filter((candidate) => candidate.raw.includes('mobile crash'));
      return found.length === 2 ? found : undefined;
    }, 'the two e-mails (everyone, and the developer alone)');
    expect(mails.map((mail) => mail.to.sort())).toEqual(expect.arrayContaining([everyone(), ['dev@example.com']]));
  });

  it('a removed member gets no more mail', async () => {
    expect((await api('DELETE', `/organizations/${org}/members/${developer.memberId}/`)).status).toBe(204);
    await sendEvent('after the developer left', { tags: { team: 'mobile' } });
    const mail = await eventually(async () => smtp.mails.find((candidate) => candidate.raw.includes('after the developer left')), 'the e-mail');
    expect(mail.to.sort()).toEqual([trapline.defaults.owner.email, 'oncall@example.com'].sort());
    const notSent = await eventually(async () => (await deliveries()).find((delivery) => delivery.ruleName === 'mail the developer' && delivery.status === 'not_sent'), 'the member rule not sent');
    expect(notSent.lastError).toContain('no longer an accepted member');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(smtp.mails.filter((candidate) => candidate.raw.includes('after the developer left'))).toHaveLength(1);
  });

  it('a Team target mails exactly the team’s accepted members; one who leaves the team gets no more', async () => {
    expect((await api('POST', `/organizations/${org}/teams/`, { slug: 'ops' })).status).toBe(201);
    const ada = await join('ada@example.com');
    const bob = await join('bob@example.com');
    const pending = await join('pending@example.com', false);
    for (const member of [ada, bob, pending]) expect((await api('POST', `/organizations/${org}/members/${member.memberId}/teams/ops/`)).status).toBe(201);
    const rule = await api('POST', `/projects/${org}/${project}/rules/`, { name: 'mail the ops team', conditions: [{ id: CONDITION.firstSeen }], filters: [{ id: FILTER.tagged, key: 'team', match: 'eq', value: 'ops' }], actions: [{ id: ACTION.email, targetType: 'Team', targetIdentifier: 'ops' }] });
    expect(rule.status, await rule.clone().text()).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the notifier's rule cache (ALERT_RULES_REFRESH_MS)
    /** A new issue tagged for the team: the default rule mails everyone (the pager too), the team rule the team. */
    const teamMail = async (message: string) => {
      await sendEvent(message, { tags: { team: 'ops' } });
      const found = await eventually(async () => {
        const mails = smtp.mails.filter((candidate) => candidate.raw.includes(message));
        return mails.length === 2 ? mails : undefined;
      }, `the two e-mails of "${message}" (everyone, and the team)`);
      expect(found.filter((mail) => mail.to.includes('oncall@example.com'))).toHaveLength(1);
      return found.find((mail) => !mail.to.includes('oncall@example.com'))!.to.sort();
    };
    expect(await teamMail('ops pager storm')).toEqual(['ada@example.com', 'bob@example.com']);
    expect((await api('DELETE', `/organizations/${org}/members/${bob.memberId}/teams/ops/`)).status).toBe(200);
    expect(await teamMail('ops disk full')).toEqual(['ada@example.com']);
  });

  it('a resolved issue seen again sends the regression to Slack', async () => {
    await sendEvent('cache stampede');
    const issueId = await eventually(async () => {
      const issues = await json<{ id: string; title: string }[]>(await api('GET', `/projects/${org}/${project}/issues/?query=`));
      return issues.find((issue) => issue.title === 'cache stampede')?.id;
    }, 'the issue');
    expect((await api('PUT', `/issues/${issueId}/`, { status: 'resolved' })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sendEvent('cache stampede');
    const [message] = await eventually(async () => (http.on('/slack').length > 0 ? http.on('/slack') : undefined), 'the Slack message');
    const body = JSON.parse(message!.body) as { text: string; attachments: { title: string; title_link: string; fields: { title: string; value: string }[] }[] };
    expect(body.attachments[0]).toMatchObject({ title: 'cache stampede', title_link: expect.stringContaining(`/issues/${issueId}/`) });
    expect(body.attachments[0]!.fields).toContainEqual({ title: 'Level', value: 'error', short: true });
  });

  it('a receiver that fails or hangs is retried, then dead-lettered, and holds up no other', async () => {
    await sendEvent('payment declined', { tags: { team: 'payments' } });
    await eventually(async () => (http.on('/slack-ok').length > 0 ? true : undefined), 'the healthy receiver');
    const dead = await eventually(async () => {
      const failing = (await deliveries()).filter((delivery) => delivery.ruleName === 'failing receivers' && delivery.kind === 'slack');
      return failing.filter((delivery) => delivery.status === 'dead').length === 2 ? failing : undefined;
    }, 'two dead deliveries', 60000);
    expect(dead.filter((delivery) => delivery.status === 'dead').map((delivery) => [delivery.attempts, delivery.lastError]).sort()).toEqual([
      [3, expect.stringContaining('answered 503')],
      [3, expect.stringContaining('did not answer within 1500 ms')],
    ].sort());
    expect(http.on('/slack-down')).toHaveLength(3);
    expect(http.on('/slack-ok')).toHaveLength(1);
    const listed = runCli(trapline.env, ['alerts', 'list', '--status', 'dead']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('answered 503');
  }, 90000);

  it('trapline dlq redrive sends a dead delivery once more', async () => {
    http.answers.set('/slack-down', 200);
    http.answers.set('/slack-hangs', 200);
    const redriven = runCli(trapline.env, ['dlq', 'redrive', '--topic', trapline.topics.alertsDlq]);
    expect(redriven.status, redriven.stderr).toBe(0);
    expect(redriven.stdout).toContain('re-driven 2 alert deliveries');
    await eventually(async () => {
      const failing = (await deliveries()).filter((delivery) => delivery.ruleName === 'failing receivers');
      return failing.every((delivery) => delivery.status === 'sent') ? true : undefined;
    }, 'the re-driven deliveries sent');
    expect(http.on('/slack-down')).toHaveLength(4);
    expect(runCli(trapline.env, ['dlq', 'redrive', '--topic', trapline.topics.alertsDlq]).stdout).toContain('re-driven 0 alert deliveries');
  }, 90000);

  it('a retry due sooner is delivered while one due later, ahead of it in the partition, waits', async () => {
    const now = Date.now();
    const held = (name: string, dueAt: number) => ({
      key: 'held/' + name, name: 'AlertDelivery' as const,
      value: {
        deliveryId: `held-${name}-${now}`, projectId: trapline.defaults.projectId, organizationSlug: org, projectSlug: project, groupId: 1, ruleId: null, ruleName: 'held retries', trigger: 'first_seen', kind: 'slack',
        action: JSON.stringify({ id: ACTION.slack, webhookUrl: `${http.url}/held-${name}` }),
        issue: JSON.stringify({ id: '1', title: `held ${name}`, culprit: '', level: 'error', count: 1, firstSeen: new Date(now).toISOString(), link: `${trapline.publicUrl}/` }),
        event: JSON.stringify({ event_id: '0'.repeat(32), message: '', title: `held ${name}`, level: 'error', platform: 'other', environment: null, release: null, tags: [], timestamp: now / 1000, url: '' }),
        decidedAt: now, attempt: 1, dueAt, lastError: 'answered 503',
      },
    });
    // One partition (one key before the slash): the one due in an hour first, then one due now.
    await trapline.appender.append(trapline.topics.alertsRetry, [held('later', now + 3_600_000), held('sooner', now)]);
    await eventually(async () => (http.on('/held-sooner').length > 0 ? true : undefined), 'the sooner retry delivered');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(http.on('/held-sooner')).toHaveLength(1);
    expect(http.on('/held-later')).toHaveLength(0);
  });

  describe('replay never repeats a side effect (invariant 8)', () => {
    const sent = () => ({ hooks: hookRequests().length, slack: http.requests.length - hookRequests().length, mails: smtp.mails.length });

    const settle = async () => {
      await eventually(async () => ((await deliveries()).every((delivery) => !['pending', 'retrying'].includes(delivery.status)) ? true : undefined), 'deliveries settled', 60000);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    };

    it('a restarted notifier sends nothing again', async () => {
      await settle();
      const before = sent();
      await trapline.services.stop('notifier');
      await trapline.services.start('notifier');
      await sendEvent('after restart');
      await eventually(async () => (hookRequests().length > before.hooks ? true : undefined), 'the new issue alerted');
      await settle();
      expect(sent()).toEqual({ hooks: before.hooks + 1, slack: before.slack, mails: before.mails + 1 });
    }, 120000);

    /** Kills the notifier, resets its group to the earliest offset of every input and starts it again. */
    const killAndReplay = async () => {
      await trapline.services.stop('notifier', 'SIGKILL');
      const admin = createKafka(trapline.config.kafkaBrokers, 'test-reset', createLogger('test', 'error')).admin();
      await admin.connect();
      await eventually(async () => {
        const described = await admin.describeGroups([trapline.config.notifierGroup]);
        return described.groups[0]!.members.length === 0 ? true : undefined;
      }, 'the killed member gone from the group', 60000);
      for (const topic of [trapline.topics.events, trapline.topics.alertsRun, trapline.topics.alertsRetry]) await admin.resetOffsets({ groupId: trapline.config.notifierGroup, topic, earliest: true });
      await admin.disconnect();
      await trapline.services.start('notifier');
    };

    it('a notifier killed mid-work, and its group reset to the earliest offset, send nothing again', async () => {
      await settle();
      const before = sent();
      await killAndReplay();
      await sendEvent('after reset');
      await eventually(async () => (hookRequests().length > before.hooks ? true : undefined), 'the new issue alerted');
      await settle();
      expect(sent()).toEqual({ hooks: before.hooks + 1, slack: before.slack, mails: before.mails + 1 });
    }, 180000);

    it('a replay counts no event twice toward an event-frequency rule', async () => {
      // The issue state read back covers first-seen and regression rules on its own; a frequency
      // count is what the decided positions alone keep right: counted again, the three events
      // below would cross "more than 3 in an hour" during the replay.
      const created = await api('POST', `/projects/${org}/${project}/rules/`, {
        name: 'more than 3 an hour', frequency: 5, conditions: [{ id: CONDITION.eventFrequency, value: 3, interval: '1h' }],
        filters: [{ id: FILTER.tagged, key: 'team', match: 'eq', value: 'frequency' }], actions: [{ id: ACTION.slack, webhookUrl: `${http.url}/slack-frequency` }],
      });
      expect(created.status).toBe(201);
      await eventually(async () => ((await rules()).some((rule) => rule.name === 'more than 3 an hour') ? true : undefined), 'the rule projected');
      await new Promise((resolve) => setTimeout(resolve, 500)); // the notifier's rule cache (ALERT_RULES_REFRESH_MS)
      const burst = () => sendEvent('queue backlog', { tags: { team: 'frequency' } });
      for (let sent = 0; sent < 3; sent += 1) await burst();
      await settle();
      expect(http.on('/slack-frequency')).toHaveLength(0);

      await killAndReplay();
      // Events of one project share a partition: once the notifier has alerted a later new issue,
      // it has decided the replayed burst before it.
      const hooks = hookRequests().length;
      await sendEvent('frequency barrier');
      await eventually(async () => (hookRequests().length > hooks ? true : undefined), 'the barrier issue alerted', 60000);
      await settle();
      expect(http.on('/slack-frequency'), 'a frequency alert during the replay').toHaveLength(0);

      await burst(); // the fourth within the hour
      await eventually(async () => (http.on('/slack-frequency').length > 0 ? true : undefined), 'the frequency alert');
      await settle();
      expect(http.on('/slack-frequency')).toHaveLength(1);
    }, 180000);

    it('a rebuild sends nothing again', async () => {
      await settle();
      const before = sent();
      const rebuilt = runCli(trapline.env, ['rebuild']);
      expect(rebuilt.status, rebuilt.stderr).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(sent()).toEqual(before);
    }, 180000);
  });
});
