// The one declaration of every topic: names (a public interface for operators), partitions and
// configs, and the records each carries. The stack script and the services create topics from this
// list and nothing else.

import type { RecordName } from './records.ts';

export interface TopicSpec {
  /** Suffix after the prefix, e.g. `events` in `trapline.events`. */
  suffix: string;
  partitions: number;
  configs: Record<string, string>;
  /** The records it carries; a consumer dead-letters any other (dead-letter topics carry anything). */
  records: readonly RecordName[];
  /** What operators read in the README. */
  purpose: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const TOPIC_SPECS = {
  events: {
    suffix: 'events',
    partitions: 6,
    records: ['EventReceived', 'GroupStatusChanged', 'GroupDeletionRequested', 'EventDeletionRequested', 'RetentionRequested', 'EventsPurged', 'DeletionFailed',
      'ArtifactBundleAssembled', 'AlertDeliveryChanged'],
    configs: {
      // Compacted so a null-value record keyed `project/event` erases one event from the log.
      'cleanup.policy': 'compact',
      'min.compaction.lag.ms': String(60 * 1000),
      'delete.retention.ms': String(DAY_MS),
    },
    purpose: 'Domain log: EventReceived, deletion requests, status changes. Partitioned by project.',
  },
  admin: {
    suffix: 'admin',
    partitions: 1,
    records: ['OrganizationUpserted', 'ProjectUpserted', 'ProjectRetentionChanged', 'ProjectAllowedOriginsChanged', 'ProjectKeyUpserted', 'ApiTokenUpserted', 'TeamUpserted', 'ProjectTeamsChanged',
      'ReleaseUpserted', 'DeployCreated', 'RepositoryUpserted',
      'AlertRuleUpserted', 'ServiceHookUpserted', 'ProjectAlertEmailsChanged',
      'UserUpserted', 'MemberUpserted', 'UserTokenUpserted', 'TeamMemberUpserted'],
    configs: { 'cleanup.policy': 'compact' },
    purpose: 'Organizations, projects and their settings, DSN keys, API token hashes, keyed by entity; users (argon2id hash), members and invitations, team memberships, user token hashes.',
  },
  deletionsDelay: {
    suffix: 'deletions.delay',
    partitions: 3,
    records: ['DeletionStep'],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) },
    purpose: 'Deletion requests held by the deleter until their deletion delay has passed.',
  },
  deletionsRun: {
    suffix: 'deletions.run',
    partitions: 3,
    records: ['DeletionStep'],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) },
    purpose: 'Deletion steps ready to run now: a request whose delay has passed, or the next chunk of a running deletion.',
  },
  deletionsRetry: {
    suffix: 'deletions.retry',
    partitions: 3,
    records: ['DeletionStep'],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) },
    purpose: 'Failed deletion steps, with attempt count and the time they are due again.',
  },
  deletionsDlq: {
    suffix: 'deletions.dlq',
    partitions: 1,
    records: ['DeletionStep'],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': '-1' },
    purpose: 'Deletion steps that failed every attempt, with their reason; re-driven by an operator.',
  },
  alertsRun: {
    suffix: 'alerts.run',
    partitions: 3,
    records: ['AlertDelivery'],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) },
    purpose: 'Alert deliveries to send now: decided by the notifier, or due again after a failed attempt.',
  },
  alertsRetry: {
    suffix: 'alerts.retry',
    partitions: 3,
    records: ['AlertDelivery'],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) },
    purpose: 'Alert deliveries whose receiver failed, with attempt count and the time they are due again.',
  },
  alertsDlq: {
    suffix: 'alerts.dlq',
    partitions: 1,
    records: ['AlertDelivery'],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': '-1' },
    purpose: 'Alert deliveries that failed every attempt, with their last error; re-driven by an operator.',
  },
  notifierState: {
    suffix: 'notifier.state',
    partitions: 1,
    records: ['NotifierIssueState', 'NotifierPosition'],
    configs: { 'cleanup.policy': 'compact' },
    purpose: "The notifier's changelog: per grouping hash what it knows of the issue, and per events partition the next offset to decide.",
  },
  eventsDlq: {
    suffix: 'events.dlq',
    partitions: 1,
    records: [],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': '-1' },
    purpose: 'Records of the events and admin topics that could not be decoded or applied, with their reason.',
  },
  audit: {
    suffix: 'audit',
    partitions: 1,
    records: ['AuditEntry'],
    configs: { 'cleanup.policy': 'delete', 'retention.ms': '-1' },
    purpose: 'Audit records: never compacted, never deleted by the system.',
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicId = keyof typeof TOPIC_SPECS;

export type TopicNames = Record<TopicId, string>;

/** Full topic names for a prefix (`trapline` in production; a unique one per test run). */
export function topicNames(prefix: string): TopicNames {
  const names = {} as TopicNames;
  for (const [id, spec] of Object.entries(TOPIC_SPECS)) names[id as TopicId] = `${prefix}.${spec.suffix}`;
  return names;
}

/** The topics the projector builds read models from (and a rebuild replays). */
export const PROJECTED_TOPICS = ['admin', 'events', 'audit'] as const satisfies readonly TopicId[];
