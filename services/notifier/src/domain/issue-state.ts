import { issueId } from '@trapline/projector/issue';
import type { Bucket, NotifierIssueState } from '@trapline/schemas';
import { notifierStateKeys } from '@trapline/schemas';

// What the notifier knows of an issue, evolved from the log alone (never read from the projector's
// tables, which may be behind or ahead of the record at hand): whether a grouping hash has an issue
// yet and which (the same deterministic id the projector gives it), its status, how many events it
// had per minute and per hour, and when each rule last fired for it. Pure.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MINUTES_KEPT = HOUR;
const HOURS_KEPT = 30 * 24 * HOUR;

export const stateKey = notifierStateKeys.issue;

export function emptyState(projectId: number, hash: string): NotifierIssueState {
  return { projectId, hash, generation: 0, groupId: null, status: 'unresolved', deletedAt: null, timesSeen: 0, firstSeen: 0, minutes: [], hours: [], lastFired: {} };
}

export type Observed =
  /** Received before its issue was deleted: the projector hides or drops it, so nothing is told. */
  | { kind: 'ignored' }
  | { kind: 'counted'; state: NotifierIssueState; groupId: number; firstSeen: boolean; regression: boolean };

function addTo(buckets: Bucket[], start: number, keepAfter: number): Bucket[] {
  // Most events fall in the newest bucket of a window whose oldest bucket is still kept: a copy of
  // the array with its last bucket counted up, rather than a filter, a search and a map of every
  // bucket (up to 720 hours) per event. The buckets are in order of time (the general case keeps them so).
  const last = buckets.length - 1;
  if (last >= 0 && buckets[last]!.start === start && buckets[0]!.start > keepAfter && (last === 0 || buckets[last - 1]!.start < start)) {
    const counted = buckets.slice();
    counted[last] = { start, count: buckets[last]!.count + 1 };
    return counted;
  }
  const kept = buckets.filter((bucket) => bucket.start > keepAfter);
  const at = kept.findIndex((bucket) => bucket.start === start);
  if (at === -1) return [...kept, { start, count: 1 }].sort((a, b) => a.start - b.start);
  return kept.map((bucket, index) => (index === at ? { start, count: bucket.count + 1 } : bucket));
}

/** One event of the hash, received at `receivedAt`. */
export function observeEvent(before: NotifierIssueState, receivedAt: number): Observed {
  if (before.deletedAt !== null && receivedAt < before.deletedAt) return { kind: 'ignored' };
  const firstSeen = before.groupId === null;
  const groupId = before.groupId ?? issueId(before.projectId, before.hash, before.generation);
  const regression = !firstSeen && before.status === 'resolved';
  const state: NotifierIssueState = {
    ...before,
    groupId,
    status: regression ? 'unresolved' : before.status,
    timesSeen: before.timesSeen + 1,
    firstSeen: firstSeen ? receivedAt : before.firstSeen,
    minutes: addTo(before.minutes, Math.floor(receivedAt / MINUTE) * MINUTE, receivedAt - MINUTES_KEPT),
    hours: addTo(before.hours, Math.floor(receivedAt / HOUR) * HOUR, receivedAt - HOURS_KEPT),
  };
  return { kind: 'counted', state, groupId, firstSeen, regression };
}

/** Events within `intervalMs` before `at` (bucketed: by the minute up to an hour, by the hour beyond). */
export function eventsWithin(state: NotifierIssueState, intervalMs: number, at: number): number {
  const buckets = intervalMs <= MINUTES_KEPT ? state.minutes : state.hours;
  return buckets.filter((bucket) => bucket.start > at - intervalMs && bucket.start <= at).reduce((sum, bucket) => sum + bucket.count, 0);
}

export function changeStatus(state: NotifierIssueState, status: string): NotifierIssueState {
  return { ...state, status };
}

/**
 * The issue is deleted: the hash's next event (received after the request) opens a new one. A
 * request for another issue of the hash (an older one, or one asked twice) changes nothing, as the
 * projector keeps one tombstone per issue.
 */
export function deleteIssue(state: NotifierIssueState, groupId: number, requestedAt: number): NotifierIssueState {
  if (state.groupId !== groupId) return state;
  return { ...emptyState(state.projectId, state.hash), generation: state.generation + 1, deletedAt: requestedAt };
}

export function markFired(state: NotifierIssueState, ruleId: string, at: number): NotifierIssueState {
  return { ...state, lastFired: { ...state.lastFired, [ruleId]: at } };
}
