// Sentry's exception entry as the issue page shows it: the exception raised last first (SDKs send
// the chain cause first), each stack most recent call first (SDKs send it caller first).

export interface Frame {
  filename?: string | null;
  abs_path?: string | null;
  module?: string | null;
  function?: string | null;
  lineno?: number | null;
  colno?: number | null;
  in_app?: boolean | null;
  pre_context?: string[] | null;
  context_line?: string | null;
  post_context?: string[] | null;
}

export interface ExceptionValue {
  type?: string | null;
  value?: string | null;
  module?: string | null;
  mechanism?: { type?: string; handled?: boolean } | null;
  stacktrace?: { frames?: Frame[] | null } | null;
}

export function exceptionChain(values: ExceptionValue[]): { exception: ExceptionValue; frames: Frame[] }[] {
  return [...values].reverse().map((exception) => ({ exception, frames: [...(exception.stacktrace?.frames ?? [])].reverse() }));
}

export interface SourceLine {
  lineno: number | undefined;
  code: string;
  current: boolean;
}

/** The frame's source around its line, where the SDK sent context lines; empty otherwise. */
export function sourceLines(frame: Frame): SourceLine[] {
  if (frame.context_line === undefined || frame.context_line === null) return [];
  const pre = frame.pre_context ?? [];
  const post = frame.post_context ?? [];
  const at = (offset: number) => (typeof frame.lineno === 'number' ? frame.lineno + offset : undefined);
  return [
    ...pre.map((code, index) => ({ lineno: at(index - pre.length), code, current: false })),
    { lineno: at(0), code: frame.context_line, current: true },
    ...post.map((code, index) => ({ lineno: at(index + 1), code, current: false })),
  ];
}

/** `module.function in file at line 12:5`, the parts the frame has. */
export function frameLocation(frame: Frame): string {
  const file = frame.filename ?? frame.abs_path ?? frame.module ?? '?';
  const line = typeof frame.lineno === 'number' ? `:${frame.lineno}${typeof frame.colno === 'number' ? `:${frame.colno}` : ''}` : '';
  return `${file}${line}`;
}
