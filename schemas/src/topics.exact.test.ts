import { describe, expect, it } from 'vitest';
import { PROJECTED_TOPICS, TOPIC_SPECS, topicNames, type TopicId } from './topics.ts';

// The topics as operators meet them (names, partitions, retention, compaction: what the stack
// script and the services create) and the records each carries: a consumer dead-letters any
// record its topic does not declare.

const DAY = '86400000';
const WEEK = '604800000';
const FOREVER = { 'cleanup.policy': 'delete', 'retention.ms': '-1' };
const KEPT_A_WEEK = { 'cleanup.policy': 'delete', 'retention.ms': WEEK };

const EXPECTED: Record<TopicId, { name: string; partitions: number; configs: Record<string, string>; records: string[] }> = {
  events: {
    name: 'trapline.events',
    partitions: 6,
    configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000', 'delete.retention.ms': DAY },
    records: ['EventReceived', 'GroupStatusChanged', 'GroupDeletionRequested', 'EventDeletionRequested', 'RetentionRequested', 'EventsPurged', 'DeletionFailed', 'ArtifactBundleAssembled', 'AlertDeliveryChanged'],
  },
  admin: {
    name: 'trapline.admin',
    partitions: 1,
    configs: { 'cleanup.policy': 'compact' },
    records: ['OrganizationUpserted', 'ProjectUpserted', 'ProjectRetentionChanged', 'ProjectAllowedOriginsChanged', 'ProjectKeyUpserted', 'ApiTokenUpserted', 'TeamUpserted', 'ProjectTeamsChanged', 'ReleaseUpserted', 'DeployCreated', 'RepositoryUpserted', 'AlertRuleUpserted', 'ServiceHookUpserted', 'ProjectAlertEmailsChanged', 'UserUpserted', 'MemberUpserted', 'UserTokenUpserted', 'TeamMemberUpserted'],
  },
  deletionsDelay: { name: 'trapline.deletions.delay', partitions: 3, configs: KEPT_A_WEEK, records: ['DeletionStep'] },
  deletionsRun: { name: 'trapline.deletions.run', partitions: 3, configs: KEPT_A_WEEK, records: ['DeletionStep'] },
  deletionsRetry: { name: 'trapline.deletions.retry', partitions: 3, configs: KEPT_A_WEEK, records: ['DeletionStep'] },
  deletionsDlq: { name: 'trapline.deletions.dlq', partitions: 1, configs: FOREVER, records: ['DeletionStep'] },
  alertsRun: { name: 'trapline.alerts.run', partitions: 3, configs: KEPT_A_WEEK, records: ['AlertDelivery'] },
  alertsRetry: { name: 'trapline.alerts.retry', partitions: 3, configs: KEPT_A_WEEK, records: ['AlertDelivery'] },
  alertsDlq: { name: 'trapline.alerts.dlq', partitions: 1, configs: FOREVER, records: ['AlertDelivery'] },
  notifierState: { name: 'trapline.notifier.state', partitions: 1, configs: { 'cleanup.policy': 'compact' }, records: ['NotifierIssueState', 'NotifierPosition'] },
  eventsDlq: { name: 'trapline.events.dlq', partitions: 1, configs: FOREVER, records: [] },
  audit: { name: 'trapline.audit', partitions: 1, configs: FOREVER, records: ['AuditEntry'] },
};

describe('every topic', () => {
  it('has the name, partitions, retention and records operators and consumers rely on', () => {
    const names = topicNames('trapline');
    const declared = Object.fromEntries(
      Object.entries(TOPIC_SPECS).map(([id, spec]) => [id, { name: names[id as TopicId], partitions: spec.partitions, configs: spec.configs, records: [...spec.records] }]),
    );
    expect(declared).toEqual(EXPECTED);
  });

  it('takes any prefix, and the projector replays admin, events and audit', () => {
    expect(topicNames('run-42')).toMatchObject({ events: 'run-42.events', deletionsDlq: 'run-42.deletions.dlq' });
    expect(PROJECTED_TOPICS).toEqual(['admin', 'events', 'audit']);
  });
});
