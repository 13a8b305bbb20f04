import { z } from 'zod';

// Response schemas of the routes, in Sentry's shapes: fastify serializes every answer through
// them (a field of the wrong type is a 500, never a wrong answer), and they describe the answers in
// the OpenAPI document Trapline serves. The serializers in serialize.ts and audit.ts return their
// input types. Objects are loose: a field a serializer adds passes through (documented here once
// it has a shape); free-form parts (metadata, contexts, entries' data) stay open records.

const isoDate = () => z.string().describe('ISO 8601, UTC');
const record = () => z.record(z.string(), z.unknown());
const avatar = z.looseObject({ avatarType: z.string(), avatarUuid: z.string().nullable(), avatarUrl: z.string().nullable() });

export const detailAnswer = z.looseObject({ detail: z.string() }).describe("Sentry's error body");

export const organizationAnswer = z.looseObject({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  dateCreated: isoDate(),
  isEarlyAdopter: z.boolean(),
  require2FA: z.boolean(),
  avatar,
  status: z.looseObject({ id: z.string(), name: z.string() }),
  features: z.array(z.string()),
  links: z.looseObject({ organizationUrl: z.string(), regionUrl: z.string() }),
  hasAuthProvider: z.boolean(),
  allowMemberInvite: z.boolean(),
  allowMemberProjectCreation: z.boolean(),
  allowSuperuserAccess: z.boolean(),
});

export const projectRefAnswer = z.looseObject({ id: z.string(), slug: z.string(), name: z.string(), platform: z.string().nullable() });
export const teamRefAnswer = z.looseObject({ id: z.string(), slug: z.string(), name: z.string() });

/** Product areas of Sentry's project that Trapline has none of: each `has…` is false. */
export const PRODUCT_AREAS = ['Feedbacks', 'Flags', 'MinifiedStackTrace', 'Monitors', 'NewFeedbacks', 'Profiles', 'Replays', 'Sessions', 'InsightsHttp', 'InsightsDb', 'InsightsAssets', 'InsightsAppStart', 'InsightsScreenLoad', 'InsightsVitals', 'InsightsCaches', 'InsightsQueues', 'InsightsAgentMonitoring', 'InsightsMCP', 'Logs', 'TraceMetrics', 'UserReports'] as const;
const productFlags = Object.fromEntries(PRODUCT_AREAS.map((area) => [`has${area}`, z.boolean()])) as Record<`has${(typeof PRODUCT_AREAS)[number]}`, z.ZodBoolean>;

export const projectAnswer = projectRefAnswer.extend({
  ...productFlags,
  dateCreated: isoDate(),
  isBookmarked: z.boolean(),
  isMember: z.boolean(),
  hasAccess: z.boolean(),
  access: z.array(z.string()),
  features: z.array(z.string()),
  firstEvent: isoDate().nullable(),
  firstTransactionEvent: z.boolean(),
  status: z.string(),
  team: teamRefAnswer.nullable(),
  teams: z.array(teamRefAnswer),
  platforms: z.array(z.string()),
  environments: z.array(z.string()),
  latestRelease: z.looseObject({ version: z.string() }).nullable(),
  latestDeploys: record().nullable(),
  organization: z.looseObject({ id: z.string(), slug: z.string(), name: z.string() }),
  retentionDays: z.number().nullable().describe("Trapline's own: days this project keeps its events; null: the deployment's default"),
  allowedDomains: z.array(z.string()),
});

export const projectDetailAnswer = projectAnswer.extend({
  team: teamRefAnswer.optional(),
  isInternal: z.boolean(),
  isPublic: z.boolean(),
  avatar,
  color: z.string(),
  options: record(),
  digestsMinDelay: z.number().int(),
  digestsMaxDelay: z.number().int(),
  subjectPrefix: z.string(),
  resolveAge: z.number().int(),
  dataScrubber: z.boolean(),
  dataScrubberDefaults: z.boolean(),
  safeFields: z.array(z.string()),
  storeCrashReports: z.number().int().nullable(),
  sensitiveFields: z.array(z.string()),
  subjectTemplate: z.string(),
  securityToken: z.string(),
  securityTokenHeader: z.string().nullable(),
  verifySSL: z.boolean(),
  scrubIPAddresses: z.boolean(),
  scrapeJavaScript: z.boolean(),
  enableAutoReleaseCreation: z.boolean(),
  highlightTags: z.array(z.string()),
  highlightContext: record(),
  highlightPreset: z.looseObject({ tags: z.array(z.string()), context: record() }),
  groupingConfig: z.string(),
  derivedGroupingEnhancements: z.string(),
  groupingEnhancements: z.string(),
  secondaryGroupingExpiry: z.number().int(),
  secondaryGroupingConfig: z.string().nullable(),
  fingerprintingRules: z.string(),
  processingIssues: z.number().int(),
  defaultEnvironment: z.string().nullable(),
  relayPiiConfig: z.string().nullable(),
  builtinSymbolSources: z.array(z.string()),
  dynamicSamplingBiases: z.array(record()).nullable(),
  symbolSources: z.string(),
  isDynamicallySampled: z.boolean(),
  tempestFetchScreenshots: z.boolean(),
  autofixAutomationTuning: z.string(),
  seerScannerAutomation: z.boolean(),
  seerNightshiftTweaks: record(),
  scmSourceContextEnabled: z.boolean(),
  debugFilesRole: z.string().nullable(),
  organization: organizationAnswer,
});

export const keyAnswer = z.looseObject({
  id: z.string(),
  name: z.string(),
  label: z.string(),
  public: z.string().nullable(),
  secret: z.string().nullable(),
  projectId: z.number().int(),
  isActive: z.boolean(),
  dateCreated: isoDate().nullable(),
  rateLimit: z.looseObject({ window: z.number().int(), count: z.number().int() }).nullable(),
  dsn: z.looseObject(Object.fromEntries(['public', 'secret', 'csp', 'security', 'minidump', 'nel', 'unreal', 'crons', 'cdn', 'playstation', 'integration', 'otlp_traces', 'otlp_logs'].map((name) => [name, z.string()]))),
  browserSdkVersion: z.string(),
  browserSdk: z.looseObject({ choices: z.array(z.array(z.string())) }),
  dynamicSdkLoaderOptions: z.looseObject({ hasReplay: z.boolean(), hasPerformance: z.boolean(), hasDebug: z.boolean(), hasFeedback: z.boolean(), hasLogsAndMetrics: z.boolean() }),
});

export const teamAnswer = teamRefAnswer.extend({
  dateCreated: isoDate().nullable(),
  isMember: z.boolean(),
  teamRole: z.string().nullable(),
  flags: record(),
  access: z.array(z.string()),
  hasAccess: z.boolean(),
  isPending: z.boolean(),
  memberCount: z.number().int(),
  avatar,
});

const counts = { count: z.string(), userCount: z.number().int(), firstSeen: isoDate(), lastSeen: isoDate() };

export const issueAnswer = z.looseObject({
  id: z.string(),
  shareId: z.string().nullable(),
  shortId: z.string(),
  title: z.string(),
  culprit: z.string(),
  permalink: z.string(),
  logger: z.string().nullable(),
  level: z.string(),
  status: z.enum(['resolved', 'unresolved', 'ignored', 'pending_deletion']),
  statusDetails: record(),
  substatus: z.string().nullable(),
  isPublic: z.boolean(),
  platform: z.string().nullable(),
  priority: z.string().nullable(),
  priorityLockedAt: isoDate().nullable(),
  seerFixabilityScore: z.number().nullable(),
  seerAutofixLastTriggered: isoDate().nullable(),
  seerExplorerAutofixLastTriggered: isoDate().nullable(),
  project: projectRefAnswer,
  type: z.enum(['error', 'default']),
  issueType: z.string(),
  issueCategory: z.string(),
  metadata: record(),
  numComments: z.number().int(),
  assignedTo: record().nullable(),
  isBookmarked: z.boolean(),
  isSubscribed: z.boolean(),
  subscriptionDetails: record().nullable(),
  hasSeen: z.boolean(),
  annotations: z.array(z.looseObject({ displayName: z.string(), url: z.string() })),
  isUnhandled: z.boolean(),
  ...counts,
  lifetime: z.looseObject({ ...counts, stats: record().nullable() }),
  filtered: record().nullable(),
  stats: z.record(z.string(), z.array(z.tuple([z.number(), z.number()]))).describe('{period: [[bucket start (epoch seconds), events], …]}, with groupStatsPeriod'),
  derivedData: record(),
  sessionCount: z.number().int(),
  integrationIssues: z.array(record()),
  sentryAppIssues: z.array(record()),
  latestEventHasAttachments: z.boolean(),
  matchingEventId: z.string().nullable(),
  matchingEventEnvironment: z.string().nullable(),
});

export const issueDetailAnswer = issueAnswer.extend({
  activity: z.array(record()),
  seenBy: z.array(record()),
  participants: z.array(record()),
  userReportCount: z.number().int(),
  pluginActions: z.array(z.unknown()),
  pluginIssues: z.array(z.unknown()),
  pluginContexts: z.array(z.unknown()),
});

export const statusAnswer = z.looseObject({ isPublic: z.boolean(), status: z.string(), statusDetails: record() });
export const transactionAnswer = z.looseObject({ transactionId: z.string().describe('the deletion request: follow it at /api/0/deletions/{transactionId}/') });

const tag = z.looseObject({ key: z.string(), value: z.string() });

export const simpleEventAnswer = z.looseObject({
  id: z.string(),
  'event.type': z.string(),
  groupID: z.string().nullable(),
  eventID: z.string(),
  projectID: z.string(),
  message: z.string(),
  title: z.string(),
  location: z.string().nullable(),
  culprit: z.string().nullable(),
  user: record().nullable(),
  tags: z.array(tag),
  platform: z.string().nullable(),
  dateCreated: isoDate(),
  crashFile: z.string().nullable(),
  metadata: record(),
});

export const eventAnswer = z.looseObject({
  id: z.string(),
  eventID: z.string(),
  groupID: z.string().nullable(),
  projectID: z.string(),
  title: z.string(),
  message: z.string().nullable(),
  type: z.enum(['error', 'default']),
  platform: z.string(),
  dateCreated: isoDate(),
  dateReceived: isoDate().nullable(),
  culprit: z.string().nullable(),
  location: z.string().nullable(),
  size: z.number().int().nullable(),
  entries: z.array(z.looseObject({ type: z.string(), data: z.unknown() })),
  tags: z.array(tag),
  user: record().nullable(),
  contexts: record().nullable(),
  sdk: z.looseObject({ name: z.string().nullable(), version: z.string().nullable() }).nullable(),
  context: record().nullable(),
  fingerprints: z.array(z.string()),
  release: record().nullable(),
  dist: z.string().nullable(),
  environment: z.string().nullable(),
  metadata: record(),
  errors: z.array(record()),
  crashFile: z.string().nullable(),
  packages: z.record(z.string(), z.string()).describe("the SDK's modules: package → version"),
  occurrence: record().nullable(),
  _meta: record(),
  userReport: record().nullable(),
  sdkUpdates: z.array(record()),
  resolvedWith: z.array(z.string()),
  nextEventID: z.string().nullable(),
  previousEventID: z.string().nullable(),
});

export const listedEventAnswer = eventAnswer.extend({ 'event.type': z.string() });
export const eventListAnswer = z.array(z.union([listedEventAnswer, simpleEventAnswer])).describe('SimpleEvent, or the full event with ?full=true');

export const tagValueAnswer = z.looseObject({ key: z.string(), name: z.string(), value: z.string(), count: z.number().int(), firstSeen: isoDate(), lastSeen: isoDate() });
export const tagAnswer = z.looseObject({ key: z.string(), name: z.string(), totalValues: z.number().int(), uniqueValues: z.number().int(), topValues: z.array(tagValueAnswer) });

export const rootAnswer = z.looseObject({
  version: z.string(),
  auth: z.looseObject({ scopes: z.array(z.string()) }).nullable(),
  user: z.looseObject({ id: z.string(), name: z.string(), username: z.string(), email: z.string() }).nullable(),
});

const actor = z.looseObject({ id: z.string(), name: z.string(), type: z.enum(['token', 'user', 'system', 'unknown']) });

export const auditEntryAnswer = z.looseObject({
  id: z.string(),
  actor,
  event: z.string(),
  ipAddress: z.string().nullable(),
  note: z.string(),
  targetObject: z.union([z.number(), z.string()]).nullable(),
  targetUser: record().nullable(),
  data: record(),
  dateCreated: isoDate(),
  transactionId: z.string().nullable().describe("Trapline's own: the deletion (or other transaction) the entry belongs to"),
});
export const auditLogAnswer = z.looseObject({ rows: z.array(auditEntryAnswer), options: z.array(z.string()) });

export const deletionAnswer = z.looseObject({
  transactionId: z.string(),
  kind: z.enum(['group', 'event']),
  status: z.string().describe('pending, running, retrying, dead or done'),
  projectId: z.string(),
  projectSlug: z.string(),
  issueId: z.string().nullable(),
  eventId: z.string().nullable(),
  actor,
  dateRequested: isoDate(),
  dateCompleted: isoDate().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  progress: z.looseObject({ chunks: z.number().int(), eventsRemoved: z.number().int(), rowsRemoved: z.number().int() }),
  audit: z.array(auditEntryAnswer),
});

/** Every route's refusals: `{"detail": …}`. */
export const refusals = { '4xx': detailAnswer };
export const empty = z.null().describe('no content');

/** Sentry's system health: which parts are healthy, and the problems found. */
export const systemHealthAnswer = z.looseObject({
  healthy: z.record(z.string(), z.boolean()),
  problems: z.array(z.looseObject({ id: z.string(), message: z.string(), severity: z.enum(['critical', 'warning']), url: z.string().nullable() })),
});

// Releases, commits, deploys, repositories and release files (releases.ts, release-files.ts).

export const repositoryAnswer = z.looseObject({
  id: z.string(),
  name: z.string(),
  url: z.string().nullable(),
  provider: z.looseObject({ id: z.string(), name: z.string() }),
  status: z.string(),
  dateCreated: isoDate(),
  integrationId: z.string().nullable(),
  externalSlug: z.string().nullable(),
});

export const deployAnswer = z.looseObject({ id: z.string(), environment: z.string(), name: z.string().nullable(), url: z.string().nullable(), dateStarted: isoDate().nullable(), dateFinished: isoDate() });

export const commitAnswer = z.looseObject({
  id: z.string(),
  message: z.string().nullable(),
  dateCreated: isoDate().describe('the commit time given, else when it was recorded'),
  pullRequest: record().nullable(),
  suspectCommitType: z.string(),
  repository: repositoryAnswer.optional(),
  author: z.union([z.looseObject({ name: z.string().nullable(), email: z.string() }), z.looseObject({})]),
  releases: z.array(z.looseObject({ version: z.string(), shortVersion: z.string(), ref: z.string().nullable(), url: z.string().nullable(), dateReleased: isoDate().nullable(), dateCreated: isoDate() })),
});

export const releaseAnswer = z.looseObject({
  id: z.number().int(),
  version: z.string(),
  shortVersion: z.string(),
  status: z.string(),
  ref: z.string().nullable(),
  url: z.string().nullable(),
  dateCreated: isoDate().nullable(),
  dateReleased: isoDate().nullable(),
  dateStarted: isoDate().nullable(),
  data: record(),
  owner: record().nullable(),
  userAgent: z.string().nullable(),
  newGroups: z.number().int(),
  commitCount: z.number().int(),
  lastCommit: commitAnswer.nullable(),
  authors: z.array(record()),
  deployCount: z.number().int(),
  lastDeploy: deployAnswer.extend({ name: z.string() }).nullable(),
  firstEvent: isoDate().nullable(),
  lastEvent: isoDate().nullable(),
  currentProjectMeta: record().nullable(),
  versionInfo: z.looseObject({ package: z.string().nullable(), version: record(), description: z.string(), buildHash: z.string().nullable() }),
  projects: z.array(z.looseObject({ id: z.number().int(), slug: z.string(), name: z.string(), newGroups: z.number().int(), platform: z.string().nullable(), platforms: z.array(z.string()), hasHealthData: z.boolean() })),
});

export const releaseFileAnswer = z.looseObject({ id: z.string(), name: z.string(), dist: z.string().nullable(), headers: z.record(z.string(), z.string()), size: z.number().int(), sha1: z.string(), dateCreated: isoDate() });

/** sentry-cli's chunk upload options (Trapline's own: the description lacks the endpoint). */
export const chunkUploadAnswer = z.looseObject({
  url: z.string(),
  chunkSize: z.number().int(),
  chunksPerRequest: z.number().int(),
  maxFileSize: z.number().int(),
  maxRequestSize: z.number().int(),
  concurrency: z.number().int(),
  maxWait: z.number().int(),
  hashAlgorithm: z.string(),
  compression: z.array(z.string()),
  accept: z.array(z.string()),
});
export const assembleAnswer = z.looseObject({ state: z.string().describe('ok, not_found (missingChunks) or error (detail)'), missingChunks: z.array(z.string()), detail: z.string().nullable() });

// Accounts: users, members, user tokens, sessions (users.ts, members.ts).

export const userAnswer = z.looseObject({
  id: z.string(),
  name: z.string(),
  username: z.string(),
  email: z.string(),
  avatarUrl: z.string(),
  avatar,
  isActive: z.boolean(),
  isSuspended: z.boolean(),
  hasPasswordAuth: z.boolean(),
  isManaged: z.boolean(),
  dateJoined: isoDate(),
  lastLogin: isoDate().nullable(),
  has2fa: z.boolean(),
  lastActive: isoDate().nullable(),
  isSuperuser: z.boolean(),
  isStaff: z.boolean(),
  experiments: record(),
  emails: z.array(z.looseObject({ id: z.string(), email: z.string(), is_verified: z.boolean() })),
  identities: z.array(record()),
});

const flag = z.boolean();
export const memberAnswer = z.looseObject({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  user: userAnswer.nullable().describe('null while the invitation is pending'),
  orgRole: z.string(),
  role: z.string(),
  roleName: z.string(),
  pending: z.boolean(),
  expired: z.boolean(),
  flags: z.looseObject({ 'idp:provisioned': flag, 'idp:role-restricted': flag, 'sso:linked': flag, 'sso:invalid': flag, 'member-limit:restricted': flag, 'partnership:restricted': flag }),
  dateCreated: isoDate(),
  inviteStatus: z.string(),
  inviterName: z.string().nullable(),
});
/** A member as a team lists it: the organization member with its team role (as set; null: the minimum) and the team. */
export const teamMemberAnswer = memberAnswer.extend({ teamRole: z.string().nullable(), teamSlug: z.string() });
export const invitedMemberAnswer = memberAnswer.extend({ inviteLink: z.string().describe("Trapline's own: the single-use link, shown only in this answer") });

const roleDescription = { id: z.string(), name: z.string(), desc: z.string(), scopes: z.array(z.string()), allowed: z.boolean(), isAllowed: z.boolean(), isRetired: z.boolean(), isTeamRolesAllowed: z.boolean() };
export const memberDetailAnswer = memberAnswer.extend({
  teams: z.array(z.string()),
  teamRoles: z.array(z.looseObject({ teamSlug: z.string(), role: z.string().nullable() })),
  invite_link: z.string().nullable(),
  isOnlyOwner: z.boolean(),
  orgRoleList: z.array(z.looseObject({ ...roleDescription, is_global: z.boolean(), isGlobal: z.boolean(), minimumTeamRole: z.string() })),
  teamRoleList: z.array(z.looseObject({ ...roleDescription, isMinimumRoleFor: z.string().nullable() })),
});

export const sessionAnswer = z.looseObject({ user: userAnswer, csrfToken: z.string().nullable() });
export const meAnswer = userAnswer.extend({ organizations: z.array(z.looseObject({ slug: z.string(), orgRole: z.string() })) });
export const invitationAnswer = z.looseObject({ orgSlug: z.string(), email: z.string(), orgRole: z.string(), existingUser: z.boolean() });
export const userTokenAnswer = z.looseObject({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  application: record().nullable(),
  expiresAt: isoDate().nullable(),
  dateCreated: isoDate(),
  state: z.string().nullable(),
  tokenLastCharacters: z.string().nullable(),
  token: z.string().optional().describe('the token itself: only in the answer that created it'),
});

// Alerts: rules, service hooks, alert addresses, the delivery log (alerts.ts).

export const alertRuleAnswer = z.looseObject({
  id: z.string(),
  name: z.string(),
  actionMatch: z.string(),
  filterMatch: z.string(),
  frequency: z.number(),
  environment: z.string().nullable(),
  conditions: z.array(z.unknown()),
  filters: z.array(z.unknown()),
  actions: z.array(z.unknown()),
  status: z.string(),
  dateCreated: isoDate(),
  createdBy: record().nullable(),
  owner: z.string().nullable(),
  snooze: z.boolean(),
  projects: z.array(z.string()),
});
export const hookAnswer = z.looseObject({ id: z.string(), url: z.string(), secret: z.string(), status: z.string(), events: z.array(z.string()), dateCreated: isoDate() });
export const alertEmailsAnswer = z.looseObject({ emails: z.array(z.string()) });
export const deliveryAnswer = z.looseObject({
  id: z.string(),
  issueId: z.string(),
  ruleId: z.string().nullable(),
  ruleName: z.string(),
  trigger: z.string(),
  kind: z.string(),
  target: z.string(),
  status: z.string(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  dateDecided: isoDate(),
  dateChanged: isoDate(),
});
