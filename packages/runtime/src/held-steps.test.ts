import { describe, expect, it } from 'vitest';
import { planHeld, type HeldRecord } from './held-steps.ts';

const settings = { recheckMs: 1000, perTransaction: 100 };
const now = 1_000_000;

/** Records named by letter, at offsets 0, 1, …, due at now + the given delay (null: unreadable). */
const partition = (...delays: [string, number | null][]): HeldRecord<string>[] =>
  delays.map(([name, delay], offset) => ({ offset: String(offset), dueAt: delay === null ? null : now + delay, item: name }));

describe('releasing held steps', () => {
  it.each([
    {
      case: 'a step due sooner behind one due in an hour is released now; the hour-long one goes back to the tail',
      records: partition(['hour', 3_600_000], ['soon', 0]),
      transactions: [{ released: ['soon'], deferred: ['hour'], deadLettered: [], through: '1' }],
      recheckMs: undefined,
    },
    {
      case: 'nothing due: nothing committed, looked at again after the recheck bound',
      records: partition(['hour', 3_600_000], ['five seconds', 5000]),
      transactions: [],
      recheckMs: 1000,
    },
    {
      case: 'nothing due and the earliest due within the bound: looked at again when it is due',
      records: partition(['later', 3000], ['shortly', 250]),
      transactions: [],
      recheckMs: 250,
    },
    {
      case: 'due steps in arrival order are released in order, in one transaction',
      records: partition(['a', -20], ['b', -10], ['c', 0]),
      transactions: [{ released: ['a', 'b', 'c'], deferred: [], deadLettered: [], through: '2' }],
      recheckMs: undefined,
    },
    {
      case: 'what follows the last due step stays, and sets when to look again',
      records: partition(['a', 0], ['b', 600], ['c', 400]),
      transactions: [{ released: ['a'], deferred: [], deadLettered: [], through: '0' }],
      recheckMs: 400,
    },
    {
      case: 'retries with different backoffs: the short one is released, the long ones go back earliest first',
      records: partition(['backoff 8 s', 8000], ['backoff 4 s', 4000], ['backoff 1 s', -1], ['backoff 2 s', 2000]),
      transactions: [{ released: ['backoff 1 s'], deferred: ['backoff 4 s', 'backoff 8 s'], deadLettered: [], through: '2' }],
      recheckMs: 1000,
    },
    {
      case: 'an unreadable record is dead-lettered at once and never blocks',
      records: partition(['hour', 3_600_000], ['poison', null]),
      transactions: [{ released: [], deferred: ['hour'], deadLettered: ['poison'], through: '1' }],
      recheckMs: undefined,
    },
    {
      case: 'an empty read plans nothing',
      records: partition(),
      transactions: [],
      recheckMs: undefined,
    },
  ])('$case', ({ records, transactions, recheckMs }) => {
    expect(planHeld(records, now, settings)).toEqual({ transactions, recheckMs });
  });

  it('splits what it handles into bounded transactions, each committing past its own last record', () => {
    const records = partition(...Array.from({ length: 250 }, (_, n): [string, number] => [`s${n}`, n % 2 === 0 ? 60_000 : 0]));
    const { transactions } = planHeld(records, now, settings);
    expect(transactions.map((transaction) => transaction.through)).toEqual(['99', '199', '249']);
    expect(transactions.map((transaction) => transaction.released.length + transaction.deferred.length)).toEqual([100, 100, 50]);
    // Every record handled exactly once across the transactions.
    const handled = transactions.flatMap((transaction) => [...transaction.released, ...transaction.deferred]);
    expect(new Set(handled)).toEqual(new Set(records.map((record) => record.item)));
    expect(handled).toHaveLength(records.length);
  });

  it('puts the steps it defers back in due order, so a partition read in reverse due order settles after one pass', () => {
    // Due in an hour, 50 min, …, 10 min, then one due now: the next reads meet them earliest first.
    const reversed = partition(...[60, 50, 40, 30, 20, 10].map((minutes): [string, number] => [`${minutes} min`, minutes * 60_000]), ['now', 0]);
    const first = planHeld(reversed, now, settings);
    expect(first.transactions[0]!.deferred).toEqual(['10 min', '20 min', '30 min', '40 min', '50 min', '60 min']);
    // Twenty minutes on, the tail in that order: exactly the two due go, nothing is put back.
    const tail = first.transactions[0]!.deferred.map((name, offset) => ({ offset: String(7 + offset), dueAt: now + Number(name.split(' ')[0]) * 60_000, item: name }));
    const later = planHeld(tail, now + 20 * 60_000, settings);
    expect(later.transactions).toEqual([{ released: ['10 min', '20 min'], deferred: [], deadLettered: [], through: '8' }]);
    expect(later.recheckMs).toBe(1000);
  });
});
