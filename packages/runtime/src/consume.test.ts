import { describe, expect, it } from 'vitest';
import { inHandlingOrder } from './consume.ts';

// The order of one cycle's batches: a consumer waiting on some of its topics (the notifier's
// deliveries) has them handled before the rest of the cycle.

const batch = (topic: string, partition: number) => ({ topic, partition });

describe('inHandlingOrder', () => {
  it.each([
    { given: 'no first topics', first: [], batches: [batch('events', 0), batch('run', 0)], then: ['events/0', 'run/0'] },
    { given: 'a first topic polled last', first: ['run'], batches: [batch('events', 0), batch('events', 1), batch('run', 0)], then: ['run/0', 'events/0', 'events/1'] },
    { given: 'two first topics, in their order', first: ['run', 'retry'], batches: [batch('retry', 0), batch('events', 0), batch('run', 1), batch('run', 0)], then: ['run/1', 'run/0', 'retry/0', 'events/0'] },
    { given: 'a first topic not polled this cycle', first: ['run'], batches: [batch('events', 1), batch('events', 0)], then: ['events/1', 'events/0'] },
  ])('$given', ({ first, batches, then }) => {
    expect(inHandlingOrder(batches, first).map(({ topic, partition }) => `${topic}/${partition}`)).toEqual(then);
  });
});
