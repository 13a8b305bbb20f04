import type { ExceptionValue } from './exception.ts';

// The Web API's answers, as far as the pages read them (Sentry's shapes).

export interface Project {
  id: string;
  slug: string;
  name: string;
  platform: string | null;
  organization: { slug: string };
}

export interface Issue {
  id: string;
  shortId: string;
  title: string;
  culprit: string;
  level: string;
  status: string;
  count: string;
  userCount: number;
  firstSeen: string;
  lastSeen: string;
  project: { id: string; slug: string };
  stats: Record<string, [number, number][]>;
  statusDetails?: { inRelease?: string; inNextRelease?: boolean };
  /** Issue detail only. */
  firstRelease?: { version: string; shortVersion: string } | null;
  lastRelease?: { version: string; shortVersion: string } | null;
}

export interface Release {
  version: string;
  shortVersion: string;
  dateCreated: string;
  dateReleased: string | null;
  newGroups: number;
  commitCount: number;
  lastCommit: { id: string } | null;
  lastDeploy: { environment: string; dateFinished: string } | null;
  lastEvent: string | null;
  projects: { slug: string }[];
}

export interface SimpleEvent {
  id: string;
  eventID: string;
  title: string;
  dateCreated: string;
  user: { id?: string; email?: string; username?: string } | null;
  tags: { key: string; value: string }[];
}

export type Entry =
  | { type: 'exception'; data: { values: ExceptionValue[] } }
  | { type: 'message'; data: { formatted: string } }
  | { type: 'breadcrumbs'; data: { values: Breadcrumb[] } }
  | { type: 'request'; data: Record<string, unknown> }
  | { type: string; data: unknown };

export interface Breadcrumb {
  timestamp?: number | string;
  type?: string;
  category?: string;
  level?: string;
  message?: string;
  data?: Record<string, unknown>;
}

export interface FullEvent extends SimpleEvent {
  groupID: string;
  message: string;
  platform: string;
  dateReceived: string;
  entries: Entry[];
  contexts: Record<string, Record<string, unknown>>;
  release: { version: string } | null;
  environment: string | null;
  sdk: { name?: string; version?: string } | null;
}

export interface TagSummary {
  key: string;
  name: string;
  totalValues: number;
  topValues: { value: string; count: number }[];
}

export interface Deletion {
  transactionId: string;
  kind: 'group' | 'event';
  status: 'pending' | 'running' | 'retrying' | 'dead' | 'done';
  issueId: string | null;
  eventId: string | null;
  dateRequested: string;
  dateCompleted: string | null;
  attempts: number;
  lastError: string | null;
  progress: { chunks: number; eventsRemoved: number; rowsRemoved: number };
}

export interface AuditEntry {
  id: string;
  actor: { id: string; name: string; type: string };
  event: string;
  note: string;
  targetObject: number | string | null;
  data: Record<string, unknown>;
  dateCreated: string;
  transactionId: string | null;
}

export interface ProjectKey {
  id: string;
  name: string;
  isActive: boolean;
  dateCreated: string;
  dsn: { public: string };
}
