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

export function placeEvents(events: IncomingEvent[], state: PlacementState): Placement[] {
  const seen = new Set(state.seen);
  const live = new Map(state.live);
  return events.map((event) => {
    const eventKey = pairKey(event.projectId, event.eventId);
    if (seen.has(eventKey)) return { kind: 'duplicate' };
    if (state.expiredBefore !== null && event.receivedAt < state.expiredBefore) return { kind: 'expired' };
    seen.add(eventKey);
    const hashKey = pairKey(event.projectId, event.hash);
    const tombstones = state.tombstones.get(hashKey) ?? [];
    const deleted = tombstones.find((tombstone) => tombstone.requestedAt > event.receivedAt);
    if (deleted) return deleted.present ? { kind: 'hidden', groupId: deleted.groupId } : { kind: 'dropped' };
    const existing = live.get(hashKey);
    if (existing !== undefined) return { kind: 'joined', groupId: existing, created: false };
    const groupId = issueId(event.projectId, event.hash, tombstones.length);
    live.set(hashKey, groupId);
    return { kind: 'joined', groupId, created: true };
  });
}
