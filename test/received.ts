import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { NormalizedEvent } from '@trapline/schemas';
import type { RunningTrapline } from './harness.ts';
import { eventKeys } from '@trapline/schemas';

// Events for the retention suites: ones the log says were received long ago, and ones sent now.

/** An event the log says was received `ageMs` ago (ingest stamps the time; here the test writes the record itself), tagged `kind: old`. */
export async function receivedAgo(trapline: RunningTrapline, message: string, ageMs: number, projectId = trapline.defaults.projectId): Promise<string> {
  const eventId = randomBytes(16).toString('hex');
  const receivedAt = Date.now() - ageMs;
  const payload: NormalizedEvent = { event_id: eventId, timestamp: receivedAt / 1000, received: receivedAt / 1000, level: 'error', platform: 'node', tags: [['kind', 'old']], message };
  await trapline.appender.append(trapline.topics.events, [{ key: eventKeys.event(projectId, eventId), name: 'EventReceived', value: { projectId, eventId, receivedAt, keyId: 'test', payload: JSON.stringify(payload) } }]);
  return eventId;
}

/** An event sent now through ingest's store endpoint with the default DSN. */
export async function sendNow(trapline: RunningTrapline, message: string): Promise<string> {
  const url = new URL(trapline.defaults.dsn);
  const response = await fetch(`${url.origin}/api${url.pathname}/store/?sentry_key=${url.username}&sentry_version=7`, { method: 'POST', body: JSON.stringify({ message, level: 'error' }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}
