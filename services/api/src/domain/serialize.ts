import type { EventRow, GroupRow, KeyRow, OrganizationRow, ProjectRow, TeamRow } from '@trapline/runtime';
import type { z } from 'zod';
import { crashLocation, DEFAULT_ALLOWED_ORIGINS, eventCulprit, hasSystemFrames, type NormalizedEvent } from '@trapline/schemas';
import { PRODUCT_AREAS, type eventAnswer, type issueAnswer, type issueDetailAnswer, type keyAnswer, type listedEventAnswer, type organizationAnswer, type projectAnswer, type projectDetailAnswer, type simpleEventAnswer, type tagAnswer, type tagValueAnswer, type teamAnswer } from './answers.ts';
import { statusDetailsOf } from './releases.ts';

// Rows of the read models → Sentry's Web API shapes. Fields that mean nothing here get their
// neutral value (assignedTo: null, numComments: 0, …). Timestamps are ISO 8601 UTC.

const iso = (date: Date) => date.toISOString();

export function serializeProjectRef(project: ProjectRow) {
  return { id: String(project.id), slug: project.slug, name: project.name, platform: project.platform };
}

/** Sentry's short id: PROJECT-XXXXXX, the number the projector derived from the issue id, in base 36. */
export function shortIdFor(project: Pick<ProjectRow, 'slug'>, counter: number): string {
  return `${project.slug.toUpperCase()}-${counter.toString(36).toUpperCase()}`;
}

/**
 * Fields of Sentry's issue that mean nothing here (no priority, assignees, comments, inbox, AI),
 * with their neutral values.
 */
const NEUTRAL_ISSUE = {
  shareId: null,
  statusDetails: {},
  isPublic: false,
  priority: null,
  priorityLockedAt: null,
  seerFixabilityScore: null,
  seerAutofixLastTriggered: null,
  seerExplorerAutofixLastTriggered: null,
  numComments: 0,
  assignedTo: null,
  isBookmarked: false,
  isSubscribed: false,
  subscriptionDetails: null,
  hasSeen: false,
  annotations: [],
  isUnhandled: false,
};

/** What only the lists carry in Sentry (the organization's issue search). */
const NEUTRAL_LIST_ISSUE = {
  derivedData: { blocker: '', progress: '', status: '', viewCount: 0, hasOpenFixPr: false, isAssigned: false, hasRootCause: false, lastCompletedAutofixStep: '', lastProgressedAt: null },
  filtered: null,
  sessionCount: 0,
  integrationIssues: [],
  sentryAppIssues: [],
  latestEventHasAttachments: false,
  matchingEventId: null,
  matchingEventEnvironment: null,
};

/** What only the detail carries in Sentry. */
const NEUTRAL_ISSUE_DETAIL = { activity: [], seenBy: [], participants: [], userReportCount: 0, pluginActions: [], pluginIssues: [], pluginContexts: [] };

/**
 * Sentry's metadata shapes: an error's `{type, value, filename}` (filename '' when no frame
 * names one), a message's `{title}`.
 */
function issueMetadata(group: GroupRow): Record<string, unknown> {
  if (group.type !== 'error') return { title: group.title, ...group.metadata };
  return { type: '', value: '', filename: '', ...group.metadata };
}

/** An issue in Sentry's list shape; `stats` is Sentry's `{period: [[bucket start, events], …]}`, empty unless the list asked for it. */
export function serializeIssue(group: GroupRow, project: ProjectRow, publicUrl: string, stats: Record<string, [number, number][]> = {}): z.input<typeof issueAnswer> {
  const status = group.status;
  const lifetime = { count: String(group.times_seen), userCount: group.user_count, firstSeen: iso(group.first_seen), lastSeen: iso(group.last_seen) };
  return {
    ...NEUTRAL_ISSUE,
    ...NEUTRAL_LIST_ISSUE,
    id: String(group.id),
    shortId: shortIdFor(project, group.short_id),
    title: group.title,
    culprit: group.culprit,
    permalink: `${publicUrl}/organizations/${project.organization_slug}/issues/${group.id}/`,
    logger: group.logger,
    level: group.level,
    status,
    statusDetails: statusDetailsOf(group),
    substatus: status === 'unresolved' ? 'ongoing' : status === 'ignored' ? 'archived_forever' : null,
    platform: group.platform,
    project: serializeProjectRef(project),
    type: group.type,
    metadata: issueMetadata(group),
    issueType: group.type === 'error' ? 'error' : 'default',
    issueCategory: 'error',
    ...lifetime,
    lifetime: { ...lifetime, stats: null },
    stats,
  };
}

/** An issue in Sentry's detail shape. */
export function serializeIssueDetail(group: GroupRow, project: ProjectRow, publicUrl: string): z.input<typeof issueDetailAnswer> {
  return { ...serializeIssue(group, project, publicUrl), ...NEUTRAL_ISSUE_DETAIL };
}

function entriesOf(event: NormalizedEvent) {
  const entries: { type: string; data: unknown }[] = [];
  if (event.exception) {
    const frames = event.exception.values.flatMap((value) => value.stacktrace?.frames ?? []);
    entries.push({ type: 'exception', data: { values: event.exception.values, hasSystemFrames: hasSystemFrames(frames), excOmitted: null } });
  }
  if (event.message && !event.exception) entries.push({ type: 'message', data: { formatted: event.message, message: event.logentry?.message ?? event.message, params: event.logentry?.params ?? [] } });
  if (event.threads) entries.push({ type: 'threads', data: event.threads });
  if (event.breadcrumbs) entries.push({ type: 'breadcrumbs', data: event.breadcrumbs });
  if (event.request) entries.push({ type: 'request', data: event.request });
  return entries;
}

/** Fields of Sentry's event that mean nothing here (no occurrences, user reports, SDK update hints), neutral. */
const NEUTRAL_EVENT = { size: null, errors: [], crashFile: null, occurrence: null, _meta: {}, userReport: null, sdkUpdates: [], resolvedWith: [] };

/** `adjacent`: the issue's events before and after it (the detail endpoints give them; lists null). */
export function serializeEvent(row: EventRow, project: ProjectRow, adjacent: { previous: string | null; next: string | null } = { previous: null, next: null }): z.input<typeof eventAnswer> {
  const event = row.payload;
  return {
    ...NEUTRAL_EVENT,
    id: row.event_id,
    eventID: row.event_id,
    groupID: String(row.group_id),
    projectID: String(project.id),
    title: row.title,
    message: row.message,
    type: event.exception ? 'error' : 'default',
    platform: event.platform,
    dateCreated: iso(row.occurred_at),
    dateReceived: iso(row.received_at),
    culprit: eventCulprit(event) || null,
    location: crashLocation(event),
    entries: entriesOf(event),
    tags: row.tags.map(([key, value]) => ({ key, value })),
    user: event.user ?? null,
    contexts: event.contexts ?? {},
    sdk: event.sdk ? { ...event.sdk, name: event.sdk.name ?? null, version: event.sdk.version ?? null } : null,
    context: event.extra ?? {},
    fingerprints: event.fingerprint ?? [],
    release: event.release ? { version: event.release } : null,
    dist: event.dist ?? null,
    environment: event.environment ?? null,
    metadata: {},
    packages: event.modules ?? {},
    previousEventID: adjacent.previous,
    nextEventID: adjacent.next,
  };
}

/** Trapline serves one region: the organization's URLs are its public origin. */
export function serializeOrganization(org: OrganizationRow, publicUrl: string): z.input<typeof organizationAnswer> {
  return {
    id: org.slug,
    slug: org.slug,
    name: org.name,
    dateCreated: iso(org.created_at),
    isEarlyAdopter: false,
    require2FA: false,
    avatar: { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null },
    status: { id: 'active', name: 'active' },
    features: [],
    links: { organizationUrl: publicUrl, regionUrl: publicUrl },
    hasAuthProvider: false,
    allowMemberInvite: false,
    allowMemberProjectCreation: false,
    allowSuperuserAccess: false,
  };
}

/** Product areas of Sentry's project that Trapline has none of: each `has…` false. */
const PRODUCT_FLAGS = Object.fromEntries(PRODUCT_AREAS.map((area) => [`has${area}`, false])) as Record<`has${(typeof PRODUCT_AREAS)[number]}`, false>;

/** Settings of Sentry's project detail that Trapline does not have, neutral. */
const NEUTRAL_PROJECT_DETAIL = {
  isInternal: false,
  isPublic: false,
  avatar: { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null },
  color: '',
  options: {},
  digestsMinDelay: 0,
  digestsMaxDelay: 0,
  subjectPrefix: '',
  resolveAge: 0,
  dataScrubber: false,
  dataScrubberDefaults: false,
  safeFields: [],
  storeCrashReports: null,
  sensitiveFields: [],
  subjectTemplate: '',
  securityToken: '',
  securityTokenHeader: null,
  verifySSL: false,
  scrubIPAddresses: false,
  scrapeJavaScript: false,
  enableAutoReleaseCreation: false,
  highlightTags: [],
  highlightContext: {},
  highlightPreset: { tags: [], context: {} },
  groupingConfig: '',
  derivedGroupingEnhancements: '',
  groupingEnhancements: '',
  secondaryGroupingExpiry: 0,
  secondaryGroupingConfig: null,
  fingerprintingRules: '',
  processingIssues: 0,
  defaultEnvironment: null,
  relayPiiConfig: null,
  builtinSymbolSources: [],
  dynamicSamplingBiases: null,
  symbolSources: '',
  isDynamicallySampled: false,
  tempestFetchScreenshots: false,
  autofixAutomationTuning: '',
  seerScannerAutomation: false,
  seerNightshiftTweaks: {},
  scmSourceContextEnabled: false,
  debugFilesRole: null,
};

/** A project in Sentry's list shape (OrganizationProjectsEndpoint). */
export function serializeProject(project: ProjectRow): z.input<typeof projectAnswer> {
  return {
    ...serializeProjectRef(project),
    ...PRODUCT_FLAGS,
    dateCreated: iso(project.created_at),
    isBookmarked: false,
    isMember: true,
    hasAccess: true,
    access: [],
    features: [],
    firstEvent: project.first_event ? iso(project.first_event) : null,
    firstTransactionEvent: false,
    status: 'active',
    team: project.teams[0] ?? null,
    teams: project.teams,
    platforms: project.platform ? [project.platform] : [],
    environments: [],
    latestRelease: null,
    latestDeploys: null,
    organization: { id: project.organization_slug, slug: project.organization_slug, name: project.organization_name },
    retentionDays: project.retention_days,
    allowedDomains: project.allowed_origins ?? [...DEFAULT_ALLOWED_ORIGINS],
  };
}

/** A project in Sentry's detail shape: the list's fields, its settings, its whole organization. */
export function serializeProjectDetail(project: ProjectRow, publicUrl: string): z.input<typeof projectDetailAnswer> {
  const { team, ...listed } = serializeProject(project);
  return {
    ...listed,
    // The detail has `team` only when the project has one (the list gives null).
    ...(team ? { team } : {}),
    ...NEUTRAL_PROJECT_DETAIL,
    organization: serializeOrganization({ slug: project.organization_slug, name: project.organization_name, created_at: project.organization_created_at }, publicUrl),
  };
}

export function serializeKey(key: KeyRow, publicUrl: string): z.input<typeof keyAnswer> {
  const url = new URL(publicUrl);
  const host = `${url.protocol}//${key.public_key}@${url.host}${url.pathname.replace(/\/$/, '')}`;
  return {
    id: key.public_key,
    name: key.label,
    label: key.label,
    public: key.public_key,
    secret: key.secret_key,
    projectId: key.project_id,
    isActive: key.active,
    dateCreated: iso(key.created_at),
    rateLimit: key.rate_limit_count === null || key.rate_limit_window === null ? null : { count: key.rate_limit_count, window: key.rate_limit_window },
    dsn: {
      public: `${host}/${key.project_id}`,
      secret: `${url.protocol}//${key.public_key}:${key.secret_key}@${url.host}${url.pathname.replace(/\/$/, '')}/${key.project_id}`,
      csp: `${url.origin}/api/${key.project_id}/csp-report/?sentry_key=${key.public_key}`,
      security: `${url.origin}/api/${key.project_id}/security/?sentry_key=${key.public_key}`,
      minidump: `${url.origin}/api/${key.project_id}/minidump/?sentry_key=${key.public_key}`,
      unreal: `${url.origin}/api/${key.project_id}/unreal/${key.public_key}/`,
      // Endpoints and the JavaScript loader that Trapline does not serve: empty, as Sentry leaves cdn.
      cdn: '',
      nel: '',
      crons: '',
      playstation: '',
      integration: '',
      otlp_traces: '',
      otlp_logs: '',
    },
    browserSdkVersion: '',
    browserSdk: { choices: [] },
    dynamicSdkLoaderOptions: { hasReplay: false, hasPerformance: false, hasDebug: false, hasFeedback: false, hasLogsAndMetrics: false },
  };
}

/** Sentry's team: its accepted members counted, and whether the viewer is on it with which team role. */
export function serializeTeam(team: TeamRow): z.input<typeof teamAnswer> {
  return {
    id: String(team.id),
    slug: team.slug,
    name: team.name,
    dateCreated: iso(team.created_at),
    isMember: team.is_member ?? false,
    teamRole: team.team_role ?? null,
    flags: { 'idp:provisioned': false },
    access: [],
    hasAccess: true,
    isPending: false,
    memberCount: team.member_count ?? 0,
    avatar: { avatarType: 'letter_avatar', avatarUuid: null, avatarUrl: null },
  };
}

const TAG_NAMES: Record<string, string> = { level: 'Level', release: 'Release', environment: 'Environment', user: 'User', transaction: 'Transaction', server_name: 'Server' };

export function serializeTagValue(row: { key: string; value: string; count: number; first_seen: Date; last_seen: Date }): z.input<typeof tagValueAnswer> {
  return { key: row.key, name: row.value, value: row.value, count: row.count, firstSeen: iso(row.first_seen), lastSeen: iso(row.last_seen) };
}

/** One tag key of an issue: how many events carry it, how many distinct values, and the most frequent ones. */
export interface TagKeySummary {
  key: string;
  total_values: number;
  unique_values: number;
  top_values: { key: string; value: string; count: number; first_seen: Date; last_seen: Date }[];
}

/** `/issues/{id}/tags/`: one entry per key with its total and top values. */
export function serializeTags(summaries: TagKeySummary[]): z.input<typeof tagAnswer>[] {
  return summaries.map((summary) => ({
    key: summary.key,
    name: TAG_NAMES[summary.key] ?? summary.key,
    totalValues: summary.total_values,
    uniqueValues: summary.unique_values,
    topValues: summary.top_values.map(serializeTagValue),
  }));
}

/** A list's full event (`?full=true`): the detail with the list's `event.type`. */
export function serializeListedEvent(row: EventRow, project: ProjectRow): z.input<typeof listedEventAnswer> {
  const event = serializeEvent(row, project);
  return { 'event.type': event.type, ...event };
}

/** The list shape (Sentry's SimpleEventSerializer); `?full=true` asks for serializeListedEvent instead. */
export function serializeSimpleEvent(row: EventRow, project: ProjectRow): z.input<typeof simpleEventAnswer> {
  const event = row.payload;
  return {
    id: row.event_id,
    'event.type': event.exception ? 'error' : 'default',
    groupID: String(row.group_id),
    eventID: row.event_id,
    projectID: String(project.id),
    message: row.message,
    title: row.title,
    location: crashLocation(event),
    culprit: eventCulprit(event) || null,
    user: event.user ?? null,
    tags: row.tags.map(([key, value]) => ({ key, value })),
    platform: event.platform,
    dateCreated: iso(row.occurred_at),
    crashFile: null,
    metadata: {},
  };
}
