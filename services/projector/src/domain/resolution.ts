// Whether an event reopens a resolved issue (a regression), as Sentry's GroupResolution decides it.
// Releases are ordered by when each first appeared in the project's events (the log orders a
// project's events totally, so replay decides the same): a release first seen before the issue
// was resolved is older than the resolution, one first seen after it is newer.

export interface Resolution {
  /** Resolved in this release: an event of it or of a newer release regresses. */
  inRelease: string | null;
  /** Resolved in the release after this one: an event of a newer release regresses, of this one not. */
  inNextRelease: string | null;
  /** When the resolution was recorded (epoch ms). */
  resolvedAt: number;
}

export interface EventRelease {
  release: string | null;
  /** When the event's release first appeared in the project's events (epoch ms); null: never before. */
  releaseFirstSeen: number | null;
}

const isOlder = (event: EventRelease, resolution: Resolution) => event.releaseFirstSeen !== null && event.releaseFirstSeen < resolution.resolvedAt;

export function reopens(resolution: Resolution, event: EventRelease): boolean {
  const { inRelease, inNextRelease } = resolution;
  if (inRelease === null && inNextRelease === null) return true; // resolved outright: any new event regresses
  // An event without a release: Sentry assumes the application went from "no release" to
  // releases, so it is older than the resolution.
  if (event.release === null) return false;
  if (inNextRelease !== null) return event.release !== inNextRelease && !isOlder(event, resolution);
  if (event.release === inRelease) return true;
  return !isOlder(event, resolution);
}
