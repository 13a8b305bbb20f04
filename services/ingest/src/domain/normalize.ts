import { randomUUID } from 'node:crypto';
import type { DebugImage, ExceptionValue, Level, NormalizedEvent, StackFrame } from '@trapline/schemas';
import { ok, reject, type Result } from './rejections.ts';

// Normalize stage: a raw SDK payload (any SDK, old or new) → NormalizedEvent. Pure except for
// the generated event_id, which the caller can supply through `newEventId`.

export const LIMITS = {
  string: 8192,
  message: 8192,
  tagKey: 200,
  tagValue: 200,
  tags: 200,
  frames: 250,
  exceptions: 25,
  breadcrumbs: 100,
  modules: 1000,
} as const;

const LEVELS: Record<string, Level> = {
  fatal: 'fatal', critical: 'fatal', error: 'error', warning: 'warning', warn: 'warning', info: 'info', log: 'info', debug: 'debug', trace: 'debug',
};

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

export function trimString(value: unknown, max: number = LIMITS.string): string | undefined {
  if (typeof value === 'string') return value.length > max ? `${value.slice(0, max - 1)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** 32 lowercase hex digits; accepts dashed UUIDs. */
export function normalizeEventId(value: unknown, newEventId: () => string = () => randomUUID()): Result<string> {
  if (value === undefined || value === null || value === '') return ok(newEventId().replaceAll('-', '').toLowerCase());
  if (typeof value !== 'string') return reject('invalid_event_id');
  const hex = value.replaceAll('-', '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(hex) ? ok(hex) : reject('invalid_event_id');
}

/** RFC 3339 strings or epoch seconds; anything else (or nothing) becomes the received time. */
export function normalizeTimestamp(value: unknown, received: number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value > 1e11 ? value / 1000 : value;
  if (typeof value === 'string' && value.trim() !== '') {
    const numeric = Number(value);
    if (Number.isFinite(numeric) && numeric > 0) return numeric;
    const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
    const parsed = Date.parse(withZone);
    if (Number.isFinite(parsed)) return parsed / 1000;
  }
  return received;
}

const FRAME_TEXTS = ['filename', 'abs_path', 'module', 'function', 'context_line'] as const;
const FRAME_NUMBERS = ['lineno', 'colno'] as const;
const FRAME_CONTEXTS = ['pre_context', 'post_context'] as const;

function normalizeFrame(raw: unknown): StackFrame | undefined {
  if (!isObject(raw)) return undefined;
  const frame: StackFrame = {};
  for (const key of FRAME_TEXTS) {
    const text = trimString(raw[key], 1024);
    if (text !== undefined) frame[key] = text;
  }
  for (const key of FRAME_NUMBERS) {
    const value = raw[key];
    if (typeof value === 'number' && Number.isFinite(value)) frame[key] = value;
  }
  if (typeof raw.in_app === 'boolean') frame.in_app = raw.in_app;
  for (const key of FRAME_CONTEXTS) {
    const lines = raw[key];
    if (Array.isArray(lines)) frame[key] = lines.slice(0, 10).map((line) => trimString(line, 1024) ?? '');
  }
  return frame;
}

function normalizeStacktrace(raw: unknown): { frames: StackFrame[] } | undefined {
  if (!isObject(raw) || !Array.isArray(raw.frames)) return undefined;
  // Keep the innermost frames (the end of the list) when trimming, as Sentry does.
  const frames: StackFrame[] = [];
  for (const rawFrame of raw.frames as unknown[]) {
    const frame = normalizeFrame(rawFrame);
    if (frame !== undefined) frames.push(frame);
  }
  return { frames: frames.length > LIMITS.frames ? frames.slice(-LIMITS.frames) : frames };
}

function normalizeException(raw: unknown): ExceptionValue | undefined {
  if (!isObject(raw)) return undefined;
  const value: ExceptionValue = {};
  const type = trimString(raw.type, 256);
  const text = trimString(raw.value);
  const module = trimString(raw.module, 256);
  if (type !== undefined) value.type = type;
  if (text !== undefined) value.value = text;
  if (module !== undefined) value.module = module;
  if (isObject(raw.mechanism)) value.mechanism = raw.mechanism;
  const stacktrace = normalizeStacktrace(raw.stacktrace);
  if (stacktrace) value.stacktrace = stacktrace;
  return type === undefined && text === undefined && !stacktrace ? undefined : value;
}

/** `exception.values`, a bare list, or the legacy single-exception and `sentry.interfaces.*` keys. */
function exceptionValues(event: Json): ExceptionValue[] {
  const raw = event.exception ?? event['sentry.interfaces.Exception'];
  const list = Array.isArray(raw) ? raw : isObject(raw) ? (Array.isArray(raw.values) ? raw.values : [raw]) : [];
  return list.slice(-LIMITS.exceptions).map(normalizeException).filter((value): value is ExceptionValue => value !== undefined);
}

function normalizeTags(raw: unknown): [string, string][] {
  const pairs: [unknown, unknown][] = Array.isArray(raw)
    ? raw.filter((pair): pair is unknown[] => Array.isArray(pair) && pair.length === 2).map((pair) => [pair[0], pair[1]])
    : isObject(raw)
      ? Object.entries(raw)
      : [];
  const tags = new Map<string, string>();
  for (const [key, value] of pairs) {
    const tagKey = trimString(key, LIMITS.tagKey)?.trim();
    const tagValue = trimString(value, LIMITS.tagValue);
    if (!tagKey || tagValue === undefined) continue;
    tags.set(tagKey, tagValue);
    if (tags.size >= LIMITS.tags) break;
  }
  return [...tags.entries()];
}

function formatLogentry(template: string, params: unknown[]): string {
  let index = 0;
  return template.replace(/%[sdifoO%]/g, (token) => (token === '%%' ? '%' : index < params.length ? String(params[index++]) : token));
}

function normalizeMessage(event: Json): Pick<NormalizedEvent, 'message' | 'logentry'> {
  const raw = event.logentry ?? event['sentry.interfaces.Message'] ?? (isObject(event.message) ? event.message : undefined);
  if (isObject(raw)) {
    const template = trimString(raw.message, LIMITS.message);
    const params = Array.isArray(raw.params) ? raw.params.slice(0, 50) : undefined;
    const formatted = trimString(raw.formatted, LIMITS.message) ?? (template !== undefined && params ? formatLogentry(template, params) : template);
    const logentry: NonNullable<NormalizedEvent['logentry']> = {};
    if (template !== undefined) logentry.message = template;
    if (formatted !== undefined) logentry.formatted = formatted;
    if (params) logentry.params = params;
    return formatted === undefined ? {} : { message: formatted, logentry };
  }
  const message = trimString(event.message, LIMITS.message);
  return message === undefined ? {} : { message, logentry: { formatted: message } };
}

/** `modules`: package name → version, both strings, at most LIMITS.modules of them. */
function normalizeModules(raw: unknown): Record<string, string> | undefined {
  if (!isObject(raw)) return undefined;
  const entries = Object.entries(raw)
    .map(([name, version]) => [trimString(name, 256), trimString(version, 256)] as const)
    .filter((entry): entry is readonly [string, string] => entry[0] !== undefined && entry[0] !== '' && entry[1] !== undefined)
    .slice(0, LIMITS.modules);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function optionalObject(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined;
}

/** `debug_meta.images` of source maps (type, code_file, debug_id): what resolves a minified frame by debug id. */
function normalizeDebugImages(raw: unknown): DebugImage[] {
  const images = optionalObject(raw)?.images;
  if (!Array.isArray(images)) return [];
  return images.filter(isObject).slice(0, LIMITS.frames).flatMap((image) => {
    const type = trimString(image.type, 64);
    const codeFile = trimString(image.code_file, 2048);
    const debugId = trimString(image.debug_id, 64);
    return type && codeFile && debugId ? [{ type, code_file: codeFile, debug_id: debugId }] : [];
  });
}

export interface NormalizeInput {
  event: Json;
  /** Epoch seconds when ingest received the request. */
  received: number;
  platformFallback?: string;
  newEventId?: () => string;
}

export function normalizeEvent({ event, received, platformFallback, newEventId }: NormalizeInput): Result<NormalizedEvent> {
  const eventId = normalizeEventId(event.event_id, newEventId);
  if (!eventId.ok) return eventId;
  const level = LEVELS[String(event.level ?? '').toLowerCase()];
  const exceptions = exceptionValues(event);
  const normalized: NormalizedEvent = {
    event_id: eventId.value,
    timestamp: normalizeTimestamp(event.timestamp, received),
    received,
    level: level ?? (exceptions.length > 0 ? 'error' : 'info'),
    platform: trimString(event.platform, 64) ?? platformFallback ?? 'other',
    tags: normalizeTags(event.tags),
    ...normalizeMessage(event),
  };
  for (const key of ['logger', 'transaction', 'server_name', 'release', 'dist', 'environment'] as const) {
    const text = trimString(event[key], 256);
    if (text !== undefined && text !== '') normalized[key] = text;
  }
  if (exceptions.length > 0) normalized.exception = { values: exceptions };
  const threads = optionalObject(event.threads);
  if (threads && Array.isArray(threads.values)) {
    normalized.threads = {
      values: threads.values.filter(isObject).slice(0, 50).map((thread) => {
        const stacktrace = normalizeStacktrace(thread.stacktrace);
        return { ...(stacktrace ? { stacktrace } : {}), crashed: thread.crashed === true, current: thread.current === true };
      }),
    };
  }
  const user = optionalObject(event.user ?? event['sentry.interfaces.User']);
  if (user) normalized.user = user;
  const contexts = optionalObject(event.contexts);
  if (contexts) normalized.contexts = contexts;
  const request = optionalObject(event.request ?? event['sentry.interfaces.Http']);
  if (request) normalized.request = request;
  const extra = optionalObject(event.extra);
  if (extra) normalized.extra = extra;
  const sdk = optionalObject(event.sdk);
  if (sdk) normalized.sdk = sdk;
  const modules = normalizeModules(event.modules);
  if (modules) normalized.modules = modules;
  const breadcrumbs = Array.isArray(event.breadcrumbs) ? event.breadcrumbs : optionalObject(event.breadcrumbs)?.values;
  if (Array.isArray(breadcrumbs)) normalized.breadcrumbs = { values: breadcrumbs.filter(isObject).slice(-LIMITS.breadcrumbs) };
  const debugImages = normalizeDebugImages(event.debug_meta);
  if (debugImages.length > 0) normalized.debug_meta = { images: debugImages };
  if (Array.isArray(event.fingerprint)) {
    const fingerprint = event.fingerprint.map((part) => trimString(part, 512)).filter((part): part is string => part !== undefined);
    if (fingerprint.length > 0) normalized.fingerprint = fingerprint;
  }
  return ok(normalized);
}

/**
 * The payload text of EventReceived. NUL characters go: Postgres cannot store them in jsonb, and
 * no SDK sends them on purpose.
 */
export function serializeEvent(event: NormalizedEvent): string {
  const json = JSON.stringify(event);
  // JSON escapes a NUL as \u0000, so without that text no string holds one: the common case skips
  // the replacer, which costs a call per value of a large event (an escaped backslash followed by
  // "u0000" only takes the slow path, which gives the same text).
  return json.includes('\\u0000') ? JSON.stringify(event, (_key, value: unknown) => (typeof value === 'string' ? value.replaceAll('\u0000', '') : value)) : json;
}
