import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '@trapline/schemas';
import { groupHashes } from './grouping.ts';

// What grouping reads for a part an event leaves out: an exception without a type groups as one of
// type '', an event without a message (and nothing else to group by) as one with message ''.

const base: NormalizedEvent = { event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [] };

describe('parts left out', () => {
  it('an exception without a type groups as one of the empty type', () => {
    const untyped = groupHashes({ ...base, exception: { values: [{ value: 'boom' }] } } as NormalizedEvent);
    const emptyType = groupHashes({ ...base, exception: { values: [{ type: '', value: 'boom' }] } } as NormalizedEvent);
    expect(untyped).toEqual(emptyType);
  });

  it('an event without a message groups as one with the empty message', () => {
    expect(groupHashes(base)).toEqual(groupHashes({ ...base, message: '' }));
  });
});
