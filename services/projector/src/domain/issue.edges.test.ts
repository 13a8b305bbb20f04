import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '@trapline/schemas';
import { describeIssue, eventTags } from './issue.ts';

// Two edges of issue facts: a synthetic exception with neither a value nor a message, and a long
// tag value with a surrogate pair well inside its first 200 characters.

const event = (overrides: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [], ...overrides,
});

describe('issue facts at their edges', () => {
  it('titles a synthetic exception with no value and no message as an unlabeled event', () => {
    const facts = describeIssue(event({ exception: { values: [{ type: 'x', mechanism: { type: 'generic', synthetic: true } }] } } as Partial<NormalizedEvent>));
    expect(facts.title).toBe('<unlabeled event>');
    expect(facts.metadata).toEqual({ value: '<unlabeled event>' });
  });

  it('cuts a long tag value at 200 characters, keeping a surrogate pair inside them whole', () => {
    const value = `a\u{1F600}${'b'.repeat(300)}`;
    expect(eventTags(event({ tags: [['note', value]] }))).toContainEqual(['note', value.slice(0, 200)]);
  });
});
