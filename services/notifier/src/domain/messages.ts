import { createHmac } from 'node:crypto';
import type { AlertDelivery, NormalizedEvent } from '@trapline/schemas';

// What a delivery says, in each receiver's format: Sentry's service hook payload (signed with the
// hook's secret), a Slack incoming-webhook message, an e-mail. Pure; every message links to the
// issue in the web UI.

export interface IssueSummary {
  id: string;
  title: string;
  culprit: string;
  level: string;
  count: number;
  firstSeen: string;
  link: string;
}

export interface EventSummary {
  event_id: string;
  message: string;
  title: string;
  level: string;
  platform: string;
  environment: string | null;
  release: string | null;
  tags: [string, string][];
  timestamp: number;
  url: string;
}

/** The issue's page in the web UI: the one link every message carries. */
export const issueLink = (publicUrl: string, organizationSlug: string, groupId: number) => `${publicUrl.replace(/\/$/, '')}/organizations/${organizationSlug}/issues/${groupId}/`;

export function summarize(event: NormalizedEvent, facts: { title: string; culprit: string }, issue: { groupId: number; count: number; firstSeen: number; link: string }): { issue: IssueSummary; event: EventSummary } {
  return {
    issue: { id: String(issue.groupId), title: facts.title, culprit: facts.culprit, level: event.level, count: issue.count, firstSeen: new Date(issue.firstSeen).toISOString(), link: issue.link },
    event: {
      event_id: event.event_id, message: event.message ?? '', title: facts.title, level: event.level, platform: event.platform, environment: event.environment ?? null,
      release: event.release ?? null, tags: event.tags.slice(0, 50), timestamp: event.timestamp, url: `${issue.link}events/${event.event_id}/`,
    },
  };
}

const parsed = (delivery: AlertDelivery) => ({ issue: JSON.parse(delivery.issue) as IssueSummary, event: JSON.parse(delivery.event) as EventSummary });

const TRIGGER_TEXT: Record<string, string> = { first_seen: 'A new issue', regression: 'A regression', frequency: 'An issue above its event frequency', event: 'A new event' };

/** Sentry's service hook body (payload v0: project, group, event) and its headers, the signature an HMAC-SHA256 of the body with the hook's secret. */
export function serviceHookRequest(delivery: AlertDelivery, hook: { hookId: string; secret: string }, now: number): { body: string; headers: Record<string, string> } {
  const { issue, event } = parsed(delivery);
  const body = JSON.stringify({
    project: { slug: delivery.projectSlug, name: delivery.projectSlug },
    group: { id: issue.id, title: issue.title, culprit: issue.culprit, level: issue.level, count: String(issue.count), firstSeen: issue.firstSeen, permalink: issue.link, url: issue.link, project: { slug: delivery.projectSlug } },
    event: { ...event, id: event.event_id, groupID: issue.id, culprit: issue.culprit },
    triggered_rule: delivery.ruleId === null ? null : delivery.ruleName,
  });
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'X-ServiceHook-Timestamp': String(Math.floor(now / 1000)),
      'X-ServiceHook-GUID': hook.hookId,
      'X-ServiceHook-Signature': createHmac('sha256', hook.secret).update(body).digest('hex'),
      'X-Trapline-Delivery': delivery.deliveryId,
    },
  };
}

const SLACK_COLORS: Record<string, string> = { fatal: '#d20f2a', error: '#e03e2f', warning: '#f2b713', info: '#2788ce', debug: '#9e9e9e' };

/** Slack's incoming-webhook message: title (linked), culprit, level, count. */
export function slackMessage(delivery: AlertDelivery): string {
  const { issue } = parsed(delivery);
  return JSON.stringify({
    text: `${TRIGGER_TEXT[delivery.trigger] ?? 'An alert'} in ${delivery.projectSlug}: <${issue.link}|${issue.title}>`,
    attachments: [{
      title: issue.title,
      title_link: issue.link,
      text: issue.culprit,
      color: SLACK_COLORS[issue.level] ?? SLACK_COLORS.error,
      fields: [{ title: 'Level', value: issue.level, short: true }, { title: 'Events', value: String(issue.count), short: true }, { title: 'Rule', value: delivery.ruleName, short: true }],
      footer: `${delivery.organizationSlug}/${delivery.projectSlug}`,
    }],
  });
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export function emailMessage(delivery: AlertDelivery): { subject: string; text: string; html: string } {
  const { issue, event } = parsed(delivery);
  const headline = `${TRIGGER_TEXT[delivery.trigger] ?? 'An alert'} in ${delivery.organizationSlug}/${delivery.projectSlug}`;
  const lines = [headline, '', issue.title, issue.culprit, '', `Level: ${issue.level}`, `Events: ${issue.count}`, `Environment: ${event.environment ?? '-'}`, `Rule: ${delivery.ruleName}`, '', issue.link];
  return {
    subject: `[${delivery.projectSlug}] ${issue.level.toUpperCase()}: ${issue.title}`.slice(0, 250),
    text: lines.join('\n'),
    html: `<p>${escapeHtml(headline)}</p><h2><a href="${escapeHtml(issue.link)}">${escapeHtml(issue.title)}</a></h2><p>${escapeHtml(issue.culprit)}</p>`
      + `<table><tr><td>Level</td><td>${escapeHtml(issue.level)}</td></tr><tr><td>Events</td><td>${issue.count}</td></tr>`
      + `<tr><td>Environment</td><td>${escapeHtml(event.environment ?? '-')}</td></tr><tr><td>Rule</td><td>${escapeHtml(delivery.ruleName)}</td></tr></table>`
      + `<p><a href="${escapeHtml(issue.link)}">Open the issue</a></p>`,
  };
}
