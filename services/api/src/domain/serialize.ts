import { DEFAULT_ALLOWED_ORIGINS, type NormalizedEvent } from '@trapline/schemas';

// Rows of the read models → Sentry's Web API shapes. Fields that mean nothing here get their
// neutral value (assignedTo: null, numComments: 0, …). Timestamps are ISO 8601 UTC.

export interface ProjectRow {
  id: number;
  organization_slug: string;
  slug: string;
  name: string;
  platform: string | null;
  created_at: Date;
  /** Days this project keeps its events; null: the deployment's RETENTION_DAYS. */
  retention_days: number | null;
  /** Origins whose browser SDKs may post (Sentry's allowedDomains); null: the default ["*"]. */
  allowed_origins: string[] | null;
}

export interface GroupRow {
  id: number;
  project_id: number;
  short_id: number;
  title: string;
  culprit: string;
  type: string;
  metadata: Record<string, unknown>;
  level: string;
  platform: string;
  logger: string | null;
  status: string;
  first_seen: Date;
  last_seen: Date;
  times_seen: number;
  user_count: number;
}

export interface EventRow {
  project_id: number;
  event_id: string;
  group_id: number;
  received_at: Date;
  occurred_at: Date;
  title: string;
  message: string;
  payload: NormalizedEvent;
  /** The projected tags: what the SDK sent plus the promoted fields (level, release, environment, …). */
  tags: [string, string][];
}

const iso = (date: Date) => date.toISOString();

export function serializeProjectRef(project: ProjectRow) {
  return { id: String(project.id), slug: project.slug, name: project.name, platform: project.platform };
}

/** Sentry's short id: PROJECT-XXXXXX, the number the projector derived from the issue id, in base 36. */
export function shortIdFor(project: Pick<ProjectRow, 'slug'>, counter: number): string {
  return `${project.slug.toUpperCase()}-${counter.toString(36).toUpperCase()}`;
}

/** `stats` is Sentry's `{period: [[bucket start, events], …]}`, empty unless the list asked for it. */
export function serializeIssue(group: GroupRow, project: ProjectRow, publicUrl: string, stats: Record<string, [number, number][]> = {}) {
  const status = group.status === 'pending_deletion' ? 'pending_deletion' : group.status;
  return {
    id: String(group.id),
    shareId: null,
    shortId: shortIdFor(project, group.short_id),
    title: group.title,
    culprit: group.culprit,
    permalink: `${publicUrl}/organizations/${project.organization_slug}/issues/${group.id}/`,
    logger: group.logger,
    level: group.level,
    status,
    statusDetails: {},
    substatus: status === 'unresolved' ? 'ongoing' : null,
    isPublic: false,
    platform: group.platform,
    project: serializeProjectRef(project),
    type: group.type,
    metadata: group.metadata,
    numComments: 0,
    assignedTo: null,
    isBookmarked: false,
    isSubscribed: false,
    subscriptionDetails: null,
    hasSeen: false,
    annotations: [],
    issueType: group.type === 'error' ? 'error' : 'default',
    issueCategory: 'error',
    isUnhandled: false,
    count: String(group.times_seen),
    userCount: group.user_count,
    firstSeen: iso(group.first_seen),
    lastSeen: iso(group.last_seen),
    stats,
  };
}

function entriesOf(event: NormalizedEvent) {
  const entries: { type: string; data: unknown }[] = [];
  if (event.exception) entries.push({ type: 'exception', data: { values: event.exception.values, hasSystemFrames: true, excOmitted: null } });
  if (event.message && !event.exception) entries.push({ type: 'message', data: { formatted: event.message, message: event.logentry?.message ?? event.message, params: event.logentry?.params ?? [] } });
  if (event.threads) entries.push({ type: 'threads', data: event.threads });
  if (event.breadcrumbs) entries.push({ type: 'breadcrumbs', data: event.breadcrumbs });
  if (event.request) entries.push({ type: 'request', data: event.request });
  return entries;
}

export function serializeEvent(row: EventRow, project: ProjectRow) {
  const event = row.payload;
  return {
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
    culprit: event.transaction ?? null,
    location: null,
    size: null,
    entries: entriesOf(event),
    tags: row.tags.map(([key, value]) => ({ key, value })),
    user: event.user ?? null,
    contexts: event.contexts ?? {},
    sdk: event.sdk ?? null,
    context: event.extra ?? {},
    fingerprints: event.fingerprint ?? [],
    release: event.release ? { version: event.release } : null,
    environment: event.environment ?? null,
    metadata: {},
    errors: [],
    crashFile: null,
    packages: {},
  };
}

export function serializeOrganization(org: { slug: string; name: string; created_at: Date }) {
  return {
    id: org.slug,
    slug: org.slug,
    name: org.name,
    dateCreated: iso(org.created_at),
    isEarlyAdopter: false,
    require2FA: false,
    avatar: { avatarType: 'letter_avatar', avatarUuid: null },
    status: { id: 'active', name: 'active' },
    features: [],
  };
}

export function serializeProject(project: ProjectRow) {
  return {
    ...serializeProjectRef(project),
    dateCreated: iso(project.created_at),
    isBookmarked: false,
    isMember: true,
    hasAccess: true,
    features: [],
    firstEvent: null,
    status: 'active',
    organization: { id: project.organization_slug, slug: project.organization_slug, name: project.organization_slug },
    retentionDays: project.retention_days,
    allowedDomains: project.allowed_origins ?? [...DEFAULT_ALLOWED_ORIGINS],
  };
}

export function serializeKey(key: { public_key: string; secret_key: string; project_id: number; label: string; active: boolean; created_at: Date }, publicUrl: string) {
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
    rateLimit: null,
    dsn: {
      public: `${host}/${key.project_id}`,
      secret: `${url.protocol}//${key.public_key}:${key.secret_key}@${url.host}${url.pathname.replace(/\/$/, '')}/${key.project_id}`,
      csp: `${url.origin}/api/${key.project_id}/csp-report/?sentry_key=${key.public_key}`,
      security: `${url.origin}/api/${key.project_id}/security/?sentry_key=${key.public_key}`,
      minidump: `${url.origin}/api/${key.project_id}/minidump/?sentry_key=${key.public_key}`,
      unreal: `${url.origin}/api/${key.project_id}/unreal/${key.public_key}/`,
      cdn: '',
    },
  };
}

const TAG_NAMES: Record<string, string> = { level: 'Level', release: 'Release', environment: 'Environment', user: 'User', transaction: 'Transaction', server_name: 'Server' };

export function serializeTagValue(row: { key: string; value: string; count: number; first_seen: Date; last_seen: Date }) {
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
export function serializeTags(summaries: TagKeySummary[]) {
  return summaries.map((summary) => ({
    key: summary.key,
    name: TAG_NAMES[summary.key] ?? summary.key,
    totalValues: summary.total_values,
    uniqueValues: summary.unique_values,
    topValues: summary.top_values.map(serializeTagValue),
  }));
}

/** The list shape (Sentry's SimpleEventSerializer); `?full=true` asks for serializeEvent instead. */
export function serializeSimpleEvent(row: EventRow, project: ProjectRow) {
  const event = row.payload;
  return {
    id: row.event_id,
    'event.type': event.exception ? 'error' : 'default',
    groupID: String(row.group_id),
    eventID: row.event_id,
    projectID: String(project.id),
    message: row.message,
    title: row.title,
    location: null,
    culprit: event.transaction ?? null,
    user: event.user ?? null,
    tags: row.tags.map(([key, value]) => ({ key, value })),
    platform: event.platform,
    dateCreated: iso(row.occurred_at),
    crashFile: null,
    metadata: {},
  };
}
