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
  /** Resolved in this release (v2): an event of it or of a newer release regresses. */
  inRelease?: string | null;
  /** Resolved in the release after this one (v2): an event of a newer release regresses. */
  inNextRelease?: string | null;
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

/** A key's own rate limit: `count` events per `window` seconds (Sentry's rateLimit). */
export interface KeyRateLimit {
  count: number;
  window: number;
}

export interface ProjectKeyUpserted {
  publicKey: string;
  secretKey: string;
  projectId: number;
  label: string;
  active: boolean;
  createdAt: number;
  /** Absent in records written before v2: none. */
  rateLimit?: KeyRateLimit | null;
}

export interface TeamUpserted {
  teamId: number;
  organizationSlug: string;
  slug: string;
  name: string;
  actor: string;
  createdAt: number;
}

/** A member on a team (Sentry's OrganizationMemberTeam). Keyed `team/<teamId>/member/<memberId>`; a null value: left the team. */
export interface TeamMemberUpserted {
  teamId: number;
  memberId: string;
  organizationSlug: string;
  /** Sentry's team role; null: the minimum the organization role gives. */
  teamRole: string | null;
  actor: string;
  addedAt: number;
}

/** Every team a project belongs to. */
export interface ProjectTeamsChanged {
  projectId: number;
  teamIds: number[];
  actor: string;
  changedAt: number;
}

export interface ApiTokenUpserted {
  tokenHash: string;
  organizationSlug: string;
  scopes: string[];
  label: string;
  active: boolean;
  createdAt: number;
}

export interface ReleaseCommit {
  id: string;
  repository: string | null;
  message: string | null;
  authorName: string | null;
  authorEmail: string | null;
  timestamp: number | null;
}

/** The whole state of a release (Sentry's Release), keyed `release/<org>/<version>`. */
export interface ReleaseUpserted {
  organizationSlug: string;
  version: string;
  projectIds: number[];
  ref: string | null;
  url: string | null;
  dateCreated: number;
  dateStarted: number | null;
  dateReleased: number | null;
  commits: ReleaseCommit[];
  deleted: boolean;
  actor: string;
  changedAt: number;
}

export interface DeployCreated {
  organizationSlug: string;
  version: string;
  deployId: string;
  environment: string;
  name: string | null;
  url: string | null;
  dateStarted: number | null;
  dateFinished: number;
  projectIds: number[];
  actor: string;
}

export interface RepositoryUpserted {
  organizationSlug: string;
  name: string;
  url: string | null;
  createdAt: number;
}

export interface ArtifactFile {
  url: string;
  type: string;
  debugId: string | null;
  sourceMap: string | null;
  blob: string;
  size: number;
}

/** An artifact bundle assembled for a project (on the events topic, in the project's order). */
export interface ArtifactBundleAssembled {
  projectId: number;
  organizationSlug: string;
  bundleId: string;
  release: string | null;
  dist: string | null;
  files: ArtifactFile[];
  actor: string;
  assembledAt: number;
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

/** A person who signs in; the only record carrying a password hash (argon2id). Keyed `user/<userId>`. */
export interface UserUpserted {
  userId: string;
  email: string;
  name: string;
  passwordHash: string | null;
  createdAt: number;
}

/** A membership with Sentry's role, or a pending invitation (userId null). Keyed `member/<memberId>`. */
export interface MemberUpserted {
  memberId: string;
  organizationSlug: string;
  userId: string | null;
  email: string;
  role: string;
  inviteTokenHash: string | null;
  inviteExpiresAt: number | null;
  invitedBy: string | null;
  createdAt: number;
}

/** A user auth token (hash only). Keyed `user-token/<tokenId>`. */
export interface UserTokenUpserted {
  tokenId: string;
  tokenHash: string;
  userId: string;
  scopes: string[];
  label: string;
  active: boolean;
  createdAt: number;
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
  TeamUpserted: TeamUpserted;
  TeamMemberUpserted: TeamMemberUpserted;
  ProjectTeamsChanged: ProjectTeamsChanged;
  ReleaseUpserted: ReleaseUpserted;
  DeployCreated: DeployCreated;
  RepositoryUpserted: RepositoryUpserted;
  ArtifactBundleAssembled: ArtifactBundleAssembled;
  AlertRuleUpserted: AlertRuleUpserted;
  ServiceHookUpserted: ServiceHookUpserted;
  ProjectAlertEmailsChanged: ProjectAlertEmailsChanged;
  AlertDelivery: AlertDelivery;
  AlertDeliveryChanged: AlertDeliveryChanged;
  NotifierIssueState: NotifierIssueState;
  NotifierPosition: NotifierPosition;
  UserUpserted: UserUpserted;
  MemberUpserted: MemberUpserted;
  UserTokenUpserted: UserTokenUpserted;
}

export type RecordName = keyof RecordTypes;

/** A decoded record as a discriminated union, so consumers `switch (record.name)`. */
export type DomainRecord = { [N in RecordName]: { name: N; version: number; value: RecordTypes[N] } }[RecordName];
