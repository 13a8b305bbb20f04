// TypeScript shapes of the Avro records in ../avro. Avro `long` fields holding ids and epoch
// milliseconds stay below 2^53, so they map to `number`; the codec checks every value against its
// schema on encode, so a drift between these types and the .avsc files fails loudly.

export interface EventReceived {
  projectId: number;
  eventId: string;
  receivedAt: number;
  keyId: string;
  payload: string;
}

export interface GroupDeletionRequested {
  projectId: number;
  groupId: number;
  hashes: string[];
  transactionId: string;
  actor: string;
  requestedAt: number;
}

export interface EventDeletionRequested {
  projectId: number;
  eventId: string;
  transactionId: string;
  actor: string;
  requestedAt: number;
}

export type GroupStatus = 'unresolved' | 'resolved' | 'ignored';

export interface GroupStatusChanged {
  projectId: number;
  groupId: number;
  status: GroupStatus;
  actor: string;
  changedAt: number;
}

export type DeletionKind = 'group' | 'event' | 'retention' | 'expiry';

/** A deletion's progress on the deleter's topics (delay, run, retry, dlq). */
export interface DeletionStep {
  transactionId: string;
  kind: DeletionKind;
  projectId: number;
  groupId: number | null;
  eventId: string | null;
  cutoff: number | null;
  actor: string;
  requestedAt: number;
  dueAt: number;
  requestPartition: number;
  requestOffset: string;
  attempt: number;
  cursor: string | null;
  chunks: number;
  eventsRemoved: number;
  rowsRemoved: number;
  lastError: string | null;
  issues: number;
}

export interface RetentionRequested {
  /** 0 when allProjects. */
  projectId: number;
  transactionId: string;
  cutoff: number;
  actor: string;
  requestedAt: number;
  /** Expiry: every project's events in the time partitions wholly before the cutoff. */
  allProjects: boolean;
}

export interface ProjectRetentionChanged {
  projectId: number;
  retentionDays: number | null;
  actor: string;
  changedAt: number;
}

/** Sentry's `allowedDomains` of a project; null: the default `["*"]`. */
export interface ProjectAllowedOriginsChanged {
  projectId: number;
  allowedOrigins: string[] | null;
  actor: string;
  changedAt: number;
}

/** One purged chunk, applied by the projector (the only writer of read models). */
export interface EventsPurged {
  projectId: number;
  transactionId: string;
  groupId: number | null;
  eventIds: string[];
  chunk: number;
  final: boolean;
  eventsRemoved: number;
  rowsRemoved: number;
  purgedAt: number;
  /** Expiry: the chunk only erases log records; the final one drops the partitions before this (epoch ms). */
  expiredBefore: number | null;
}

export interface DeletionFailed {
  projectId: number;
  transactionId: string;
  attempt: number;
  reason: string;
  dead: boolean;
  failedAt: number;
}

export interface AuditEntry {
  id: string;
  organizationSlug: string;
  projectId: number | null;
  event: string;
  actor: string;
  transactionId: string | null;
  targetObject: string | null;
  data: string;
  createdAt: number;
}

export interface OrganizationUpserted {
  slug: string;
  name: string;
  createdAt: number;
}

export interface ProjectUpserted {
  projectId: number;
  organizationSlug: string;
  slug: string;
  name: string;
  platform: string | null;
  createdAt: number;
}

export interface ProjectKeyUpserted {
  publicKey: string;
  secretKey: string;
  projectId: number;
  label: string;
  active: boolean;
  createdAt: number;
}

export interface ApiTokenUpserted {
  tokenHash: string;
  organizationSlug: string;
  scopes: string[];
  label: string;
  active: boolean;
  createdAt: number;
}

/** An issue alert rule in Sentry's shape; conditions, filters and actions as JSON (see alert-rules.ts). */
export interface AlertRuleUpserted {
  projectId: number;
  ruleId: string;
  name: string;
  actionMatch: string;
  filterMatch: string;
  frequency: number;
  environment: string | null;
  conditions: string;
  filters: string;
  actions: string;
  status: string;
  deleted: boolean;
  actor: string;
  createdAt: number;
  changedAt: number;
}

export interface ServiceHookUpserted {
  projectId: number;
  hookId: string;
  url: string;
  events: string[];
  secret: string;
  status: string;
  deleted: boolean;
  actor: string;
  createdAt: number;
  changedAt: number;
}

export interface ProjectAlertEmailsChanged {
  projectId: number;
  emails: string[];
  actor: string;
  changedAt: number;
}

export interface AlertDelivery {
  deliveryId: string;
  projectId: number;
  organizationSlug: string;
  projectSlug: string;
  groupId: number;
  ruleId: string | null;
  ruleName: string;
  trigger: string;
  kind: string;
  action: string;
  issue: string;
  event: string;
  decidedAt: number;
  attempt: number;
  dueAt: number;
  lastError: string | null;
}

export interface AlertDeliveryChanged {
  deliveryId: string;
  projectId: number;
  groupId: number;
  ruleId: string | null;
  ruleName: string;
  trigger: string;
  kind: string;
  target: string;
  status: string;
  attempts: number;
  lastError: string | null;
  decidedAt: number;
  changedAt: number;
}

export interface Bucket {
  start: number;
  count: number;
}

export interface NotifierIssueState {
  projectId: number;
  hash: string;
  generation: number;
  groupId: number | null;
  status: string;
  deletedAt: number | null;
  timesSeen: number;
  firstSeen: number;
  minutes: Bucket[];
  hours: Bucket[];
  lastFired: Record<string, number>;
}

export interface NotifierPosition {
  topic: string;
  partition: number;
  nextOffset: string;
}

/** Every record name with its value type: the codec's vocabulary. */
export interface RecordTypes {
  EventReceived: EventReceived;
  GroupDeletionRequested: GroupDeletionRequested;
  EventDeletionRequested: EventDeletionRequested;
  GroupStatusChanged: GroupStatusChanged;
  RetentionRequested: RetentionRequested;
  EventsPurged: EventsPurged;
  DeletionFailed: DeletionFailed;
  DeletionStep: DeletionStep;
  AuditEntry: AuditEntry;
  OrganizationUpserted: OrganizationUpserted;
  ProjectUpserted: ProjectUpserted;
  ProjectRetentionChanged: ProjectRetentionChanged;
  ProjectAllowedOriginsChanged: ProjectAllowedOriginsChanged;
  ProjectKeyUpserted: ProjectKeyUpserted;
  ApiTokenUpserted: ApiTokenUpserted;
  AlertRuleUpserted: AlertRuleUpserted;
  ServiceHookUpserted: ServiceHookUpserted;
  ProjectAlertEmailsChanged: ProjectAlertEmailsChanged;
  AlertDelivery: AlertDelivery;
  AlertDeliveryChanged: AlertDeliveryChanged;
  NotifierIssueState: NotifierIssueState;
  NotifierPosition: NotifierPosition;
}

export type RecordName = keyof RecordTypes;

/** A decoded record as a discriminated union, so consumers `switch (record.name)`. */
export type DomainRecord = { [N in RecordName]: { name: N; version: number; value: RecordTypes[N] } }[RecordName];
