import { issueId } from './issue.ts';

// Where each event of a run of EventReceived records goes, decided in log order from what the
// read model held before the run: the same answers as applying the events one at a time, so a
// batch of any size projects exactly like a single record (and a rebuild like the live projector).

export interface IncomingEvent {
  projectId: number;
  eventId: string;
  receivedAt: number;
  hash: string;
}

export interface Tombstone {
  groupId: number;
  requestedAt: number;
  /** The deleted group's row is still there (its purge has not finished). */
  present: boolean;
}

/** What the read model held for the run's events and hashes. */
export interface PlacementState {
  /** `project/event` of events already projected. */
  seen: Set<string>;
  /** Per `project/hash`, the tombstones of its deleted groups, oldest request first. */
  tombstones: Map<string, Tombstone[]>;
  /** Per `project/hash`, its live group. */
  live: Map<string, number>;
  /** Everything received before this (epoch ms) has expired for every project; null: nothing has. */
  expiredBefore: number | null;
}

export type Placement =
  | { kind: 'duplicate' }
  /** Received before the expiry horizon (a replay of the log): expired already, never projected again. */
  | { kind: 'expired' }
  /** Received before its group was deleted, whose row is gone: nothing to keep. */
  | { kind: 'dropped' }
  /** Received before its group was deleted: joins it hidden, so the group's purge takes it too. */
  | { kind: 'hidden'; groupId: number }
  | { kind: 'joined'; groupId: number; created: boolean };

export const pairKey = (projectId: number, value: string) => `${projectId}/${value}`;

/** A hash without deleted groups. */
export const NO_TOMBSTONES: readonly Tombstone[] = [];

export function placeEvents(events: IncomingEvent[], state: PlacementState): Placement[] {
  const seen = new Set(state.seen);
  const live = new Map(state.live);
  return events.map((event) => {
    const eventKey = pairKey(event.projectId, event.eventId);
    const hashKey = pairKey(event.projectId, event.hash);
    const placement = placeEvent(event, seen.has(eventKey), state.tombstones.get(hashKey) ?? NO_TOMBSTONES, live.get(hashKey), state.expiredBefore);
    if (placement.kind !== 'duplicate' && placement.kind !== 'expired') seen.add(eventKey);
    if (placement.kind === 'joined' && placement.created) live.set(hashKey, placement.groupId);
    return placement;
  });
}

/**
 * One event's place from what is known of it: whether its id was projected already, its hash's
 * tombstones (oldest request first) and live group. `placeEvents` is this over a run, each event's
 * answer joining what the next ones know; the rebuild's bulk load asks it one event at a time.
 */
export function placeEvent(event: IncomingEvent, seen: boolean, tombstones: readonly Tombstone[], live: number | undefined, expiredBefore: number | null): Placement {
  if (seen) return { kind: 'duplicate' };
  if (expiredBefore !== null && event.receivedAt < expiredBefore) return { kind: 'expired' };
  const deleted = tombstones.find((tombstone) => tombstone.requestedAt > event.receivedAt);
  if (deleted) return deleted.present ? { kind: 'hidden', groupId: deleted.groupId } : { kind: 'dropped' };
  if (live !== undefined) return { kind: 'joined', groupId: live, created: false };
  return { kind: 'joined', groupId: issueId(event.projectId, event.hash, tombstones.length), created: true };
}
