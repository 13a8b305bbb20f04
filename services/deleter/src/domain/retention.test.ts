import { describe, expect, it } from 'vitest';
import { dueExpiry, dueRetention, longestRetentionDays, type ProjectRetention } from './retention.ts';

const DAY = 24 * 60 * 60 * 1000;
const now = 1_800_000_000_000;
const project = (overrides: Partial<ProjectRetention>): ProjectRetention => ({ projectId: 1, retentionDays: 30, oldest: now - 100 * DAY, running: false, ...overrides });

describe('what retention makes due, row by row', () => {
  it.each([
    ['its own retention, shorter than the default', project({ retentionDays: 7, oldest: now - 8 * DAY }), [{ projectId: 1, cutoff: now - 7 * DAY }]],
    ['a fraction of a day (seconds, as in tests)', project({ retentionDays: 2 / 86400, oldest: now - 5000 }), [{ projectId: 1, cutoff: now - 2000 }]],
    ['nothing older than it keeps', project({ oldest: now - 29 * DAY }), []],
    ['no events at all', project({ oldest: null }), []],
    ['its oldest event exactly at its cutoff', project({ retentionDays: 7, oldest: now - 7 * DAY }), []],
    ['a retention deletion already under way', project({ running: true }), []],
    ['the global default: the longest, so its old events leave with whole partitions', project({ retentionDays: null }), []],
    ['the longest retention of all (as long as the default)', project({ retentionDays: 90 }), []],
  ])('a project with %s', (_case, state, expected) => {
    expect(dueRetention([state], 90, now)).toEqual(expected);
  });

  it('decides for each project on its own, against the longest retention of all', () => {
    const projects = [project({ projectId: 1 }), project({ projectId: 2, oldest: now - DAY }), project({ projectId: 3, retentionDays: 120 }), project({ projectId: 4, retentionDays: null })];
    expect(longestRetentionDays(projects, 90)).toBe(120);
    // Project 4 keeps the default (90 days), shorter than project 3's 120: it needs its own run.
    expect(dueRetention(projects, 90, now).map((entry) => entry.projectId)).toEqual([1, 4]);
  });
});

describe('what expires as whole partitions', () => {
  const day = (n: number) => ({ from: (now - n * DAY) / 1000, to: (now - (n - 1) * DAY) / 1000 });
  it('is everything before the end of the newest partition wholly older than the longest retention', () => {
    expect(dueExpiry([day(95), day(93), day(91), day(90), day(1)], 90, now)).toBe(now - 90 * DAY);
  });
  it('is nothing while every partition still holds something kept', () => {
    expect(dueExpiry([day(90), day(3)], 90, now)).toBeNull();
    expect(dueExpiry([], 90, now)).toBeNull();
  });
  it('follows the longest retention, in seconds as well as days', () => {
    const seconds = [{ from: now / 1000 - 10, to: now / 1000 - 8 }, { from: now / 1000 - 8, to: now / 1000 - 6 }, { from: now / 1000 - 6, to: now / 1000 - 4 }];
    expect(dueExpiry(seconds, 7 / 86400, now)).toBe(now - 8000);
  });
});
