import { useEffect, useState } from 'react';
import { get } from './api.ts';

// The header's warning when acknowledged events are not becoming visible (the projector down or
// far behind), from Sentry's system health endpoint, checked every 15 s.

interface SystemHealth {
  healthy: Record<string, boolean>;
  problems: { id: string; message: string; severity: 'critical' | 'warning' }[];
}

const CHECK_EVERY_MS = 15_000;

export function SystemHealthBanner() {
  const [problems, setProblems] = useState<SystemHealth['problems']>([]);
  useEffect(() => {
    let current = true;
    const check = () =>
      get<SystemHealth>('/internal/health/').then(
        (answer) => current && setProblems(answer.data.problems),
        () => undefined, // the page's own requests show a failing API
      );
    void check();
    const timer = setInterval(() => void check(), CHECK_EVERY_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, []);
  return (
    <>
      {problems.map((problem) => (
        <p key={problem.id} className={`system-health ${problem.severity}`} role="alert">
          {problem.message}
        </p>
      ))}
    </>
  );
}
