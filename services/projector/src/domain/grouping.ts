import { hash } from 'node:crypto';
import { appFrames, type ExceptionValue, type NormalizedEvent, type StackFrame } from '@trapline/schemas';

// Grouping: a pure, versioned function of the normalized event. Same input, same hashes, on
// every replay. Bump GROUPING_VERSION whenever the output for some input changes.

export const GROUPING_VERSION = 'trapline:2026-11';

export interface GroupingResult {
  version: string;
  hashes: string[];
}

// One-shot: no Hash object per event.
const md5 = (parts: string[]) => hash('md5', parts.join('\u0000'), 'hex');

// An app's frames repeat the same few thousand file and function names from event to event: their
// normalization (a handful of regular expressions each) showed in the projector's and the
// rebuild's profiles. Each cache is cleared once it holds 10,000 names, so it stays small.
const filenames = new Map<string, string>();
const functions = new Map<string, string>();

function memoized(cache: Map<string, string>, input: string, normalize: (input: string) => string): string {
  let output = cache.get(input);
  if (output === undefined) {
    if (cache.size >= 10000) cache.clear();
    output = normalize(input);
    cache.set(input, output);
  }
  return output;
}

/**
 * Path noise that differs between deploys: hosts, deploy directories, bundle hashes, versions and
 * query strings. Dependencies keep their path from node_modules on; app files their last two segments.
 */
export function normalizeFilename(filename: string): string {
  return memoized(filenames, filename, normalizeFilenameOnce);
}

function normalizeFilenameOnce(filename: string): string {
  const path = filename.replace(/[?#].*$/, '').replace(/^[a-z]+:\/\/[^/]+/i, '');
  const dependency = path.lastIndexOf('node_modules/');
  const kept = dependency !== -1 ? path.slice(dependency) : path.split('/').filter(Boolean).slice(-2).join('/');
  return kept.replace(/[.-][0-9a-f]{8,}(?=\.)/gi, '').replace(/\b\d+\.\d+\.\d+\b/g, '<version>');
}

/** Function names lose anonymous-closure and minifier noise. */
export function normalizeFunction(name: string): string {
  return memoized(functions, name, normalizeFunctionOnce);
}

function normalizeFunctionOnce(name: string): string {
  return name.replace(/<anonymous>|\[as [^\]]+\]|\bObject\.|\bnew\s+/g, '').replace(/\$\d+/g, '').trim();
}

function frameComponent(frame: StackFrame): string | undefined {
  const location = frame.module ?? (frame.filename ? normalizeFilename(frame.filename) : frame.abs_path ? normalizeFilename(frame.abs_path) : undefined);
  const fn = frame.function ? normalizeFunction(frame.function) : undefined;
  if (!location && !fn) return undefined;
  return `${location ?? ''}:${fn ?? ''}`;
}

/** The frames grouping reads: the app's (appFrames). */
export const groupingFrames = appFrames;

function exceptionComponents(values: ExceptionValue[]): string[] | undefined {
  const parts: string[] = [];
  let framesSeen = false;
  for (const exception of values) {
    parts.push(`type:${exception.type ?? ''}`);
    const frames = groupingFrames(exception.stacktrace?.frames ?? []);
    for (const frame of frames) {
      const component = frameComponent(frame);
      if (component) {
        parts.push(component);
        framesSeen = true;
      }
    }
    // Without usable frames, the value separates unrelated errors of one type (with noise stripped).
    if (!framesSeen && exception.value) parts.push(`value:${stripMessageParameters(exception.value)}`);
  }
  return parts.length > 0 ? parts : undefined;
}

function threadComponents(event: NormalizedEvent): string[] | undefined {
  const thread = event.threads?.values.find((candidate) => candidate.crashed) ?? event.threads?.values.find((candidate) => candidate.current) ?? event.threads?.values[0];
  const frames = groupingFrames(thread?.stacktrace?.frames ?? []);
  const parts = frames.map(frameComponent).filter((part): part is string => part !== undefined);
  return parts.length > 0 ? parts : undefined;
}

const MESSAGE_NOISE: [RegExp, string][] = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b[\w.+-]+@[\w-]+\.[\w.-]+\b/g, '<email>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b/g, '<date>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '<ip>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  [/\b[0-9a-f]{16,}\b/gi, '<hex>'],
  [/\b\d+(\.\d+)?\b/g, '<int>'],
];

export function stripMessageParameters(message: string): string {
  return MESSAGE_NOISE.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message);
}

function messageComponents(event: NormalizedEvent): string[] {
  const template = event.logentry?.params?.length ? event.logentry.message : undefined;
  return [`message:${template ?? stripMessageParameters(event.message ?? '')}`];
}

function defaultComponents(event: NormalizedEvent): string[] {
  return (event.exception && exceptionComponents(event.exception.values)) ?? threadComponents(event) ?? messageComponents(event);
}

export function groupHashes(event: NormalizedEvent): GroupingResult {
  const fallback = () => md5(defaultComponents(event));
  const fingerprint = event.fingerprint;
  if (!fingerprint || fingerprint.length === 0 || (fingerprint.length === 1 && /^\{\{\s*default\s*\}\}$/.test(fingerprint[0]!))) {
    return { version: GROUPING_VERSION, hashes: [fallback()] };
  }
  const parts = fingerprint.map((part) => (/^\{\{\s*default\s*\}\}$/.test(part) ? `default:${fallback()}` : `fingerprint:${part}`));
  return { version: GROUPING_VERSION, hashes: [md5(parts)] };
}
