import { describe, expect, it } from 'vitest';
import { issueId } from '@trapline/projector/issue';
import type { NotifierIssueState } from '@trapline/schemas';
import { changeStatus, deleteIssue, emptyState, eventsWithin, markFired, observeEvent, stateKey } from './issue-state.ts';

// What the notifier knows of one issue, from plain states: given the state before, when an event
// (or a status change, a deletion, a rule firing) comes, then exactly this state.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T = Date.parse('2026-12-02T10:00:00.000Z');
const fresh = emptyState(3, 'abc');

function counted(before: NotifierIssueState, receivedAt: number) {
  const observed = observeEvent(before, receivedAt);
  if (observed.kind !== 'counted') throw new Error(`expected the event counted, got ${observed.kind}`);
  return observed;
}

describe('an issue of the log', () => {
  it('starts with no issue, unresolved, never seen, no buckets and no firing, under its key', () => {
    expect(emptyState(3, 'abc')).toEqual({ projectId: 3, hash: 'abc', generation: 0, groupId: null, status: 'unresolved', deletedAt: null, timesSeen: 0, firstSeen: 0, minutes: [], hours: [], lastFired: {} });
    expect(stateKey(3, 'abc')).toBe('3/issue/abc');
  });

  it("given no issue yet, when an event comes, then the issue the projector opens (its id), first seen then, in this minute's and this hour's bucket", () => {
    const at = T + 25 * MINUTE + 30_000;
    expect(observeEvent(fresh, at)).toEqual({
      kind: 'counted',
      groupId: issueId(3, 'abc', 0),
      firstSeen: true,
      regression: false,
      state: { ...fresh, groupId: issueId(3, 'abc', 0), timesSeen: 1, firstSeen: at, minutes: [{ start: T + 25 * MINUTE, count: 1 }], hours: [{ start: T, count: 1 }] },
    });
  });

  it('given an issue, when more events come in the same minute, in a later one and (late) in an earlier one, then the buckets count them in order of time', () => {
    const first = counted(fresh, T + 5 * MINUTE).state;
    const second = counted(first, T + 5 * MINUTE + 59_999);
    expect(second).toMatchObject({ firstSeen: false, regression: false, groupId: issueId(3, 'abc', 0) });
    expect(second.state).toMatchObject({ timesSeen: 2, firstSeen: T + 5 * MINUTE, minutes: [{ start: T + 5 * MINUTE, count: 2 }], hours: [{ start: T, count: 2 }] });
    const later = counted(second.state, T + 7 * MINUTE).state;
    const late = counted(later, T + 2 * MINUTE).state;
    expect(late.minutes).toEqual([{ start: T + 2 * MINUTE, count: 1 }, { start: T + 5 * MINUTE, count: 2 }, { start: T + 7 * MINUTE, count: 1 }]);
    expect(late.hours).toEqual([{ start: T, count: 4 }]);
    expect(late.firstSeen).toBe(T + 5 * MINUTE);
    // One more in the middle minute counts there only.
    expect(counted(late, T + 5 * MINUTE + 1).state.minutes).toEqual([{ start: T + 2 * MINUTE, count: 1 }, { start: T + 5 * MINUTE, count: 3 }, { start: T + 7 * MINUTE, count: 1 }]);
  });

  it('keeps minute buckets that started less than an hour before the event, and hour buckets less than 30 days before', () => {
    const at = T + 2 * HOUR;
    const before: NotifierIssueState = {
      ...fresh, groupId: 9, timesSeen: 4,
      minutes: [{ start: at - HOUR, count: 1 }, { start: at - HOUR + MINUTE, count: 1 }],
      hours: [{ start: at - 30 * DAY, count: 1 }, { start: at - 30 * DAY + HOUR, count: 1 }],
    };
    const { state } = counted(before, at);
    expect(state.minutes).toEqual([{ start: at - HOUR + MINUTE, count: 1 }, { start: at, count: 1 }]);
    expect(state.hours).toEqual([{ start: at - 30 * DAY + HOUR, count: 1 }, { start: at, count: 1 }]);
  });

  it("given an issue with buckets, when an event comes in the newest minute, then only that minute and hour count it, the others stay as they were", () => {
    const at = T + 2 * HOUR + 5 * MINUTE + 1;
    const before: NotifierIssueState = {
      ...fresh, groupId: 9, timesSeen: 7,
      minutes: [{ start: T + HOUR + 30 * MINUTE, count: 2 }, { start: T + 2 * HOUR + 4 * MINUTE, count: 1 }, { start: T + 2 * HOUR + 5 * MINUTE, count: 4 }],
      hours: [{ start: T, count: 3 }, { start: T + 2 * HOUR, count: 4 }],
    };
    const { state } = counted(before, at);
    expect(state.minutes).toEqual([{ start: T + HOUR + 30 * MINUTE, count: 2 }, { start: T + 2 * HOUR + 4 * MINUTE, count: 1 }, { start: T + 2 * HOUR + 5 * MINUTE, count: 5 }]);
    expect(state.hours).toEqual([{ start: T, count: 3 }, { start: T + 2 * HOUR, count: 5 }]);
    // The state before is left as it was.
    expect(before.minutes.at(-1)).toEqual({ start: T + 2 * HOUR + 5 * MINUTE, count: 4 });
    expect(before.hours.at(-1)).toEqual({ start: T + 2 * HOUR, count: 4 });
    // In the newest minute, but the oldest minute is an hour old by then: it goes.
    expect(counted(before, T + 2 * HOUR + 30 * MINUTE).state.minutes.map((bucket) => bucket.start)).toEqual([T + 2 * HOUR + 4 * MINUTE, T + 2 * HOUR + 5 * MINUTE, T + 2 * HOUR + 30 * MINUTE]);
    // In the newest minute, the oldest started an hour and a millisecond before the event: it goes; one started under an hour before stays.
    const hourOld = { ...before, minutes: [{ start: T + HOUR + 5 * MINUTE, count: 1 }, { start: T + 2 * HOUR + 5 * MINUTE, count: 4 }] };
    expect(counted(hourOld, at).state.minutes).toEqual([{ start: T + 2 * HOUR + 5 * MINUTE, count: 5 }]);
    expect(counted(hourOld, T + 2 * HOUR + 5 * MINUTE).state.minutes).toEqual([{ start: T + 2 * HOUR + 5 * MINUTE, count: 5 }]);
    const underAnHour = { ...before, minutes: [{ start: T + HOUR + 6 * MINUTE, count: 1 }, { start: T + 2 * HOUR + 5 * MINUTE, count: 4 }] };
    expect(counted(underAnHour, at).state.minutes).toEqual([{ start: T + HOUR + 6 * MINUTE, count: 1 }, { start: T + 2 * HOUR + 5 * MINUTE, count: 5 }]);
  });

  it('given a resolved issue, when an event comes, then a regression, unresolved again; an ignored issue stays ignored', () => {
    const resolved: NotifierIssueState = { ...fresh, groupId: 9, status: 'resolved', timesSeen: 1, firstSeen: T };
    expect(counted(resolved, T + MINUTE)).toMatchObject({ groupId: 9, firstSeen: false, regression: true, state: { status: 'unresolved', timesSeen: 2, firstSeen: T } });
    expect(counted({ ...resolved, status: 'ignored' }, T + MINUTE)).toMatchObject({ regression: false, state: { status: 'ignored' } });
    // With no issue yet there is nothing to regress.
    expect(counted({ ...fresh, status: 'resolved' }, T)).toMatchObject({ firstSeen: true, regression: false, state: { status: 'resolved' } });
  });

  it('given a deleted issue, then an event received before the request is ignored, one received at it or after opens the next issue', () => {
    const deleted = deleteIssue(counted(fresh, T).state, issueId(3, 'abc', 0), T + HOUR);
    expect(deleted).toEqual({ ...fresh, generation: 1, deletedAt: T + HOUR });
    expect(observeEvent(deleted, T + HOUR - 1)).toEqual({ kind: 'ignored' });
    expect(counted(deleted, T + HOUR)).toMatchObject({ groupId: issueId(3, 'abc', 1), firstSeen: true, state: { generation: 1, timesSeen: 1, firstSeen: T + HOUR } });
  });

  it('given a deletion of another issue of the hash, then nothing changes', () => {
    const state = counted(fresh, T).state;
    expect(deleteIssue(state, issueId(3, 'abc', 0) + 1, T + HOUR)).toBe(state);
  });

  it('changes the status, and remembers when each rule fired, keeping the others', () => {
    const state = counted(fresh, T).state;
    expect(changeStatus(state, 'resolved')).toEqual({ ...state, status: 'resolved' });
    const fired = markFired(markFired(state, 'r1', T), 'r2', T + 1);
    expect(fired).toEqual({ ...state, lastFired: { r1: T, r2: T + 1 } });
    expect(markFired(fired, 'r1', T + 2).lastFired).toEqual({ r1: T + 2, r2: T + 1 });
  });
});

describe('events within an interval', () => {
  const state: NotifierIssueState = {
    ...fresh, groupId: 9,
    minutes: [{ start: T - 2 * MINUTE, count: 1 }, { start: T - MINUTE, count: 2 }, { start: T, count: 4 }, { start: T + MINUTE, count: 8 }],
    hours: [{ start: T - 2 * HOUR, count: 16 }, { start: T - HOUR, count: 32 }, { start: T, count: 64 }, { start: T + HOUR, count: 128 }],
  };

  it.each<[string, number, number, number]>([
    // A bucket counts when it started after `at - interval` and not after `at`.
    ['a minute, at a bucket start', MINUTE, T, 4],
    ['a minute, just after it', MINUTE, T + 1, 4],
    ['two minutes', 2 * MINUTE, T, 2 + 4],
    ['three minutes', 3 * MINUTE, T, 1 + 2 + 4],
    ['an hour (still by the minute)', HOUR, T, 1 + 2 + 4],
    ['just over an hour (by the hour)', HOUR + 1, T, 32 + 64],
    ['two hours', 2 * HOUR, T + HOUR, 64 + 128],
    ['a day', DAY, T, 16 + 32 + 64],
  ])('within %s: %i events', (_, interval, at, events) => {
    expect(eventsWithin(state, interval, at)).toBe(events);
  });
});
