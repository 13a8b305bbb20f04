import { randomUUID } from 'node:crypto';
import { EVENT_TAG_ROWS, type RunningTrapline } from './harness.ts';

// Steady load through the gateway's store endpoint, and what the read model must show for it.

export interface LoadOptions {
  clients: number;
  perClientPerSecond: number;
  maxEvents: number;
  maxMs: number;
  /** The issues the load spreads over (words only: grouping strips numbers from messages). */
  messages: string[];
}

/** One store request; the event id when it was acknowledged (200), else undefined. */
export async function store(trapline: RunningTrapline, message: string, eventId = randomUUID().replaceAll('-', '')): Promise<string | undefined> {
  const key = new URL(trapline.defaults.dsn).username;
  try {
    const response = await fetch(`${trapline.publicUrl}/api/${trapline.defaults.projectId}/store/?sentry_key=${key}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ event_id: eventId, message }), signal: AbortSignal.timeout(10000) });
    return response.status === 200 ? ((await response.json()) as { id: string }).id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Clients posting at a steady pace until stopped or bounded; `acknowledged` grows as 200s come.
 * A request without a 200 (a 503, a timeout) may still have been appended: its id goes to
 * `unacknowledged`, so a check can tell such an event from one that appeared from nowhere.
 */
export function steadyLoad(trapline: RunningTrapline, options: LoadOptions) {
  const acknowledged: string[] = [];
  const unacknowledged: string[] = [];
  let stopped = false;
  const startedAt = Date.now();
  const client = async (index: number) => {
    for (let i = 0; !stopped && acknowledged.length < options.maxEvents && Date.now() - startedAt < options.maxMs; i += 1) {
      const eventId = randomUUID().replaceAll('-', '');
      const id = await store(trapline, options.messages[(index + i) % options.messages.length]!, eventId);
      (id ? acknowledged : unacknowledged).push(eventId);
      await new Promise((resolve) => setTimeout(resolve, 1000 / options.perClientPerSecond));
    }
  };
  const running = Promise.all(Array.from({ length: options.clients }, (_, index) => client(index)));
  return {
    acknowledged,
    unacknowledged,
    stop: async () => {
      stopped = true;
      await running;
      return acknowledged;
    },
  };
}

/**
 * The read model in one snapshot: events, distinct ids, the sum of issue counts, how many of `ids`
 * and of `unacknowledged` are present, miscounted issues, tag values that differ from the tags of the events.
 */
export async function projection(trapline: RunningTrapline, ids: string[], unacknowledged: string[] = []) {
  const { rows } = await trapline.pool.query<{ events: number; distinct_ids: number; counted: number; present: number; unacknowledged_present: number; miscounted: number; tags_miscounted: number }>(
    `SELECT (SELECT count(*) FROM events)::int AS events,
            (SELECT count(DISTINCT event_id) FROM events)::int AS distinct_ids,
            (SELECT coalesce(sum(times_seen), 0) FROM groups)::int AS counted,
            (SELECT count(*) FROM events WHERE event_id = ANY($1::text[]))::int AS present,
            (SELECT count(*) FROM events WHERE event_id = ANY($2::text[]))::int AS unacknowledged_present,
            (SELECT count(*) FROM groups g WHERE g.times_seen <> (SELECT count(*) FROM events e WHERE e.group_id = g.id))::int AS miscounted,
            (SELECT count(*) FROM (
               SELECT group_id, key, value, count(*) AS n, min(received_at) AS first_seen, max(received_at) AS last_seen FROM ${EVENT_TAG_ROWS} GROUP BY 1, 2, 3
             ) t FULL JOIN group_tag_values v USING (group_id, key, value)
             WHERE t.n IS DISTINCT FROM v.times_seen OR t.first_seen IS DISTINCT FROM v.first_seen OR t.last_seen IS DISTINCT FROM v.last_seen)::int AS tags_miscounted`,
    [ids, unacknowledged],
  );
  return rows[0]!;
}
