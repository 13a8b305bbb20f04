import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '@trapline/schemas';
import { mayHaveSourceMaps } from './source-maps.ts';

// Which events are worth a source-map lookup: minified JavaScript frames, and a debug id or a
// release to find their maps by. Each case changes one fact of an event that is.

const minified = { frames: [{ abs_path: 'https://app.example.com/app.min.js', lineno: 1, colno: 100 }] };
const base: NormalizedEvent = { event_id: 'e'.repeat(32), timestamp: 1, received: 1, level: 'error', platform: 'javascript', tags: [], exception: { values: [{ type: 'Error', value: 'x', stacktrace: minified }] } };
const sourcemapImage = { debug_meta: { images: [{ type: 'sourcemap', code_file: 'https://app.example.com/app.min.js', debug_id: 'd' }] } };

describe('whether an event may have source maps', () => {
  it.each<[string, Partial<NormalizedEvent>, boolean]>([
    ['minified frames and a release', { release: 'app@1' }, true],
    ['minified frames and a source-map debug id', sourcemapImage, true],
    ['a debug image of another kind, no release', { debug_meta: { images: [{ type: 'macho', code_file: 'x', debug_id: 'd' }] } }, false],
    ['a source-map debug id among other images', { debug_meta: { images: [{ type: 'macho', code_file: 'x', debug_id: 'm' }, ...sourcemapImage.debug_meta.images] } }, true],
    ['no debug id, no release', {}, false],
    ['a node event with a release', { release: 'app@1', platform: 'node' }, true],
    ['a python event with a release', { release: 'app@1', platform: 'python' }, false],
    ['a release, frames already with source', { release: 'app@1', exception: { values: [{ type: 'Error', value: 'x', stacktrace: { frames: [{ abs_path: 'app.js', lineno: 1, data: { sourcemap: 'x' } }] } }] } }, false],
    ['a release, no frames at all', { release: 'app@1', exception: undefined }, false],
  ])('%s: %s', (_, change, expected) => {
    expect(mayHaveSourceMaps({ ...base, ...change } as NormalizedEvent)).toBe(expected);
  });
});
