// How `npm start` restarts a service that exited: at once-ish, then with a doubling delay while
// it keeps exiting soon after each start, and a clear "crash loop" once that has happened a few
// times in a row (docker-compose's `restart: unless-stopped` does the same for containers).

export const RESTART_POLICY = {
  firstDelayMs: 1000,
  maxDelayMs: 30_000,
  /** A run this long counts as healthy: the next exit starts the backoff again. */
  healthyRunMs: 60_000,
  /** Exits in a row, each soon after its start, that make a crash loop. */
  crashLoopExits: 3,
} as const;

export interface RestartPlan {
  /** Exits in a row that came soon after their start, this one included. */
  quickExits: number;
  delayMs: number;
  crashLoop: boolean;
}

/** The plan after an exit, from the run that just ended and the quick exits before it. */
export function planRestart(previousQuickExits: number, ranMs: number, policy = RESTART_POLICY): RestartPlan {
  const quickExits = ranMs >= policy.healthyRunMs ? 1 : previousQuickExits + 1;
  return {
    quickExits,
    delayMs: Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (quickExits - 1)),
    crashLoop: quickExits >= policy.crashLoopExits,
  };
}

/** One line an operator reads: which service, how it ended, when it comes back. */
export function describeExit(key: string, exit: { code: number | null; signal: string | null }, ranMs: number, plan: RestartPlan): string {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return `${key} ${how} after ${(ranMs / 1000).toFixed(1)} s; restarting in ${plan.delayMs / 1000} s (restart ${plan.quickExits} in a row)`;
}
