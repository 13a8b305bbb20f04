import { systemHealth, type ProjectionState } from '../domain/projection-health.ts';
import type { ApiContext, ZodApp } from './context.ts';

// Sentry's system health (`/api/0/internal/health/`): what keeps acknowledged events from showing,
// for the web UI's header and for scripts.

export function healthRoutes(app: ZodApp, context: ApiContext, projection: (() => Promise<ProjectionState>) | undefined): void {
  app.get('/api/0/internal/health/', { schema: { tags: ['Health'], summary: 'Whether acknowledged events become visible: the projector running and keeping up' } }, async (request) => {
    await context.authenticate(request, 'org:read');
    if (!projection) return systemHealth({ members: 1, lag: 0 });
    return systemHealth(await projection().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
  });
}
