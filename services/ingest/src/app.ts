import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { AppendUnavailable, observeRequests, operationalRoutes, type Appender, type Logger, type ReadinessCheck, type ReadinessChecks } from '@trapline/runtime';
import type { Dedupe } from './adapters/dedupe.ts';
import type { RateLimiter } from './adapters/rate-limiter.ts';
import { sentryRateLimitHeader } from './domain/rate-limit.ts';
import { droppedItem } from './domain/dropped-items.ts';
import { describeRejection, type Rejection } from './domain/rejections.ts';
import { ALLOW_ANY_ORIGIN, eventKeys, type AllowedOrigins } from '@trapline/schemas';
import { decideCors, type CorsDecision } from './domain/origins.ts';
import { parseProjectId, runIngest, type Endpoint, type IngestLimits, type KeyLookup } from './domain/pipeline.ts';
import { serializeEvent } from './domain/normalize.ts';

export interface IngestDeps {
  appender: Appender;
  eventsTopic: string;
  lookupKey: KeyLookup;
  /** A project's allowed origins (Sentry's allowedDomains), from the same cache as the keys. */
  allowedOrigins: (projectId: number) => AllowedOrigins;
  /** Called when a key is unknown; resolves true when the keys were reloaded (worth one retry). */
  refreshKeys: () => Promise<boolean>;
  dedupe: Dedupe;
  rateLimiter: RateLimiter;
  limits: IngestLimits;
  /** How long a request waits for Kafka's ack before answering 503. */
  appendTimeoutMs: number;
  /** Requests waiting for Kafka at once before new ones get 503 at once (bounded memory). */
  maxInflightAppends: number;
  logger: Logger;
  metrics: Registry;
  /** Readiness besides Kafka's, which the app judges from its appends (e.g. DSN keys loaded). */
  readiness: ReadinessChecks;
  /** Asked when the last append failed: is Kafka reachable again? */
  kafkaReachable: ReadinessCheck;
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Whether the request's origin may post to the project in its path, and the CORS headers of its answer (null before onRequest). */
    cors: CorsDecision | null;
  }
}

// Browser SDKs post from their page's origin: every answer (errors and 429s included, so the SDK
// can read X-Sentry-Rate-Limits and Retry-After) lets the page read it when the project allows that
// origin (any, by default), as Relay's do. The DSN key is what authorizes; the allowed origins only
// keep other sites' pages from posting with a key they copied.
const EXPOSE_HEADERS = { 'access-control-expose-headers': 'x-sentry-error, x-sentry-rate-limits, retry-after' };

const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers':
    'x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, authentication, authorization, content-encoding, transfer-encoding, sentry-trace, baggage',
  'access-control-max-age': '3600',
};

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function buildIngestApp(deps: IngestDeps): FastifyInstance {
  const now = deps.now ?? (() => Date.now());
  // Requests are not logged (the handlers log with the service's logger), so no request gets a
  // child logger of its own: the service's logger, whose child is itself. A pino child per request
  // showed in ingest's profile, and so did the check fastify makes of a custom childLoggerFactory's
  // answer on every request.
  const logger: FastifyBaseLogger = Object.create(deps.logger as FastifyBaseLogger, { child: { value: () => logger } });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.limits.maxRequestBytes,
    logController: new LogController({ disableRequestLogging: true }),
    // Relay takes /api/1/store and /api/1/store/ alike, and so does the gateway's routing.
    routerOptions: { ignoreTrailingSlash: true },
  });
  observeRequests(app, deps.metrics);
  const outcomes = new Counter({ name: 'trapline_ingest_outcomes_total', help: 'Events accepted or deduplicated, requests rejected by reason', labelNames: ['outcome', 'reason'], registers: [deps.metrics] });
  const droppedItems = new Counter({ name: 'trapline_ingest_dropped_items_total', help: 'Envelope items acknowledged but not stored, by item type and reason', labelNames: ['type', 'reason'], registers: [deps.metrics] });
  const appendSeconds = new Histogram({
    name: 'trapline_ingest_append_seconds',
    help: "Time an append waited for Kafka's ack (acked) or until it gave up (unavailable)",
    labelNames: ['result'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [deps.metrics],
  });
  const redisSeconds = new Histogram({
    name: 'trapline_ingest_redis_seconds',
    help: 'Time a request waited for Redis: the rate-limit check with the dedupe lookup before its append (check), the dedupe mark after it, which the answer does not wait for (mark)',
    labelNames: ['step'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [deps.metrics],
  });
  // Bound once: observing through labels looks the series up by its label values on every request.
  const [checkSeconds, markSeconds, ackedSeconds] = [redisSeconds.labels({ step: 'check' }), redisSeconds.labels({ step: 'mark' }), appendSeconds.labels({ result: 'acked' })];
  const secondsSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

  // Every body arrives as bytes, whatever its content type: the pipeline decodes it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.decorateRequest('cors', null);
  // Callback hooks, not async ones: an async hook costs each request a promise and a turn of the microtask queue.
  app.addHook('onRequest', (request, _reply, done) => {
    const projectId = parseProjectId((request.params as { projectId?: string }).projectId ?? '');
    request.cors = decideCors(projectId.ok ? deps.allowedOrigins(projectId.value) : ALLOW_ANY_ORIGIN, header(request, 'origin'), header(request, 'referer'));
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.headers(EXPOSE_HEADERS).headers((request.cors ?? decideCors(ALLOW_ANY_ORIGIN, undefined, undefined)).headers);
    done(null, payload);
  });

  // Back-pressure: appends waiting now, their bytes, and whether the last one reached Kafka.
  let inflight = 0;
  let inflightBytes = 0;
  let kafkaAvailable = true;
  new Gauge({
    name: 'trapline_ingest_inflight_appends',
    help: "Requests waiting for Kafka's ack",
    registers: [deps.metrics],
    collect() {
      this.set(inflight);
    },
  });
  new Gauge({
    name: 'trapline_ingest_inflight_bytes',
    help: "Bytes of records (keys and payloads) waiting for Kafka's ack",
    registers: [deps.metrics],
    collect() {
      this.set(inflightBytes);
    },
  });
  const retryLater = { 'retry-after': '5' };

  const refuse = (reply: FastifyReply, rejection: Rejection, headers: Record<string, string> = {}) => {
    const { status, detail } = describeRejection(rejection);
    outcomes.inc({ outcome: 'rejected', reason: rejection.reason });
    return reply.code(status).headers({ 'x-sentry-error': detail, ...headers }).send({ detail });
  };

  // Sentry's answer to a page whose origin the project does not allow.
  const refuseOrigin = (request: FastifyRequest, reply: FastifyReply) =>
    request.cors && !request.cors.allowed ? refuse(reply, { reason: 'invalid_origin', detail: `Invalid origin: ${request.cors.origin.slice(0, 200)}` }) : undefined;

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse(reply, { reason: 'too_large' });
    if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send({ detail: error.message });
    deps.logger.error({ err: error }, 'ingest failed');
    return refuse(reply, { reason: 'unavailable', detail: 'ingest is temporarily unavailable, retry later' }, retryLater);
  });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'not found' }));

  for (const endpoint of ['store', 'envelope'] as Endpoint[]) {
    // A refused preflight keeps the browser from sending the event at all.
    app.options(`/api/:projectId/${endpoint}/`, (request, reply) => refuseOrigin(request, reply) ?? reply.code(204).headers(PREFLIGHT_HEADERS).send());
    app.post<{ Params: { projectId: string }; Querystring: Record<string, unknown> }>(`/api/:projectId/${endpoint}/`, async (request, reply) => {
      const refused = refuseOrigin(request, reply);
      if (refused) return refused;
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const ingestRequest = {
        endpoint,
        projectId: request.params.projectId,
        body,
        contentEncoding: header(request, 'content-encoding'),
        xSentryAuth: header(request, 'x-sentry-auth'),
        authorization: header(request, 'authorization'),
        query: request.query,
        received: now() / 1000,
      };
      let result = runIngest(ingestRequest, deps.lookupKey, deps.limits);
      if (!result.ok && result.rejection.reason === 'unknown_key' && (await deps.refreshKeys())) result = runIngest(ingestRequest, deps.lookupKey, deps.limits);
      if (!result.ok) return refuse(reply, result.rejection);
      const { projectKey, answerId, otherItems } = result.value;
      const projectId = projectKey.projectId;
      // One round trip for both: the lookup only reads, so making it for a request the limit
      // refuses changes nothing.
      const eventIds = result.value.events.map((event) => event.event_id);
      const checkStarted = process.hrtime.bigint();
      const [limit, duplicates] = await Promise.all([deps.rateLimiter.check(projectId, projectKey, eventIds.length, now()), deps.dedupe.seen(projectId, eventIds)]);
      if (eventIds.length > 0) checkSeconds.observe(secondsSince(checkStarted));
      if (!limit.allowed) {
        return refuse(reply, { reason: 'rate_limited', detail: `rate limit exceeded for this ${limit.scope}, retry in ${limit.retryAfterSeconds}s` }, {
          'retry-after': String(limit.retryAfterSeconds),
          'x-sentry-rate-limits': sentryRateLimitHeader(limit),
        });
      }
      const events = result.value.events.filter((event) => !duplicates.has(event.event_id));
      if (duplicates.size > 0) outcomes.inc({ outcome: 'deduplicated', reason: 'event' }, duplicates.size);
      if (inflight >= deps.maxInflightAppends) return refuse(reply, { reason: 'unavailable', detail: 'too many events are waiting for storage, retry later' }, retryLater);
      const records = events.map((event) => ({
        key: eventKeys.event(projectId, event.event_id),
        name: 'EventReceived' as const,
        value: { projectId, eventId: event.event_id, receivedAt: Math.round(event.received * 1000), keyId: projectKey.publicKey, payload: serializeEvent(event) },
      }));
      const bytes = records.reduce((sum, record) => sum + record.key.length + Buffer.byteLength(record.value.payload), 0);
      inflight += 1;
      inflightBytes += bytes;
      const appendStarted = process.hrtime.bigint();
      try {
        await deps.appender.appendWithin(deps.appendTimeoutMs, deps.eventsTopic, records);
        kafkaAvailable = true;
        if (records.length > 0) ackedSeconds.observe(secondsSince(appendStarted));
      } catch (error) {
        if (!(error instanceof AppendUnavailable)) throw error;
        kafkaAvailable = false;
        appendSeconds.observe({ result: 'unavailable' }, secondsSince(appendStarted));
        deps.logger.warn({ err: error }, 'append failed; answering 503');
        return refuse(reply, { reason: 'unavailable' }, retryLater);
      } finally {
        inflight -= 1;
        inflightBytes -= bytes;
      }
      // The mark is sent, not waited for: Dedupe queues it ahead of every lookup asked after this
      // answer (one connection, in order), so a retry of these events is found as before, and the
      // answer waits for one Redis round trip (the lookup), not two.
      if (events.length > 0) {
        const markStarted = process.hrtime.bigint();
        void deps.dedupe.markAppended(projectId, events.map((event) => event.event_id)).then(() => markSeconds.observe(secondsSince(markStarted)));
      }
      if (events.length > 0) outcomes.inc({ outcome: 'accepted', reason: 'event' }, events.length);
      for (const type of otherItems) droppedItems.inc(droppedItem(type));
      return reply.code(200).send(answerId === null ? {} : { id: answerId });
    });
  }

  operationalRoutes(app, deps.metrics, {
    ...deps.readiness,
    // Judged from the appends themselves; after a failed one, a probe tells when Kafka is back, so
    // an instance taken out of rotation (no traffic, no append) can come back.
    kafka: async () => (kafkaAvailable ? undefined : await deps.kafkaReachable()),
  });
  return app;
}
