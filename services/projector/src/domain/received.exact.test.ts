import { describe, expect, it } from 'vitest';
import type { EventReceived, NormalizedEvent } from '@trapline/schemas';
import { parseEvent } from './received.ts';

// The parse's defaults and its refusal text exactly: no offset known is -1, a payload that is not
// JSON names the JSON error.

const event: NormalizedEvent = { event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'node', tags: [] };
const given = (overrides: Partial<EventReceived> = {}): EventReceived => ({ projectId: 1, eventId: event.event_id, receivedAt: 1_000, keyId: 'k', payload: JSON.stringify(event), ...overrides });
const offsetOf = (result: ReturnType<typeof parseEvent>) => (result.ok ? result.parsed.offset : result.reason);

describe('no offset known', () => {
  it('is -1 for a record given without its offset', () => {
    expect(offsetOf(parseEvent(given()))).toBe(-1);
  });
});

describe('a payload that is not JSON', () => {
  it("is refused with the JSON parser's message", () => {
    const payload = '{"event_id":';
    let message = '';
    try {
      JSON.parse(payload);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    expect(parseEvent(given({ payload }))).toEqual({ ok: false, reason: `EventReceived payload is not a normalized event: ${message}` });
  });
});
