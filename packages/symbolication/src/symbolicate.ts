import { originalPositionFor, TraceMap, type SourceMapInput } from '@jridgewell/trace-mapping';
import type { EventError, NormalizedEvent, StackFrame } from '@trapline/schemas';
import { cleanSourcePath } from './source-urls.ts';

// Symbolication of JavaScript frames: a minified frame (file, line, column, minified name) becomes
// the original one (source file, line, column, function, context lines) through the file's source
// map. Pure given the maps: where the maps come from is the caller's (a SourceLookup).

const CONTEXT_LINES = 5;

/** A minified file and its parsed source map, or why there is none. */
export type SourceResolution =
  | { ok: true; map: ParsedMap; minifiedLines: string[] | undefined; mapUrl: string }
  | { ok: false; error: EventError };

export interface ParsedMap {
  trace: TraceMap;
  /** Each source's lines, from sourcesContent, by source index. */
  lines: (string[] | undefined)[];
}

/** Finds the map for a frame's file: by the file's debug id, else by release and abs_path. `undefined`: no map uploaded. */
export type SourceLookup = (file: { absPath: string; debugId: string | undefined }) => Promise<SourceResolution | undefined>;

export function parseSourceMap(text: string): ParsedMap | { error: string } {
  try {
    const trace = new TraceMap(JSON.parse(text) as SourceMapInput);
    return { trace, lines: (trace.sourcesContent ?? []).map((content) => (content === null || content === undefined ? undefined : content.split(/\r?\n/))) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** The function enclosing a minified position: the declaration of the frame's minified name nearest before it. */
function enclosingName(map: ParsedMap, lines: string[] | undefined, name: string | undefined, line: number, column: number): string | undefined {
  if (!lines || !name || !/^[\w$]+$/.test(name)) return undefined;
  const upTo = [...lines.slice(0, line - 1), (lines[line - 1] ?? '').slice(0, column)];
  const declaration = new RegExp(`(?:function\\s*\\*?\\s*(${name.replace(/\$/g, '\\$')})\\s*\\(|\\b(${name.replace(/\$/g, '\\$')})\\s*[=:]\\s*(?:async\\s*)?(?:function\\b|\\([^)]*\\)\\s*=>|[\\w$]+\\s*=>))`, 'dg');
  for (let index = upTo.length - 1; index >= 0; index -= 1) {
    const matches = [...upTo[index]!.matchAll(declaration)];
    const last = matches.at(-1);
    if (!last) continue;
    const at = (last.indices![1] ?? last.indices![2]!)[0];
    const original = originalPositionFor(map.trace, { line: index + 1, column: at });
    return original.name ?? undefined;
  }
  return undefined;
}

/** One frame through its map; a frame the map does not cover stays as it came. */
export function symbolicateFrame(frame: StackFrame, resolution: Extract<SourceResolution, { ok: true }>): StackFrame {
  if (frame.lineno === undefined) return frame;
  const line = frame.lineno;
  const column = Math.max(0, (frame.colno ?? 1) - 1);
  const original = originalPositionFor(resolution.map.trace, { line, column });
  if (original.source === null || original.line === null) return frame;
  const sourceIndex = resolution.map.trace.resolvedSources.indexOf(original.source);
  const sourceLines = sourceIndex >= 0 ? resolution.map.lines[sourceIndex] : undefined;
  const name = enclosingName(resolution.map, resolution.minifiedLines, frame.function, line, column);
  const sourceName = resolution.map.trace.sources[sourceIndex] ?? original.source;
  // The minified module (a bundle's name) says nothing of the source: the original file does.
  const { module: minifiedModule, ...unminified } = frame;
  const resolved: StackFrame = {
    ...unminified,
    filename: cleanSourcePath(sourceName),
    abs_path: original.source,
    lineno: original.line,
    colno: original.column + 1,
    ...(name ? { function: name } : {}),
    data: { sourcemap: resolution.mapUrl, symbolicated: true, minified: { abs_path: frame.abs_path, filename: frame.filename, module: minifiedModule, function: frame.function, lineno: frame.lineno, colno: frame.colno } },
  };
  if (sourceLines) {
    resolved.context_line = sourceLines[original.line - 1] ?? '';
    resolved.pre_context = sourceLines.slice(Math.max(0, original.line - 1 - CONTEXT_LINES), original.line - 1);
    resolved.post_context = sourceLines.slice(original.line, original.line + CONTEXT_LINES);
  }
  return resolved;
}

const stacktraces = (event: NormalizedEvent) => [...(event.exception?.values ?? []).map((value) => value.stacktrace), ...(event.threads?.values ?? []).map((thread) => thread.stacktrace)];

/** Whether any frame could be symbolicated at all (JavaScript frames with a file and a line). */
export function hasMinifiedFrames(event: NormalizedEvent): boolean {
  return stacktraces(event).some((stacktrace) => stacktrace?.frames.some((frame) => (frame.abs_path ?? frame.filename) && frame.lineno !== undefined && !frame.data));
}

/**
 * The event with every frame that has a map resolved, and the errors of those whose map failed
 * (left as they came). Each file is looked up once.
 */
export async function symbolicateEvent(event: NormalizedEvent, lookup: SourceLookup): Promise<{ event: NormalizedEvent; errors: EventError[] }> {
  if (!hasMinifiedFrames(event)) return { event, errors: [] };
  const debugIds = new Map((event.debug_meta?.images ?? []).filter((image) => image.type === 'sourcemap').map((image) => [image.code_file, image.debug_id.toLowerCase()]));
  const files = new Map<string, Promise<SourceResolution | undefined>>();
  const errors: EventError[] = [];
  const reported = new Set<string>();
  const resolveFrames = async (frames: StackFrame[]) =>
    Promise.all(frames.map(async (frame) => {
      const absPath = frame.abs_path ?? frame.filename;
      if (!absPath || frame.lineno === undefined || frame.data) return frame;
      if (!files.has(absPath)) files.set(absPath, lookup({ absPath, debugId: debugIds.get(absPath) }));
      const resolution = await files.get(absPath)!;
      if (!resolution) return frame;
      if (!resolution.ok) {
        if (!reported.has(absPath)) errors.push(resolution.error);
        reported.add(absPath);
        return frame;
      }
      return symbolicateFrame(frame, resolution);
    }));
  const copy: NormalizedEvent = structuredClone(event);
  for (const stacktrace of stacktraces(copy)) if (stacktrace) stacktrace.frames = await resolveFrames(stacktrace.frames);
  return { event: copy, errors };
}
