// The normalized Sentry event carried as JSON in EventReceived.payload. Ingest produces it; the
// projector and the API read it. Field names follow Sentry's event payload.

export interface StackFrame {
  filename?: string;
  abs_path?: string;
  module?: string;
  function?: string;
  lineno?: number;
  colno?: number;
  in_app?: boolean;
  context_line?: string;
  pre_context?: string[];
  post_context?: string[];
  /** Set by symbolication: the map used and the frame as it came (minified). */
  data?: Record<string, unknown>;
}

export interface ExceptionValue {
  type?: string;
  value?: string;
  module?: string;
  mechanism?: Record<string, unknown>;
  stacktrace?: { frames: StackFrame[] };
}

export type Level = 'fatal' | 'error' | 'warning' | 'info' | 'debug';

export interface NormalizedEvent {
  event_id: string;
  /** Seconds since the epoch, as Sentry stores it. */
  timestamp: number;
  received: number;
  level: Level;
  platform: string;
  logger?: string;
  transaction?: string;
  server_name?: string;
  release?: string;
  dist?: string;
  environment?: string;
  /** The formatted message (logentry.formatted or message). */
  message?: string;
  logentry?: { message?: string; formatted?: string; params?: unknown[] };
  exception?: { values: ExceptionValue[] };
  threads?: { values: { stacktrace?: { frames: StackFrame[] }; crashed?: boolean; current?: boolean }[] };
  tags: [string, string][];
  user?: Record<string, unknown>;
  contexts?: Record<string, unknown>;
  breadcrumbs?: { values: Record<string, unknown>[] };
  request?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  fingerprint?: string[];
  sdk?: { name?: string; version?: string; [key: string]: unknown };
  /** The packages the SDK found loaded (name → version): Sentry's `modules`, the API's `packages`. */
  modules?: Record<string, string>;
  /** Debug files the event's frames come from: for JavaScript, each minified file's debug id (sentry-cli sourcemaps inject). */
  debug_meta?: { images: DebugImage[] };
}

export interface DebugImage {
  type: string;
  code_file: string;
  debug_id: string;
}

/** Why part of an event could not be processed (Sentry's `errors` list), e.g. a source map that does not parse. */
export interface EventError {
  type: string;
  [detail: string]: unknown;
}
