import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AlertDelivery } from '@trapline/schemas';
import { emailMessage, issueLink, serviceHookRequest, slackMessage } from './messages.ts';

const link = issueLink('http://trapline.test/', 'acme', 42);
const delivery: AlertDelivery = {
  deliveryId: '0-7-1-0', projectId: 1, organizationSlug: 'acme', projectSlug: 'web', groupId: 42, ruleId: '1', ruleName: 'new issues', trigger: 'first_seen', kind: 'webhook',
  action: '{}', decidedAt: 0, attempt: 0, dueAt: 0, lastError: null,
  issue: JSON.stringify({ id: '42', title: 'TypeError: <b>x</b> is undefined', culprit: 'load(app/user.js)', level: 'error', count: 3, firstSeen: '2026-01-01T00:00:00.000Z', link }),
  event: JSON.stringify({ event_id: 'e'.repeat(32), message: '', title: 'TypeError', level: 'error', platform: 'node', environment: 'production', release: null, tags: [], timestamp: 1, url: `${link}events/${'e'.repeat(32)}/` }),
};

describe('alert messages', () => {
  it('link to the issue in the web UI', () => {
    expect(link).toBe('http://trapline.test/organizations/acme/issues/42/');
  });

  it("sign a service hook's body with the hook's secret, as Sentry does", () => {
    const { body, headers } = serviceHookRequest(delivery, { hookId: 'h'.repeat(32), secret: 's3cret' }, 1_700_000_000_000);
    expect(headers['X-ServiceHook-Signature']).toBe(createHmac('sha256', 's3cret').update(body).digest('hex'));
    expect(headers).toMatchObject({ 'X-ServiceHook-GUID': 'h'.repeat(32), 'X-ServiceHook-Timestamp': '1700000000', 'X-Trapline-Delivery': '0-7-1-0' });
    expect(JSON.parse(body)).toMatchObject({ project: { slug: 'web' }, group: { id: '42', permalink: link, count: '3' }, event: { event_id: 'e'.repeat(32), groupID: '42' } });
  });

  it("give Slack its title, link, culprit, level and count", () => {
    const message = JSON.parse(slackMessage(delivery)) as { attachments: { title: string; title_link: string; text: string; fields: { title: string; value: string }[] }[] };
    expect(message.attachments[0]).toMatchObject({ title: 'TypeError: <b>x</b> is undefined', title_link: link, text: 'load(app/user.js)' });
    expect(message.attachments[0]!.fields.map((field) => [field.title, field.value])).toEqual([['Level', 'error'], ['Events', '3'], ['Rule', 'new issues']]);
  });

  it('send e-mail as plain text and HTML, with what the issue says escaped', () => {
    const mail = emailMessage(delivery);
    expect(mail.subject).toBe('[web] ERROR: TypeError: <b>x</b> is undefined');
    expect(mail.text).toContain(link);
    expect(mail.html).toContain('TypeError: &#60;b&#62;x&#60;/b&#62; is undefined');
    expect(mail.html).not.toContain('<b>x</b>');
  });
});
