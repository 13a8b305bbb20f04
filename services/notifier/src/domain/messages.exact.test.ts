import { describe, expect, it } from 'vitest';
import type { AlertDelivery, NormalizedEvent } from '@trapline/schemas';
import { emailMessage, issueLink, serviceHookRequest, slackMessage, summarize } from './messages.ts';

// Each receiver's message exactly as it goes out: a service hook's body (what a receiver parses),
// Slack's message, the e-mail's subject, text and HTML.

const link = issueLink('https://errors.example.com', 'acme', 42);
const event: NormalizedEvent = {
  event_id: 'e'.repeat(32),
  timestamp: 1_767_225_600,
  received: 1_767_225_601,
  level: 'warning',
  platform: 'node',
  environment: 'production',
  release: 'web@1.0',
  message: 'disk & "quota"',
  tags: Array.from({ length: 55 }, (_, n) => [`k${n}`, 'v'] as [string, string]),
};
const { issue, event: summary } = summarize(event, { title: 'Disk <full>', culprit: "check('/var')" }, { groupId: 42, count: 3, firstSeen: Date.parse('2026-01-01T00:00:00.000Z'), link });
const delivery = (overrides: Partial<AlertDelivery> = {}): AlertDelivery => ({
  deliveryId: '0-7-1-0', projectId: 1, organizationSlug: 'acme', projectSlug: 'web', groupId: 42, ruleId: '1', ruleName: 'New issues', trigger: 'first_seen', kind: 'webhook',
  action: '{}', decidedAt: 0, attempt: 0, dueAt: 0, lastError: null, issue: JSON.stringify(issue), event: JSON.stringify(summary), ...overrides,
});

describe('what a delivery says', () => {
  it('links to the issue, with or without a trailing slash on the public URL', () => {
    expect(link).toBe('https://errors.example.com/organizations/acme/issues/42/');
    expect(issueLink('https://errors.example.com/', 'acme', 42)).toBe(link);
  });

  it('summarizes the issue and the event, with at most 50 tags', () => {
    expect(issue).toEqual({ id: '42', title: 'Disk <full>', culprit: "check('/var')", level: 'warning', count: 3, firstSeen: '2026-01-01T00:00:00.000Z', link });
    expect(summary).toEqual({
      event_id: 'e'.repeat(32), message: 'disk & "quota"', title: 'Disk <full>', level: 'warning', platform: 'node', environment: 'production', release: 'web@1.0',
      tags: event.tags.slice(0, 50), timestamp: 1_767_225_600, url: `${link}events/${'e'.repeat(32)}/`,
    });
    expect(summary.tags).toHaveLength(50);
    const bare = summarize({ ...event, message: undefined, environment: undefined, release: undefined }, { title: 't', culprit: '' }, { groupId: 1, count: 1, firstSeen: 0, link }).event;
    expect([bare.message, bare.environment, bare.release]).toEqual(['', null, null]);
  });
});

describe('a service hook', () => {
  it('posts Sentry’s payload: project, group, event and the rule that fired', () => {
    const { body, headers } = serviceHookRequest(delivery(), { hookId: 'h1', secret: 's3cret' }, 1_700_000_000_999);
    expect(JSON.parse(body)).toEqual({
      project: { slug: 'web', name: 'web' },
      group: { id: '42', title: 'Disk <full>', culprit: "check('/var')", level: 'warning', count: '3', firstSeen: '2026-01-01T00:00:00.000Z', permalink: link, url: link, project: { slug: 'web' } },
      event: { ...summary, id: 'e'.repeat(32), groupID: '42', culprit: "check('/var')" },
      triggered_rule: 'New issues',
    });
    expect(headers).toEqual({ 'Content-Type': 'application/json', 'X-ServiceHook-Timestamp': '1700000000', 'X-ServiceHook-GUID': 'h1', 'X-ServiceHook-Signature': expect.stringMatching(/^[0-9a-f]{64}$/), 'X-Trapline-Delivery': '0-7-1-0' });
  });

  it('names no rule when none fired (a delivery the notifier made for an event hook)', () => {
    expect(JSON.parse(serviceHookRequest(delivery({ ruleId: null }), { hookId: 'h1', secret: 's' }, 0).body).triggered_rule).toBeNull();
  });
});

describe('Slack', () => {
  it.each([
    ['first_seen', 'warning', 'A new issue', '#f2b713'],
    ['regression', 'fatal', 'A regression', '#d20f2a'],
    ['frequency', 'info', 'An issue above its event frequency', '#2788ce'],
    ['event', 'debug', 'A new event', '#9e9e9e'],
    ['other', 'error', 'An alert', '#e03e2f'],
    ['first_seen', 'unknown', 'A new issue', '#e03e2f'],
  ])('says %s of a %s issue as “%s”, coloured %s', (trigger, level, text, color) => {
    const message = slackMessage(delivery({ trigger, issue: JSON.stringify({ ...issue, level }) }));
    expect(JSON.parse(message)).toEqual({
      text: `${text} in web: <${link}|Disk <full>>`,
      attachments: [{
        title: 'Disk <full>',
        title_link: link,
        text: "check('/var')",
        color,
        fields: [{ title: 'Level', value: level, short: true }, { title: 'Events', value: '3', short: true }, { title: 'Rule', value: 'New issues', short: true }],
        footer: 'acme/web',
      }],
    });
  });
});

describe('e-mail', () => {
  it('says the same as text and as HTML, with every character of the issue escaped', () => {
    expect(emailMessage(delivery({ trigger: 'regression' }))).toEqual({
      subject: '[web] WARNING: Disk <full>',
      text: ['A regression in acme/web', '', 'Disk <full>', "check('/var')", '', 'Level: warning', 'Events: 3', 'Environment: production', 'Rule: New issues', '', link].join('\n'),
      html:
        '<p>A regression in acme/web</p>'
        + `<h2><a href="${link}">Disk &#60;full&#62;</a></h2><p>check(&#39;/var&#39;)</p>`
        + '<table><tr><td>Level</td><td>warning</td></tr><tr><td>Events</td><td>3</td></tr>'
        + '<tr><td>Environment</td><td>production</td></tr><tr><td>Rule</td><td>New issues</td></tr></table>'
        + `<p><a href="${link}">Open the issue</a></p>`,
    });
  });

  it('escapes & and " too, says - without an environment, and holds the subject to 250 characters', () => {
    const mail = emailMessage(delivery({ trigger: 'nope', ruleName: 'a & "b"', issue: JSON.stringify({ ...issue, title: 't'.repeat(300) }), event: JSON.stringify({ ...summary, environment: null }) }));
    expect(mail.subject).toBe(`[web] WARNING: ${'t'.repeat(300)}`.slice(0, 250));
    expect(mail.subject).toHaveLength(250);
    expect(mail.text.split('\n')[0]).toBe('An alert in acme/web');
    expect(mail.text).toContain('\nEnvironment: -\n');
    expect(mail.html).toContain('<tr><td>Environment</td><td>-</td></tr><tr><td>Rule</td><td>a &#38; &#34;b&#34;</td></tr>');
  });
});
