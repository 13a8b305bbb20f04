import { hostname } from 'node:os';
import { z } from 'zod';

// The one reader of the environment. Every variable is documented in the README's configuration
// table; nothing else in Trapline reads process.env.

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  KAFKA_BROKERS: z.string().default('127.0.0.1:19092'),
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]+$/).default('trapline'),
  KAFKA_CLIENT_ID: z.string().default('trapline'),
  // Partitions given to topics when provisioning creates them (unset: the declaration's count).
  KAFKA_EVENTS_PARTITIONS: positiveInt.optional(),
  KAFKA_DELETIONS_PARTITIONS: positiveInt.optional(),
  // The consume loop's members (deleter, notifier): missed heartbeats for this long, or a cycle (a
  // step) running longer than the poll interval, and the member's partitions go to the others.
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30000),
  KAFKA_MAX_POLL_INTERVAL_MS: z.coerce.number().int().min(6000).default(300000),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:15432/trapline'),
  REDIS_URL: z.string().default('redis://127.0.0.1:16379'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  PUBLIC_URL: z.string().url().default('http://127.0.0.1:9000'),
  GATEWAY_PORT: port.default(9000),
  INGEST_PORT: port.default(9001),
  // Ingest's processes sharing INGEST_PORT (runtime/workers.ts): one uses at most about one core.
  INGEST_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  // librdkafka's linger for ingest's appends: 5 ms batches more per produce request (less CPU per
  // event where ingest shares the cores), 1 ms answers sooner (more events/s where cores are free).
  INGEST_LINGER_MS: z.coerce.number().min(0).max(1000).default(5),
  API_PORT: port.default(9002),
  PROJECTOR_PORT: port.default(9003),
  // The projector's processes (runtime/workers.ts): each a member of its consumer group, with the
  // partitions the group gives it; one projects on about one core.
  PROJECTOR_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  DELETER_PORT: port.default(9004),
  INGEST_URL: z.string().url().optional(),
  API_URL: z.string().url().optional(),
  MAX_EVENT_BYTES: positiveInt.default(1024 * 1024),
  MAX_REQUEST_BYTES: positiveInt.default(20 * 1024 * 1024),
  KEY_CACHE_REFRESH_MS: positiveInt.default(2000),
  WRITE_VISIBILITY_TIMEOUT_MS: positiveInt.default(5000),
  DEDUPE_WINDOW_SECONDS: positiveInt.default(300),
  APPEND_TIMEOUT_MS: positiveInt.default(10000),
  MAX_INFLIGHT_APPENDS: positiveInt.default(5000),
  RATE_LIMIT_PROJECT_EVENTS: z.coerce.number().int().min(0).default(0),
  RATE_LIMIT_KEY_EVENTS: z.coerce.number().int().min(0).default(0),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(60),
  DELETION_DELAY_SECONDS: z.coerce.number().min(0).default(3600),
  DELETION_CHUNK_SIZE: positiveInt.default(1000),
  DELETION_MAX_ATTEMPTS: positiveInt.default(5),
  DELETION_RETRY_BACKOFF_MS: positiveInt.default(30000),
  DELETION_RETRY_MAX_BACKOFF_MS: positiveInt.default(30 * 60 * 1000),
  RETENTION_DAYS: z.coerce.number().positive().default(90),
  RETENTION_CHECK_SECONDS: z.coerce.number().positive().default(3600),
  EVENTS_PARTITION_SECONDS: positiveInt.default(86400),
  EXPIRY_CHUNK_SIZE: positiveInt.default(5000),
  SESSION_TTL_SECONDS: positiveInt.default(14 * 24 * 3600),
  SIGN_IN_FAILURES_PER_EMAIL: positiveInt.default(5),
  SIGN_IN_FAILURES_PER_ADDRESS: positiveInt.default(20),
  SIGN_IN_THROTTLE_SECONDS: positiveInt.default(300),
  DELETER_INSTANCE: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  PROJECTOR_GROUP: z.string().optional(),
  TRAPLINE_STATE_DIR: z.string().optional(),
  TRAPLINE_CACHE_DIR: z.string().optional(),
  DELETER_GROUP: z.string().optional(),
  NOTIFIER_PORT: port.default(9005),
  NOTIFIER_GROUP: z.string().optional(),
  NOTIFIER_INSTANCE: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  SMTP_URL: z.string().regex(/^(smtps?:\/\/.+)?$/, 'an smtp:// or smtps:// URL (empty: none)').optional(),
  EMAIL_FROM: z.string().default('Trapline <trapline@localhost>'),
  ALERT_DELIVERY_TIMEOUT_MS: positiveInt.default(5000),
  ALERT_MAX_ATTEMPTS: positiveInt.default(5),
  ALERT_RETRY_BACKOFF_MS: positiveInt.default(10000),
  ALERT_RETRY_MAX_BACKOFF_MS: positiveInt.default(10 * 60 * 1000),
  ALERT_RULES_REFRESH_MS: positiveInt.default(1000),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  kafkaBrokers: string[];
  ingestUrl: string;
  apiUrl: string;
  projectorGroup: string;
  deleterGroup: string;
  /** Names this deleter's transactional producer: unique per running instance, stable across its restarts. */
  deleterInstance: string;
  notifierGroup: string;
  /** Names this notifier's transactional producer, as deleterInstance does the deleter's. */
  notifierInstance: string;
}

export class ConfigError extends Error {}

export function readConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const raw = parsed.data;
  return {
    ...raw,
    kafkaBrokers: raw.KAFKA_BROKERS.split(',').map((broker) => broker.trim()).filter(Boolean),
    ingestUrl: raw.INGEST_URL ?? `http://${raw.HOST}:${raw.INGEST_PORT}`,
    apiUrl: raw.API_URL ?? `http://${raw.HOST}:${raw.API_PORT}`,
    projectorGroup: raw.PROJECTOR_GROUP ?? `${raw.KAFKA_TOPIC_PREFIX}.projector`,
    deleterGroup: raw.DELETER_GROUP ?? `${raw.KAFKA_TOPIC_PREFIX}.deleter`,
    deleterInstance: raw.DELETER_INSTANCE ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-'),
    notifierGroup: raw.NOTIFIER_GROUP ?? `${raw.KAFKA_TOPIC_PREFIX}.notifier`,
    notifierInstance: raw.NOTIFIER_INSTANCE ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-'),
  };
}
