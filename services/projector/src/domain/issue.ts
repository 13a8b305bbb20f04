import { createHash } from 'node:crypto';
import { eventCulprit, type NormalizedEvent } from '@trapline/schemas';
import { groupingFrames } from './grouping.ts';

// What an issue looks like, derived from the event that opens it. Pure.

/**
 * Issue ids are a deterministic function of the log that survives erasure: the project, the
 * grouping hash and its generation (how many deleted issues have had that hash before), never the
 * event that opened the issue, which a later deletion may erase from the compacted log. 52 bits,
 * so they stay exact as JavaScript numbers and Postgres bigints.
 */
export function issueId(projectId: number, hash: string, generation: number): number {
  return parseInt(createHash('sha256').update(`${projectId}/${hash}/${generation}`).digest('hex').slice(0, 13), 16);
}

const SHORT_ID_FLOOR = 36 ** 5;
const SHORT_ID_SPAN = 36 ** 6 - SHORT_ID_FLOOR;

/**
 * The number behind an issue's short id (PROJECT-XXXXXX): six base-36 digits derived from the
 * issue id, so it cannot depend on which other issues the log still holds. A clash within a
 * project moves to the next free number (`probe`).
 */
export function shortIdNumber(id: number, probe = 0): number {
  return SHORT_ID_FLOOR + ((id + probe) % SHORT_ID_SPAN);
}

export interface IssueFacts {
  title: string;
  culprit: string;
  type: 'error' | 'default';
  metadata: Record<string, string>;
}

export function describeIssue(event: NormalizedEvent): IssueFacts {
  const exception = event.exception?.values.at(-1);
  // A synthetic exception (an SDK's wrapper around a captured message, e.g. Sentry.parameterize)
  // has no meaningful type: Sentry titles it by its value.
  if (exception && exception.mechanism?.synthetic === true) {
    const value = (exception.value ?? event.message ?? '').split('\n')[0] || '<unlabeled event>';
    return { title: value.slice(0, 1024), culprit: eventCulprit(event), type: 'error', metadata: { value: exception.value ?? value } };
  }
  if (exception) {
    const type = exception.type ?? 'Error';
    const value = exception.value ?? '';
    const frames = exception.stacktrace?.frames ?? [];
    const top = groupingFrames(frames).at(-1) ?? frames.at(-1);
    const metadata: Record<string, string> = { type, value };
    if (top?.filename) metadata.filename = top.filename;
    if (top?.function) metadata.function = top.function;
    return {
      title: value ? `${type}: ${value.split('\n')[0]}` : type,
      culprit: eventCulprit(event),
      type: 'error',
      metadata,
    };
  }
  const message = (event.message ?? '').split('\n')[0] || '<unlabeled event>';
  return { title: message.slice(0, 1024), culprit: eventCulprit(event), type: 'default', metadata: { title: message.slice(0, 1024) } };
}

/** What identifies the user for "users affected". */
export function userIdentity(event: NormalizedEvent): string | undefined {
  const user = event.user;
  if (!user) return undefined;
  for (const key of ['id', 'username', 'email', 'ip_address']) {
    const value = user[key];
    if (typeof value === 'string' || typeof value === 'number') return `${key}:${value}`;
  }
  return undefined;
}

/**
 * Tags indexed per event: what the SDK sent plus the fields Sentry promotes to tags, by key (in
 * code unit order, as the events row stores them).
 */
export function eventTags(event: NormalizedEvent): [string, string][] {
  const tags = new Map(event.tags);
  tags.set('level', event.level);
  if (event.release) tags.set('release', event.release);
  if (event.environment) tags.set('environment', event.environment);
  if (event.server_name) tags.set('server_name', event.server_name);
  if (event.transaction) tags.set('transaction', event.transaction);
  const user = userIdentity(event);
  if (user) tags.set('user', user);
  return [...tags.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => [key, boundedTagValue(value)]);
}

/** Tag values keep at most 200 characters (Sentry's bound; ingest already holds plain tags to it), never half a surrogate pair. */
function boundedTagValue(value: string): string {
  return value.length <= 200 ? value : value.slice(0, 200).replace(/[\uD800-\uDBFF]$/, '');
}
