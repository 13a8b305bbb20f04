// Every way ingest refuses a request: one named reason, mapped once to an HTTP status and the
// outcome reason counted in metrics (as Relay does).

export const REJECTIONS = {
  missing_auth: { status: 401, detail: 'missing authentication: send X-Sentry-Auth, Authorization: Sentry, ?sentry_key= or a dsn in the envelope header' },
  invalid_auth: { status: 401, detail: 'malformed authentication header' },
  unknown_key: { status: 401, detail: 'unknown DSN key' },
  key_disabled: { status: 403, detail: 'this DSN key is disabled' },
  wrong_project: { status: 403, detail: 'this DSN key does not belong to the project in the URL' },
  invalid_origin: { status: 403, detail: "Invalid origin: not one of the project's allowed domains" },
  invalid_project: { status: 400, detail: 'the project id in the URL must be a positive integer' },
  unsupported_encoding: { status: 415, detail: 'unsupported Content-Encoding: use gzip, deflate, br, zstd or none' },
  invalid_compression: { status: 400, detail: 'the body could not be decompressed' },
  too_large: { status: 413, detail: 'payload too large' },
  invalid_json: { status: 400, detail: 'the body is not valid JSON' },
  invalid_envelope: { status: 400, detail: 'malformed envelope' },
  invalid_event: { status: 400, detail: 'the event is not a JSON object' },
  invalid_event_id: { status: 400, detail: 'event_id must be 32 hexadecimal digits or a UUID' },
  rate_limited: { status: 429, detail: 'rate limit exceeded' },
  // Not about the input: Kafka cannot take the append now (or too many are waiting). SDKs retry.
  unavailable: { status: 503, detail: 'ingest cannot store events right now, retry later' },
} as const;

export type RejectionReason = keyof typeof REJECTIONS;

export interface Rejection {
  reason: RejectionReason;
  /** Overrides the table's detail with something more specific. */
  detail?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const reject = (reason: RejectionReason, detail?: string): { ok: false; rejection: Rejection } => ({
  ok: false,
  rejection: detail === undefined ? { reason } : { reason, detail },
});

export function describeRejection(rejection: Rejection): { status: number; detail: string } {
  const entry = REJECTIONS[rejection.reason];
  return { status: entry.status, detail: rejection.detail ?? entry.detail };
}
