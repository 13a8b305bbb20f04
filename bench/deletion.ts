import { Appender, createKafka, createLogger } from '@trapline/runtime';
import { Codec, eventKeys } from '@trapline/schemas';
import { normalizeEvent, serializeEvent } from '../services/ingest/src/domain/normalize.ts';
import { startTrapline } from '../test/harness.ts';
import { realisticEvent } from './events.ts';
import { until, type Scenario } from './report.ts';

// An issue of 100,000 events deleted through the API, from the moment
// its delay has passed to every row gone, with the deleter's default chunk size; beside it, how
// fast the projector had written those events (the same rows, the other way). Bounded: fixed
// counts, each phase with a time limit.

const EVENTS = 100000;
const EVENT_BYTES = 1024;
const PHASE_LIMIT_MS = 10 * 60 * 1000;

export async function deletionScenario(): Promise<Scenario> {
  const trapline = await startTrapline({ LOG_LEVEL: 'warn', DELETION_DELAY_SECONDS: '1' });
  const { projectId } = trapline.defaults;
  const codec = new Codec();
  try {
    const appender = await Appender.connect(createKafka(trapline.config.kafkaBrokers, 'bench', createLogger('bench', 'error')), codec);
    const receivedAt = Date.now();
    for (let first = 0; first < EVENTS; first += 200) {
      const messages = Array.from({ length: Math.min(200, EVENTS - first) }, (_, i) => {
        const normalized = normalizeEvent({ event: realisticEvent(first + i, EVENT_BYTES, 1) as Record<string, unknown>, received: receivedAt / 1000 });
        if (!normalized.ok) throw new Error('the benchmark event does not normalize');
        return { key: eventKeys.event(projectId, normalized.value.event_id), name: 'EventReceived' as const, value: { projectId, eventId: normalized.value.event_id, receivedAt: receivedAt + first + i, keyId: 'bench', payload: serializeEvent(normalized.value) } };
      });
      await appender.append(trapline.topics.events, messages);
    }
    await appender.close();

    const scalar = async (sql: string, params: unknown[] = []) => ((await trapline.pool.query(sql, params)).rows[0] as { n: number } | undefined)?.n ?? 0;
    const projectStart = Date.now();
    await until('the issue projected', async () => (await scalar('SELECT max(times_seen)::int AS n FROM groups WHERE project_id = $1', [projectId])) === EVENTS, PHASE_LIMIT_MS);
    const projectSeconds = (Date.now() - projectStart) / 1000;
    const issue = await scalar('SELECT id AS n FROM groups WHERE project_id = $1', [projectId]);

    const response = await fetch(`${trapline.publicUrl}/api/0/issues/${issue}/`, { method: 'DELETE', headers: { authorization: `Bearer ${trapline.defaults.token}` } });
    if (response.status !== 202) throw new Error(`DELETE answered ${response.status}`);
    const { transactionId } = (await response.json()) as { transactionId: string };
    const state = async () => (await trapline.pool.query<{ state: string; chunks: number }>('SELECT state, chunks FROM deletions WHERE transaction_id = $1', [transactionId])).rows[0];
    await until('the first chunk', async () => ((await state())?.chunks ?? 0) > 0, PHASE_LIMIT_MS);
    const deleteStart = Date.now();
    await until('the deletion done', async () => (await state())?.state === 'done', PHASE_LIMIT_MS);
    const deleteSeconds = (Date.now() - deleteStart) / 1000;
    const left = await scalar('SELECT count(*)::int AS n FROM events WHERE group_id = $1', [issue]);
    if (left !== 0) throw new Error(`${left} events left after the deletion`);

    const projection = { seconds: +projectSeconds.toFixed(1), perSecond: Math.round(EVENTS / projectSeconds) };
    const deletion = { seconds: +deleteSeconds.toFixed(1), perSecond: Math.round(EVENTS / deleteSeconds), ratioToProjection: +(projectSeconds / deleteSeconds).toFixed(2) };
    const chunkSize = trapline.config.DELETION_CHUNK_SIZE;
    return {
      name: 'deletion',
      figures: { events: EVENTS, eventBytes: EVENT_BYTES, chunkSize, projection, deletion },
      rows: [
        [`projecting one issue of ${EVENTS} events`, `${projection.perSecond} events/s (${projection.seconds} s)`, '', '', `${EVENT_BYTES} B events`],
        [`deleting that issue`, `${deletion.perSecond} events/s (${deletion.seconds} s)`, 'its projection', String(deletion.ratioToProjection), `first chunk to done, chunks of ${chunkSize}, a null-value record per event included`],
      ],
    };
  } finally {
    await trapline.dispose();
  }
}

