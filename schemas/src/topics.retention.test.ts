import { expect, it } from 'vitest';
import { TOPIC_SPECS } from './topics.ts';

// The retention the README promises for the deletions' chain (7 days), in the broker's milliseconds.
it('keeps the deletion steps for 7 days and erased payloads\' tombstones for a day', () => {
  for (const id of ['deletionsDelay', 'deletionsRun', 'deletionsRetry'] as const) expect(TOPIC_SPECS[id].configs['retention.ms'], id).toBe('604800000');
  expect(TOPIC_SPECS.events.configs['delete.retention.ms']).toBe('86400000');
});
