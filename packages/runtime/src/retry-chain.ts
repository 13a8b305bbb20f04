// The delayed-retry chain shared by the deleter and the notifier: a failed step goes to a retry
// topic with a growing due time and an attempt count, or to a dead-letter topic after the last
// attempt; a consumer of a delay or retry topic moves on what is due, whatever its place
// (planHeld, held-steps.ts), and holds the partition still (the consume loop's `holdFor`: paused,
// no busy loop, other partitions keep moving) until the earliest of the rest is due.

export interface RetrySettings {
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

/** Exponential backoff of the attempt-th retry (1-based), capped. */
export function backoffMs(attempt: number, settings: Pick<RetrySettings, 'backoffMs' | 'maxBackoffMs'>): number {
  return Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** Math.max(0, attempt - 1));
}

export type AttemptPlan = { outcome: 'retry' | 'dead'; attempt: number; dueAt: number };

/**
 * What follows a failed attempt: the retry topic, due after the backoff, or (out of attempts, or a
 * failure that no retry can mend) the dead-letter topic.
 */
export function planAttemptFailure(previousAttempts: number, settings: RetrySettings, now: number, options: { permanent?: boolean } = {}): AttemptPlan {
  const attempt = previousAttempts + 1;
  const dead = options.permanent === true || attempt >= settings.maxAttempts;
  return { outcome: dead ? 'dead' : 'retry', attempt, dueAt: dead ? now : now + backoffMs(attempt, settings) };
}
