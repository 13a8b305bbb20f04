// Releasing held steps from delay and retry topics, pure; the one function the deleter (its delay
// and retry topics) and the notifier (its alert retries) share. A partition of those topics is a
// queue in arrival order, not in due order: a request held for an hour may come before one held
// for five seconds (the deletion delay was lowered), and a retry with a long backoff before one
// with a short one. Waiting for the head would hold the later-due step behind it.
//
// So a consumer reads ahead: of what it has read, it handles everything up to the last step that
// is due, releasing the due ones to `run` and putting the others not yet due back at the tail of
// their topic (in due order), in transactions that commit the input offset with the appends: every
// step is released exactly once, and nothing waits in memory past a crash. What follows the last
// due step stays where it is; the partition is read again when its earliest step is due, or after
// `recheckMs` at the most, since a step due sooner may have arrived behind it meanwhile.

/** A record read from a delay or retry partition: a step with its due time, or unreadable (dueAt null: dead-lettered at once). */
export interface HeldRecord<T> {
  offset: string;
  dueAt: number | null;
  item: T;
}

/** One transaction: what it releases, puts back and dead-letters, and the offset it commits past. */
export interface HeldTransaction<T> {
  released: T[];
  /** Not due yet: appended again to the tail of the topic, earliest due first. */
  deferred: T[];
  deadLettered: T[];
  through: string;
}

export interface HeldPlan<T> {
  transactions: HeldTransaction<T>[];
  /** When to read the partition again, or undefined: when new records arrive. */
  recheckMs: number | undefined;
}

export interface HeldSettings {
  /** The longest a partition goes unread while it holds steps not due (a sooner one may arrive behind them). */
  recheckMs: number;
  /** Records per transaction, so one stays well below the broker's request size. */
  perTransaction: number;
}

const isDue = (record: HeldRecord<unknown>, now: number) => record.dueAt === null || record.dueAt <= now;

export function planHeld<T>(records: HeldRecord<T>[], now: number, settings: HeldSettings): HeldPlan<T> {
  let lastDue = records.length - 1;
  while (lastDue >= 0 && !isDue(records[lastDue]!, now)) lastDue -= 1;
  const handled = records.slice(0, lastDue + 1);
  const waiting = records.slice(lastDue + 1);
  const transactions: HeldTransaction<T>[] = [];
  for (let start = 0; start < handled.length; start += settings.perTransaction) {
    const part = handled.slice(start, start + settings.perTransaction);
    transactions.push({
      released: part.filter((record) => record.dueAt !== null && record.dueAt <= now).map((record) => record.item),
      deferred: part
        .filter((record) => !isDue(record, now))
        .sort((a, b) => a.dueAt! - b.dueAt!)
        .map((record) => record.item),
      deadLettered: part.filter((record) => record.dueAt === null).map((record) => record.item),
      through: part.at(-1)!.offset,
    });
  }
  const earliest = Math.min(...waiting.map((record) => record.dueAt!));
  return { transactions, recheckMs: waiting.length === 0 ? undefined : Math.min(settings.recheckMs, earliest - now) };
}
