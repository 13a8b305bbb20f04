import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueId } from './issue.ts';
import { NO_TOMBSTONES, pairKey, placeEvent, placeEvents, type IncomingEvent, type PlacementState, type Tombstone } from './placement.ts';

const empty = (): PlacementState => ({ seen: new Set(), tombstones: new Map(), live: new Map(), expiredBefore: null });
const event = (eventId: string, hash: string, receivedAt = 100, projectId = 1): IncomingEvent => ({ projectId, eventId, receivedAt, hash });

describe('placing a run of events', () => {
  it('creates a group for a new hash and joins the following events of the run to it', () => {
    const placements = placeEvents([event('a', 'h'), event('b', 'h'), event('c', 'g')], empty());
    expect(placements).toEqual([
      { kind: 'joined', groupId: issueId(1, 'h', 0), created: true },
      { kind: 'joined', groupId: issueId(1, 'h', 0), created: false },
      { kind: 'joined', groupId: issueId(1, 'g', 0), created: true },
    ]);
  });

  it('joins the live group of a known hash, per project', () => {
    const state = { ...empty(), live: new Map([['1/h', 77]]) };
    expect(placeEvents([event('a', 'h'), event('b', 'h', 100, 2)], state)).toEqual([
      { kind: 'joined', groupId: 77, created: false },
      { kind: 'joined', groupId: issueId(2, 'h', 0), created: true },
    ]);
  });

  it('counts an event id once, whether already projected or repeated in the run', () => {
    const state = { ...empty(), seen: new Set(['1/a']) };
    expect(placeEvents([event('a', 'h'), event('b', 'h'), event('b', 'h')], state).map((placement) => placement.kind)).toEqual(['duplicate', 'joined', 'duplicate']);
  });

  it.each([
    ['before the request, the group still there', 50, true, { kind: 'hidden', groupId: 9 }],
    ['before the request, the group purged', 50, false, { kind: 'dropped' }],
    ['after the request', 150, true, { kind: 'joined', groupId: issueId(1, 'h', 1), created: true }],
    ['at the request\'s own millisecond (not before it: a fresh group)', 100, true, { kind: 'joined', groupId: issueId(1, 'h', 1), created: true }],
  ])('places an event with a tombstoned hash received %s', (_when, receivedAt, present, expected) => {
    const state = { ...empty(), tombstones: new Map([['1/h', [{ groupId: 9, requestedAt: 100, present }]]]) };
    expect(placeEvents([event('a', 'h', receivedAt)], state)).toEqual([expected]);
  });

  it('gives the group after two deletions of its hash its own id, and an old event the group live at its time', () => {
    const tombstones = new Map([['1/h', [{ groupId: 9, requestedAt: 100, present: true }, { groupId: 10, requestedAt: 200, present: true }]]]);
    const placements = placeEvents([event('a', 'h', 150), event('b', 'h', 250)], { ...empty(), tombstones });
    expect(placements).toEqual([{ kind: 'hidden', groupId: 10 }, { kind: 'joined', groupId: issueId(1, 'h', 2), created: true }]);
  });

  it('does not change the state it was given', () => {
    const state = empty();
    placeEvents([event('a', 'h')], state);
    expect(state).toEqual(empty());
  });

  it('never projects again what expired with its partition (a replay of the log), however it would have grouped', () => {
    const state = { ...empty(), live: new Map([['1/h', 77]]), expiredBefore: 1000 };
    expect(placeEvents([event('a', 'h', 999), event('b', 'h', 1000), event('c', 'g', 10, 2)], state)).toEqual([
      { kind: 'expired' },
      { kind: 'joined', groupId: 77, created: false },
      { kind: 'expired' },
    ]);
  });

  it('places a run as one event at a time would, each knowing what the ones before it were given (the bulk load asks one at a time)', () => {
    const incoming = fc.record({ eventId: fc.constantFrom('a', 'b', 'c', 'd'), hash: fc.constantFrom('h', 'g', 'k'), receivedAt: fc.integer({ min: 0, max: 300 }), projectId: fc.constantFrom(1, 2) });
    const tombstone = fc.record({ groupId: fc.integer({ min: 1, max: 9 }), requestedAt: fc.integer({ min: 0, max: 300 }), present: fc.boolean() });
    fc.assert(fc.property(
      fc.array(incoming, { maxLength: 25 }),
      fc.dictionary(fc.constantFrom('1/h', '2/g', '1/k'), fc.array(tombstone, { maxLength: 2 })),
      fc.dictionary(fc.constantFrom('1/h', '2/h', '1/g'), fc.integer({ min: 10, max: 20 })),
      fc.constantFrom(null, 50, 200),
      (events, tombstoneLists, liveGroups, expiredBefore) => {
        const tombstones = new Map(Object.entries(tombstoneLists).map(([key, list]): [string, Tombstone[]] => [key, [...list].sort((a, b) => a.requestedAt - b.requestedAt)]));
        const state: PlacementState = { seen: new Set(['1/a']), tombstones, live: new Map(Object.entries(liveGroups)), expiredBefore };
        const seen = new Set(state.seen);
        const live = new Map(state.live);
        const oneByOne = events.map((one) => {
          const hashKey = pairKey(one.projectId, one.hash);
          const placement = placeEvent(one, seen.has(pairKey(one.projectId, one.eventId)), tombstones.get(hashKey) ?? NO_TOMBSTONES, live.get(hashKey), expiredBefore);
          if (placement.kind !== 'duplicate' && placement.kind !== 'expired') seen.add(pairKey(one.projectId, one.eventId));
          if (placement.kind === 'joined') live.set(hashKey, placement.groupId);
          return placement;
        });
        expect(placeEvents(events, state)).toEqual(oneByOne);
      },
    ));
  });
});
