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
}
