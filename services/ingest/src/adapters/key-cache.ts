import type { Logger, Pool } from '@trapline/runtime';
import type { ProjectKey } from '../domain/auth.ts';
import { ALLOW_ANY_ORIGIN, compileAllowedOrigins, type AllowedOrigins } from '@trapline/schemas';

/**
 * DSN keys (with their own rate limits) and the project settings ingest needs (allowed origins) in memory, refreshed from the
 * projected admin model every few seconds: no database query on the request path, and a key
 * created or revoked, or an origin list changed, takes effect within one refresh. An
 * unknown key may trigger one early refresh (single-flight, at most one per `missRefreshMs`), so
 * a key that was just created works at once while a flood of bad keys costs one query a second.
 */
export class KeyCache {
  private keys = new Map<string, ProjectKey>();
  private origins = new Map<number, AllowedOrigins>();
  private timer: NodeJS.Timeout | undefined;
  private loadedOnce = false;
  private lastMissRefresh = 0;
  private inFlight: Promise<void> | undefined;
  private missFlight: Promise<void> | undefined;
  private changeFlight: Promise<void> | undefined;
  private changedSinceLoad = false;
  /** Misses waiting for the next load an admin change triggers (see `refreshAfterMiss`). */
  private readonly changeWaiters = new Set<() => void>();

  constructor(
    private readonly pool: Pool,
    private readonly refreshMs: number,
    private readonly logger: Logger,
    private readonly missRefreshMs = 1000,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((error: unknown) => this.logger.warn({ err: error }, 'key cache refresh failed')), this.refreshMs);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * After a miss: misses that arrive while a miss-triggered load runs wait for that load (a burst
   * of requests with a key just created all succeed); otherwise loads unless one started within
   * `missRefreshMs`. Its own load, never the periodic one, which may have begun before the key
   * existed. A miss within `missRefreshMs` of the last miss-triggered load waits, for the rest of
   * that time at most, for a load an admin change triggers: a key the API has just answered for
   * is in the model, and the projector's notification of it may reach ingest a moment after the
   * event does. Tells whether the keys were loaded for this miss.
   */
  async refreshAfterMiss(): Promise<boolean> {
    if (this.changeFlight) {
      await this.changeFlight;
      return true;
    }
    if (!this.missFlight) {
      const sinceMissRefresh = Date.now() - this.lastMissRefresh;
      if (sinceMissRefresh < this.missRefreshMs) return this.changeLoadWithin(this.missRefreshMs - sinceMissRefresh);
      this.lastMissRefresh = Date.now();
      this.missFlight = this.load().finally(() => {
        this.missFlight = undefined;
      });
    }
    await this.missFlight;
    return true;
  }

  /** Whether a load triggered by an admin change ends within `ms`. */
  private changeLoadWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const loaded = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.changeWaiters.delete(loaded);
        resolve(false);
      }, ms);
      this.changeWaiters.add(loaded);
    });
  }

  /**
   * The projector has applied admin records (its notification, see ProjectionWatcher): loads
   * again, and once more if it changes again meanwhile, so a key the API just answered for works
   * at once, whatever the rate of misses. Misses arriving meanwhile wait for this load.
   */
  adminChanged(): void {
    this.changedSinceLoad = true;
    this.changeFlight ??= (async () => {
      while (this.changedSinceLoad) {
        this.changedSinceLoad = false;
        await this.load();
      }
    })()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'key cache refresh after an admin change failed'))
      .finally(() => {
        this.changeFlight = undefined;
        for (const loaded of this.changeWaiters) loaded();
        this.changeWaiters.clear();
      });
  }

  private async load(): Promise<void> {
    const [keys, origins] = await Promise.all([
      this.pool.query<{ public_key: string; secret_key: string; project_id: number; active: boolean; rate_limit_count: number | null; rate_limit_window: number | null }>(
        'SELECT public_key, secret_key, project_id, active, rate_limit_count, rate_limit_window FROM project_keys',
      ),
      this.pool.query<{ project_id: number; origins: string[] }>('SELECT project_id, origins FROM project_allowed_origins'),
    ]);
    this.keys = new Map(
      keys.rows.map((row) => {
        const rateLimit = row.rate_limit_count === null || row.rate_limit_window === null ? null : { count: row.rate_limit_count, window: row.rate_limit_window };
        return [row.public_key, { publicKey: row.public_key, secretKey: row.secret_key, projectId: row.project_id, active: row.active, rateLimit }];
      }),
    );
    this.origins = new Map(origins.rows.map((row) => [row.project_id, compileAllowedOrigins(row.origins)]));
    this.loadedOnce = true;
  }

  get ready(): boolean {
    return this.loadedOnce;
  }

  lookup = (publicKey: string): ProjectKey | undefined => this.keys.get(publicKey);

  /** A project's allowed origins; a project without its own list (or unknown) allows any. */
  allowedOrigins = (projectId: number): AllowedOrigins => this.origins.get(projectId) ?? ALLOW_ANY_ORIGIN;

  stop(): void {
    clearInterval(this.timer);
  }
}
