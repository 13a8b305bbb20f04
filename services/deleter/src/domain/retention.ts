// Retention, pure: which projects have events older than they keep, and from when.

export interface ProjectRetention {
  projectId: number;
  /** Days the project keeps its events; null: the global default. */
  retentionDays: number | null;
  /** When its oldest event was received (epoch ms); null: no events. */
  oldest: number | null;
  /** A retention deletion for it is under way already. */
  running: boolean;
}

export interface RetentionDue {
  projectId: number;
  /** Events received before this (epoch ms) go. */
  cutoff: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Projects with events past their retention and no retention deletion under way, at `now`. */
export function dueRetention(projects: ProjectRetention[], defaultDays: number, now: number): RetentionDue[] {
  return projects.flatMap((project) => {
    const cutoff = now - Math.round((project.retentionDays ?? defaultDays) * DAY_MS);
    return !project.running && project.oldest !== null && project.oldest < cutoff ? [{ projectId: project.projectId, cutoff }] : [];
  });
}
