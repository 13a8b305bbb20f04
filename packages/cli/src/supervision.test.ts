import { describe, expect, it } from 'vitest';
import { describeExit, planRestart, RESTART_POLICY } from './supervision.ts';

describe('restarting a service that exited', () => {
  it.each([
    // previous quick exits, ran for, → quick exits, delay, crash loop
    [0, 500, 1, 1000, false],
    [1, 500, 2, 2000, false],
    [2, 500, 3, 4000, true],
    [5, 500, 6, 30_000, true],
    [9, 2000, 10, 30_000, true],
    [4, RESTART_POLICY.healthyRunMs, 1, 1000, false],
    [4, RESTART_POLICY.healthyRunMs - 1, 5, 16_000, true],
  ])('after %i quick exits and a run of %i ms: exit %i in a row, %i ms, crash loop %s', (previous, ranMs, quickExits, delayMs, crashLoop) => {
    expect(planRestart(previous, ranMs)).toEqual({ quickExits, delayMs, crashLoop });
  });

  it('says how the service ended and when it comes back', () => {
    expect(describeExit('projector', { code: null, signal: 'SIGKILL' }, 12_345, planRestart(0, 12_345))).toBe('projector was killed by SIGKILL after 12.3 s; restarting in 1 s (restart 1 in a row)');
    expect(describeExit('api', { code: 1, signal: null }, 300, planRestart(1, 300))).toBe('api exited with code 1 after 0.3 s; restarting in 2 s (restart 2 in a row)');
  });
});
