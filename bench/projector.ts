import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { createKafka, createLogger, projectPartitioner } from '@trapline/runtime';
import { Codec, eventKeys } from '@trapline/schemas';
import { serviceSet } from '@trapline/cli/services';
import { rebuild } from '../packages/cli/src/rebuild.ts';
import { normalizeEvent, serializeEvent } from '../services/ingest/src/domain/normalize.ts';
import { isolated } from '../test/harness.ts';
import { realisticEvent } from './events.ts';
import { until, type Scenario } from './report.ts';

// Projection rate of the live projector and of `trapline rebuild`, with
// the Postgres COPY rate of the same event rows as the ceiling, all in one run. Bounded: a fixed
// number of events, each phase with a time limit.

const EVENTS = 50000;
const EVENT_BYTES = 2048;
const PROJECTS = 6;
const GROUPS = 200;
const PHASE_LIMIT_MS = 5 * 60 * 1000;

export async function projectorScenario(): Promise<Scenario> {
  const env = await isolated({ LOG_LEVEL: 'warn' });
  const logger = createLogger('bench', 'warn');
  const kafka = createKafka(env.config.kafkaBrokers, 'bench', logger);
  const codec = new Codec();
  const services = serviceSet(env.env, { logDir: join(env.config.TRAPLINE_STATE_DIR!, 'logs') });
  try {
    const receivedAt = Date.now();
    const records = Array.from({ length: EVENTS }, (_, n) => {
      const normalized = normalizeEvent({ event: realisticEvent(n, EVENT_BYTES, GROUPS) as Record<string, unknown>, received: receivedAt / 1000, platformFallback: 'node' });
      if (!normalized.ok) throw new Error('the benchmark event does not normalize');
      const projectId = 1 + (n % PROJECTS);
      return { projectId, eventId: normalized.value.event_id, payload: serializeEvent(normalized.value) };
    });

    // The log: every event appended straight to Kafka.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: projectPartitioner });
    await producer.connect();
    for (let first = 0; first < EVENTS; first += 500) {
      const messages = records.slice(first, first + 500).map((record, i) => {
        const encoded = codec.encode('EventReceived', { projectId: record.projectId, eventId: record.eventId, receivedAt: receivedAt + first + i, keyId: 'bench', payload: record.payload });
        return { key: eventKeys.event(record.projectId, record.eventId), value: encoded.value, headers: encoded.headers };
      });
      await producer.send({ topic: env.topics.events, acks: -1, messages });
    }
    await producer.disconnect();

    const count = async () => ((await env.pool.query('SELECT count(*)::int AS n FROM events')).rows[0] as { n: number }).n;

    // Live: the projector service consumes the whole backlog.
    await services.start('projector');
    await until('the first projected event', async () => (await count()) > 0, PHASE_LIMIT_MS);
    const liveStart = process.hrtime.bigint();
    const liveFirst = await count();
    await until('the live projection', async () => (await count()) === EVENTS, PHASE_LIMIT_MS);
    const liveRate = (EVENTS - liveFirst) / (Number(process.hrtime.bigint() - liveStart) / 1e9);
    await services.stop('projector');

    // Rebuild: the same log into fresh tables.
    const rebuilt = await rebuild({ config: env.config, kafka, logger });
    const rebuildRate = rebuilt.records / rebuilt.seconds;

    // Ceiling: COPY of the same event rows into a table shaped like `events`.
    await env.pool.query('CREATE TABLE copy_ceiling (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING COMPRESSION)');
    const client = await env.pool.connect();
    const copyStart = process.hrtime.bigint();
    try {
      const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
      const at = new Date(receivedAt).toISOString();
      const lines = function* () {
        for (const record of records) yield `${record.projectId}\t${record.eventId}\t1\t${at}\t${at}\terror\tnode\tTypeError\t\tbench@1.0.0\tbench\tid:u1\tf\t${escape(record.payload)}\n`;
      };
      await pipeline(
        Readable.from(lines()),
        client.query(copyFrom('COPY copy_ceiling (project_id, event_id, group_id, received_at, occurred_at, level, platform, title, message, release, environment, user_ident, pending_deletion, payload) FROM STDIN')),
      );
    } finally {
      client.release();
    }
    const copyRate = EVENTS / (Number(process.hrtime.bigint() - copyStart) / 1e9);

    const copyCeiling = { perSecond: Math.round(copyRate) };
    const live = { perSecond: Math.round(liveRate), ratioToCopy: +(liveRate / copyRate).toFixed(2) };
    const projectingRate = rebuilt.records / rebuilt.projectingSeconds;
    const rebuilding = {
      perSecond: Math.round(rebuildRate), seconds: +rebuilt.seconds.toFixed(1), ratioToCopy: +(rebuildRate / copyRate).toFixed(2),
      projecting: { perSecond: Math.round(projectingRate), seconds: +rebuilt.projectingSeconds.toFixed(1), ratioToCopy: +(projectingRate / copyRate).toFixed(2) },
    };
    return {
      name: 'projector',
      figures: { events: EVENTS, eventBytes: EVENT_BYTES, projects: PROJECTS, groups: GROUPS, copyCeiling, live, rebuild: rebuilding },
      rows: [
        ['Postgres COPY of the event rows', `${copyCeiling.perSecond} events/s`, '', '', `ceiling: ${EVENTS} rows of ${EVENT_BYTES} B payload`],
        ['live projector', `${live.perSecond} events/s`, 'COPY', String(live.ratioToCopy), `a backlog of ${EVENTS} events, ${PROJECTS} projects, ${GROUPS} issues`],
        ['trapline rebuild', `${rebuilding.perSecond} events/s`, 'COPY', String(rebuilding.ratioToCopy), `${rebuilding.seconds} s, schema creation and swap included`],
        ['trapline rebuild, projecting', `${rebuilding.projecting.perSecond} events/s`, 'COPY', String(rebuilding.projecting.ratioToCopy), `${rebuilding.projecting.seconds} s, from its consumer's start to the swap`],
      ],
    };
  } finally {
    await services.stopAll();
    await env.dispose();
  }
}

