import { describe, expect, it } from 'vitest';
import { FAR_BEHIND_RECORDS, systemHealth } from './projection-health.ts';

// The system health answer, whole: given the projector's group and lag (or the error reading them),
// then exactly what the web UI's header shows.

describe("the projection's health, exactly", () => {
  it('far behind is more than ten thousand records', () => {
    expect(FAR_BEHIND_RECORDS).toBe(10_000);
  });

  it.each([
    [{ members: 1, lag: 0 }, { healthy: { projector: true }, problems: [] }],
    [{ members: 3, lag: 10_000 }, { healthy: { projector: true }, problems: [] }],
    [
      { members: 0, lag: 7 },
      {
        healthy: { projector: false },
        problems: [{ id: 'projector-down', severity: 'critical', url: null, message: 'The projector is not running: events are acknowledged but do not appear (7 records waiting).' }],
      },
    ],
    // Down wins over behind: the records wait because nothing reads them.
    [
      { members: 0, lag: 20_000 },
      {
        healthy: { projector: false },
        problems: [{ id: 'projector-down', severity: 'critical', url: null, message: 'The projector is not running: events are acknowledged but do not appear (20000 records waiting).' }],
      },
    ],
    [
      { members: 1, lag: 10_001 },
      {
        healthy: { projector: false },
        problems: [{ id: 'projector-behind', severity: 'warning', url: null, message: 'The projector is 10001 records behind: new events and changes appear late.' }],
      },
    ],
    [
      new Error('broker unreachable'),
      {
        healthy: { projector: false },
        problems: [{ id: 'projector-unknown', severity: 'warning', url: null, message: 'Whether the projector keeps up is unknown: broker unreachable' }],
      },
    ],
  ])('%j answers %j', (state, expected) => {
    expect(systemHealth(state)).toStrictEqual(expected);
  });
});
