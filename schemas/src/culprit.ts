import type { NormalizedEvent, StackFrame } from './event.ts';

// Where an event happened, as Sentry tells it: the culprit (src/sentry/culprit.py), the crash
// location (the crash frame's file) and whether a stack trace has frames outside the app. Pure;
// the projector writes an issue's culprit with it, the API an event's.

const MAX_CULPRIT_LENGTH = 200;
const JAVASCRIPT_PLATFORMS = new Set(['javascript', 'node']);
const NATIVE_PLATFORMS = new Set(['objc', 'cocoa', 'native']);

/** In-app frames when the SDK marked any; otherwise every frame outside node_modules / site-packages. */
export function appFrames(frames: StackFrame[]): StackFrame[] {
  const marked = frames.filter((frame) => frame.in_app === true);
  if (marked.length > 0) return marked;
  return frames.filter((frame) => frame.in_app !== false && !/node_modules|site-packages|dist-packages/.test(frame.filename ?? frame.abs_path ?? ''));
}

/** `module in function`, but `function(module)` for JavaScript and the bare function for native code. */
export function frameCulprit(frame: StackFrame, platform: string): string {
  if (NATIVE_PLATFORMS.has(platform)) return frame.function ?? '?';
  const where = frame.module ?? frame.filename;
  if (!where) return '';
  return JAVASCRIPT_PLATFORMS.has(platform) ? `${frame.function ?? '?'}(${where})` : `${where} in ${frame.function ?? '?'}`;
}

function stacktraceCulprit(frames: StackFrame[], platform: string): string {
  const app = new Set(appFrames(frames));
  let fallback: string | undefined;
  for (const frame of [...frames].reverse()) {
    if (app.has(frame)) {
      const culprit = frameCulprit(frame, platform);
      if (culprit) return culprit;
    } else fallback ??= frameCulprit(frame, platform);
  }
  return fallback ?? '';
}

/** The transaction if any, else the innermost app frame of the last stack trace, else the request URL; '' for none. */
export function eventCulprit(event: NormalizedEvent): string {
  if (event.transaction) return event.transaction.slice(0, MAX_CULPRIT_LENGTH);
  const exceptions = event.exception?.values ?? [];
  // Synthetic exceptions (an SDK's wrapper around a captured message) get no culprit, as in Sentry.
  if (exceptions.at(-1)?.mechanism?.synthetic === true) return '';
  const frames = exceptions.filter((exception) => (exception.stacktrace?.frames.length ?? 0) > 0).at(-1)?.stacktrace?.frames;
  const culprit = frames ? stacktraceCulprit(frames, event.platform) : '';
  const url = event.request?.url;
  return truncated(culprit || (typeof url === 'string' ? url : ''));
}

/** Sentry's truncatechars: a longer culprit keeps its first 197 characters and ends in `...`. */
function truncated(culprit: string): string {
  return culprit.length > MAX_CULPRIT_LENGTH ? `${culprit.slice(0, MAX_CULPRIT_LENGTH - 3)}...` : culprit;
}

/** The crash frame's file: the innermost app frame with a function of the last exception (else any frame with one); null without. */
export function crashLocation(event: NormalizedEvent): string | null {
  const frames = (event.exception?.values.at(-1)?.stacktrace?.frames ?? []).filter((frame) => frame.function && frame.function !== '<redacted>' && frame.function !== '<unknown>');
  const frame = appFrames(frames).at(-1) ?? frames.at(-1);
  return frame?.filename ?? frame?.abs_path ?? null;
}

/** Whether the stack traces mix app frames and others (Sentry's hasSystemFrames: the UI's "full stack trace" toggle). */
export function hasSystemFrames(frames: StackFrame[]): boolean {
  const app = appFrames(frames).length;
  return app > 0 && app < frames.length;
}
