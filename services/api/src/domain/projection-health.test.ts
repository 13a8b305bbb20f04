import { describe, expect, it } from 'vitest';
import { FAR_BEHIND_RECORDS, systemHealth } from './projection-health.ts';

describe('the projection\'s health', () => {
  it.each([
    [{ members: 1, lag: 0 }, true, []],
    [{ members: 2, lag: FAR_BEHIND_RECORDS }, true, []],
    [{ members: 1, lag: FAR_BEHIND_RECORDS + 1 }, false, ['projector-behind']],
    [{ members: 0, lag: 0 }, false, ['projector-down']],
    [{ members: 0, lag: 25 }, false, ['projector-down']],
    [new Error('broker unreachable'), false, ['projector-unknown']],
  ])('%j: healthy %s, problems %j', (state, healthy, ids) => {
    const health = systemHealth(state);
    expect(health.healthy).toEqual({ projector: healthy });
    expect(health.problems.map((problem) => problem.id)).toEqual(ids);
  });

  it('says how many records wait when the projector is down', () => {
    expect(systemHealth({ members: 0, lag: 25 }).problems[0]).toMatchObject({ severity: 'critical', message: expect.stringContaining('25 records waiting') });
  });
});
