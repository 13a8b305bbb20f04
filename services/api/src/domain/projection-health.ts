// Whether what ingest acknowledged becomes visible: the projector is running and keeping up.
// Answered in the shape of Sentry's system health (`/api/0/internal/health/`), whose problems the
// web UI shows in its header, so "acknowledged but not visible" is never silent.

/** More records waiting than this is "far behind" (minutes of traffic at the projector's rates). */
export const FAR_BEHIND_RECORDS = 10_000;

export interface ProjectionState {
  /** Live members of the projector's consumer group. */
  members: number;
  /** Records on the projector's topics past where the read models stand. */
  lag: number;
}

export interface HealthProblem {
  id: string;
  message: string;
  severity: 'critical' | 'warning';
  url: null;
}

export interface SystemHealth {
  healthy: Record<string, boolean>;
  problems: HealthProblem[];
}

export function projectionProblems(state: ProjectionState): HealthProblem[] {
  if (state.members === 0) {
    return [{ id: 'projector-down', severity: 'critical', url: null, message: `The projector is not running: events are acknowledged but do not appear (${state.lag} records waiting).` }];
  }
  if (state.lag > FAR_BEHIND_RECORDS) {
    return [{ id: 'projector-behind', severity: 'warning', url: null, message: `The projector is ${state.lag} records behind: new events and changes appear late.` }];
  }
  return [];
}

export function systemHealth(state: ProjectionState | Error): SystemHealth {
  const problems = state instanceof Error
    ? [{ id: 'projector-unknown', severity: 'warning' as const, url: null, message: `Whether the projector keeps up is unknown: ${state.message}` }]
    : projectionProblems(state);
  return { healthy: { projector: problems.length === 0 }, problems };
}
