import type { NormalizedEvent, ReleaseCommit } from '@trapline/schemas';

// The read model's rows, as the pg driver returns them (timestamptz: Date, bigint ids: number,
// jsonb: parsed), one interface per table defined in packages/runtime/migrations: the projector
// writes them, the API reads them. A field joined from another table by the API's queries
// (services/api/src/adapters/*read-model.ts) is named in the interface's line.

// ---- Organizations, projects, keys, tokens and teams

/** `organizations`. */
export interface OrganizationRow {
  slug: string;
  name: string;
  created_at: Date;
}

/** `projects`, with its retention (`project_retention`), allowed origins (`project_allowed_origins`), organization (`organizations`), teams (`project_teams`) and oldest visible issue (`groups`) joined. */
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
  organization_name: string;
  organization_created_at: Date;
  /** The project's teams, by slug. */
  teams: { id: string; slug: string; name: string }[];
  /** When its oldest visible issue was first seen; null without events. */
  first_event: Date | null;
}

/** `project_keys`. */
export interface KeyRow {
  public_key: string;
  secret_key: string;
  project_id: number;
  label: string;
  active: boolean;
  created_at: Date;
  /** The key's own rate limit (events per window seconds); null: the deployment's. */
  rate_limit_count: number | null;
  rate_limit_window: number | null;
}

/** `api_tokens`, the columns authentication reads. */
export interface TokenRow {
  token_hash: string;
  organization_slug: string;
  scopes: string[];
  active: boolean;
}

/** `teams`, with what `team_members` says of it where the query asks. */
export interface TeamRow {
  id: number;
  organization_slug: string;
  slug: string;
  name: string;
  created_at: Date;
  /** Accepted members on the team (absent: a team just created, none). */
  member_count?: number;
  /** Whether the viewer's membership is on the team, and its team role there (null: not on it). */
  is_member?: boolean;
  team_role?: string | null;
}

// ---- Issues, events and tags

/** `groups`: an issue. */
export interface GroupRow {
  id: number;
  project_id: number;
  short_id: number;
  title: string;
  culprit: string;
  type: 'error' | 'default';
  metadata: Record<string, unknown>;
  level: string;
  platform: string;
  logger: string | null;
  status: 'unresolved' | 'resolved' | 'ignored' | 'pending_deletion';
  first_seen: Date;
  last_seen: Date;
  times_seen: number;
  user_count: number;
  first_release?: string | null;
  last_release?: string | null;
  resolved_in_release?: string | null;
  resolved_in_next_release?: string | null;
}

/** `events`, with its tags (its `tag_keys` and `tag_values`) as pairs by key. */
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

/** `group_tag_values`: a value of a tag on one issue (`count`: its `times_seen`). */
export interface TagValueRow {
  key: string;
  value: string;
  count: number;
  first_seen: Date;
  last_seen: Date;
}

// ---- Deletions and the audit log

/** `deletions`, with its project's slug and organization joined from `projects`. */
export interface DeletionRow {
  transaction_id: string;
  kind: 'group' | 'event';
  project_id: number;
  project_slug: string;
  organization_slug: string;
  /** As text: an issue id is a string on the API. */
  group_id: string | null;
  event_id: string | null;
  actor: string;
  requested_at: Date;
  state: string;
  attempts: number;
  last_error: string | null;
  chunks: number;
  events_removed: number;
  rows_removed: number;
  completed_at: Date | null;
}

/** `audit_log`. */
export interface AuditRow {
  id: string;
  organization_slug: string;
  project_id: number | null;
  event: string;
  actor: string;
  transaction_id: string | null;
  target_object: string | null;
  data: Record<string, unknown>;
  created_at: Date;
}

// ---- Accounts

/** `users`, without the password hash. */
export interface UserRow {
  id: string;
  email: string;
  name: string;
  created_at: Date;
}

/** `members`, with its user joined from `users`. */
export interface MemberRow {
  id: string;
  organization_slug: string;
  user_id: string | null;
  email: string;
  role: string;
  invite_token_hash: string | null;
  invite_expires_at: Date | null;
  invited_by: string | null;
  created_at: Date;
  /** Joined from users; null while pending. */
  user_name: string | null;
  user_created_at?: Date | null;
}

/** `user_tokens`. */
export interface UserTokenRow {
  id: string;
  token_hash: string;
  user_id: string;
  scopes: string[];
  label: string;
  active: boolean;
  created_at: Date;
}

// ---- Alerting

/** `alert_rules`. */
export interface RuleRow {
  rule_id: string;
  project_id: number;
  name: string;
  action_match: string;
  filter_match: string;
  frequency: number;
  environment: string | null;
  conditions: unknown[];
  filters: unknown[];
  actions: unknown[];
  status: string;
  created_by: string;
  created_at: Date;
}

/** `service_hooks`. */
export interface HookRow {
  hook_id: string;
  project_id: number;
  url: string;
  events: string[];
  secret: string;
  status: string;
  created_at: Date;
}

/** `alert_deliveries`: the delivery log. */
export interface DeliveryRow {
  delivery_id: string;
  project_id: number;
  group_id: number;
  rule_id: string | null;
  rule_name: string;
  trigger: string;
  kind: string;
  target: string;
  status: string;
  attempts: number;
  last_error: string | null;
  decided_at: Date;
  changed_at: Date;
}

// ---- Releases

/** A release: its `releases` row if it was created through the API, and what the events say of it (`group_tag_values`, `release_deploys`). */
export interface ReleaseRow {
  version: string;
  /** Projects the release was created for (empty for a release only seen on events). */
  declared_project_ids: number[];
  /** Projects whose events carry the release. */
  seen_project_ids: number[];
  ref: string | null;
  url: string | null;
  date_created: Date;
  date_started: Date | null;
  date_released: Date | null;
  commits: ReleaseCommit[];
  /** Whether it exists as a release record (created through the API), not only on events. */
  declared: boolean;
  first_event: Date | null;
  last_event: Date | null;
  new_groups: number;
  deploy_count: number;
}

/** `release_deploys`. */
export interface DeployRow {
  deploy_id: string;
  environment: string;
  name: string | null;
  url: string | null;
  date_started: Date | null;
  date_finished: Date;
  project_ids: number[];
}

/** `repositories`. */
export interface RepositoryRow {
  name: string;
  url: string | null;
  created_at: Date;
}
