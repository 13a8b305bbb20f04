import type { Consumer, KafkaMessage } from 'kafkajs';

// The delayed-retry chain shared by the deleter and the notifier: a failed step goes to a retry
// topic with a growing due time and an attempt count, or to a dead-letter topic after the last
// attempt; a consumer of a delay or retry topic holds a partition still (paused, no busy loop,
// other partitions keep moving) until its head is due, then moves the step on.

export interface RetrySettings {
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

/** Exponential backoff of the attempt-th retry (1-based), capped. */
export function backoffMs(attempt: number, settings: Pick<RetrySettings, 'backoffMs' | 'maxBackoffMs'>): number {
  return Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** Math.max(0, attempt - 1));
}

/** Milliseconds until a held step may run; 0 when due. */
export function waitFor(step: { dueAt: number }, now: number): number {
  return Math.max(0, step.dueAt - now);
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

/** Pauses a consumer's partitions until their head is due, each with its own timer. */
export class DueGate {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly consumer: Pick<Consumer, 'pause' | 'resume'>) {}

  holdUntilDue(topic: string, partition: number, waitMs: number): void {
    const id = `${topic}/${partition}`;
    this.consumer.pause([{ topic, partitions: [partition] }]);
    clearTimeout(this.timers.get(id));
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        this.consumer.resume([{ topic, partitions: [partition] }]);
      }, waitMs),
    );
  }

  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

export interface ReleaseSteps<T extends { dueAt: number }, D> {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** The step a message carries, or its dead letter. */
  read(message: KafkaMessage): { step: T } | { deadLetter: D };
  now(): number;
  gate: DueGate;
  /** Moves a due step on (in a transaction with its offset). */
  release(step: T, message: KafkaMessage): Promise<void>;
  /** Dead-letters an unreadable message (in a transaction with its offset). */
  reject(deadLetter: D, message: KafkaMessage): Promise<void>;
}

/**
 * A batch of a delay or retry topic: due steps move on in order; at the first step not due yet the
 * partition is held until it is. Returns the last offset handled.
 */
export async function releaseDue<T extends { dueAt: number }, D>(steps: ReleaseSteps<T, D>): Promise<string | undefined> {
  let last: string | undefined;
  for (const message of steps.messages) {
    const read = steps.read(message);
    if ('step' in read) {
      const waitMs = waitFor(read.step, steps.now());
      if (waitMs > 0) {
        steps.gate.holdUntilDue(steps.topic, steps.partition, waitMs);
        break;
      }
      await steps.release(read.step, message);
    } else {
      await steps.reject(read.deadLetter, message);
    }
    last = message.offset;
  }
  return last;
}
