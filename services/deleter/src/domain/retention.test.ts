import { describe, expect, it } from 'vitest';
import { dueRetention, type ProjectRetention } from './retention.ts';

const DAY = 24 * 60 * 60 * 1000;
const now = 1_800_000_000_000;
const project = (overrides: Partial<ProjectRetention>): ProjectRetention => ({ projectId: 1, retentionDays: null, oldest: now - 100 * DAY, running: false, ...overrides });

describe('what retention makes due', () => {
  it.each([
    ['the global default, with older events', project({}), [{ projectId: 1, cutoff: now - 90 * DAY }]],
    ['its own retention, shorter than the default', project({ retentionDays: 7, oldest: now - 8 * DAY }), [{ projectId: 1, cutoff: now - 7 * DAY }]],
    ['a fraction of a day (seconds, as in tests)', project({ retentionDays: 2 / 86400, oldest: now - 5000 }), [{ projectId: 1, cutoff: now - 2000 }]],
    ['nothing older than it keeps', project({ oldest: now - 89 * DAY }), []],
    ['no events at all', project({ oldest: null }), []],
    ['a retention deletion already under way', project({ running: true }), []],
  ])('a project with %s', (_case, state, expected) => {
    expect(dueRetention([state], 90, now)).toEqual(expected);
  });

  it('decides for each project on its own', () => {
    const due = dueRetention([project({ projectId: 1, retentionDays: 30 }), project({ projectId: 2, oldest: now - DAY }), project({ projectId: 3 })], 90, now);
    expect(due.map((entry) => entry.projectId)).toEqual([1, 3]);
  });
});
