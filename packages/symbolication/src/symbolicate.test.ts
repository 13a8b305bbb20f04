import { describe, expect, it } from 'vitest';
import { candidateUrls, cleanSourcePath, resolveReference, sourceMappingUrl } from './source-urls.ts';
import { parseSourceMap, symbolicateEvent, symbolicateFrame, type SourceLookup } from './symbolicate.ts';

// A hand-made map: `function a(b){return b.c}` (one line) from `function readName(user) {\n  return user.name;\n}`.
const SOURCE = 'function readName(user) {\n  return user.name;\n}\n';
const MINIFIED = 'function a(b){return b.c}';
// Segments: [generated column, source, original line, original column, name]
// a@9 → readName@(0,9); b.c@21 → user.name@(1,9).
const MAP = JSON.stringify({
  version: 3, sources: ['../src/user.js'], sourcesContent: [SOURCE], names: ['readName', 'user', 'name'],
  mappings: 'AAAA,SAASA,YACP,YAAYC',
});

const parsed = parseSourceMap(MAP);
if ('error' in parsed) throw new Error(parsed.error);
const resolution = { ok: true as const, map: parsed, minifiedLines: MINIFIED.split('\n'), mapUrl: '~/user.min.js.map' };

describe('source URLs', () => {
  it.each([
    ['https://cdn.example.com/static/app.min.js?v=1', ['https://cdn.example.com/static/app.min.js?v=1', '~/static/app.min.js']],
    ['app:///dist/app.min.js', ['app:///dist/app.min.js', '~/dist/app.min.js']],
    ['/srv/app.min.js', ['/srv/app.min.js', '~/srv/app.min.js']],
    ['~/app.min.js', ['~/app.min.js']],
  ])('%s is looked up as %j', (absPath, expected) => {
    expect(candidateUrls(absPath)).toEqual(expected);
  });

  it('resolves a map reference against its file, ~/ kept', () => {
    expect(resolveReference('~/static/app.min.js', 'app.min.js.map')).toBe('~/static/app.min.js.map');
    expect(resolveReference('https://cdn.example.com/a/app.js', '../maps/app.js.map')).toBe('https://cdn.example.com/maps/app.js.map');
    expect(sourceMappingUrl('x()\n//# sourceMappingURL=app.js.map\n')).toBe('app.js.map');
    expect(cleanSourcePath('webpack://shop/./src/a.js')).toBe('src/a.js');
    expect(cleanSourcePath('../../src/a.js')).toBe('src/a.js');
  });
});

describe('symbolicateFrame', () => {
  it('gives the original file, line, column, enclosing function and context lines', () => {
    const frame = symbolicateFrame({ abs_path: '~/user.min.js', filename: 'user.min.js', module: 'user.min', function: 'a', lineno: 1, colno: 22 }, resolution);
    expect(frame).toMatchObject({ filename: 'src/user.js', lineno: 2, colno: 3, function: 'readName', context_line: '  return user.name;', pre_context: ['function readName(user) {'], post_context: ['}', ''] });
    expect(frame.module).toBeUndefined();
    expect(frame.data).toMatchObject({ symbolicated: true, minified: { function: 'a', lineno: 1, colno: 22, module: 'user.min' } });
  });

  it('leaves a frame the map does not cover as it came', () => {
    const frame = { abs_path: '~/user.min.js', function: 'a', lineno: 7, colno: 1 };
    expect(symbolicateFrame(frame, resolution)).toEqual(frame);
  });
});

describe('symbolicateEvent', () => {
  const event = {
    event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error' as const, platform: 'javascript', tags: [],
    exception: { values: [{ type: 'TypeError', stacktrace: { frames: [{ abs_path: '~/user.min.js', function: 'a', lineno: 1, colno: 22 }, { abs_path: '~/other.js', function: 'b', lineno: 1, colno: 1 }] } }] },
  };

  it('resolves frames with a map, keeps the others, and reports a map that fails once', async () => {
    const lookups: string[] = [];
    const lookup: SourceLookup = async ({ absPath }) => {
      lookups.push(absPath);
      return absPath === '~/user.min.js' ? resolution : { ok: false, error: { type: 'js_invalid_source', url: '~/other.js.map', reason: 'bad' } };
    };
    const { event: resolved, errors } = await symbolicateEvent(event, lookup);
    const frames = resolved.exception!.values[0]!.stacktrace!.frames;
    expect(frames.map((frame) => frame.function)).toEqual(['readName', 'b']);
    expect(errors).toEqual([{ type: 'js_invalid_source', url: '~/other.js.map', reason: 'bad' }]);
    expect(event.exception.values[0]!.stacktrace.frames[0]!.function).toBe('a'); // the input is not changed
    expect(lookups).toEqual(['~/user.min.js', '~/other.js']);
  });

  it('a map that does not parse is a reason, not a throw', () => {
    expect(parseSourceMap('{"version":3,"mappings":')).toMatchObject({ error: expect.any(String) });
  });
});
