// Envelope items that ingest acknowledges but does not store: only `event` items become
// EventReceived. Each is counted as an outcome by type and reason, as Relay counts what it
// discards. The type label is bounded: a type Sentry does not define is counted as `other`, so
// clients cannot grow the metric with made-up names.

/** Item types Sentry's SDKs send that Trapline does not store (Sentry's envelope item types). */
const SENTRY_ITEM_TYPES = new Set([
  'transaction',
  'span',
  'otel_span',
  'attachment',
  'session',
  'sessions',
  'client_report',
  'user_report',
  'feedback',
  'check_in',
  'profile',
  'profile_chunk',
  'replay_event',
  'replay_recording',
  'replay_video',
  'statsd',
  'metric_meta',
  'trace_metric',
  'log',
  'otel_log',
  'security',
  'raw_security',
  'nel',
  'form_data',
]);

export type DropReason = 'unsupported' | 'unknown_type';

export interface DroppedItem {
  type: string;
  reason: DropReason;
}

export function droppedItem(type: string): DroppedItem {
  return SENTRY_ITEM_TYPES.has(type) ? { type, reason: 'unsupported' } : { type: 'other', reason: 'unknown_type' };
}
