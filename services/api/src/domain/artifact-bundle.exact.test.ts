import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { DeliveryRow, HookRow, RuleRow } from '@trapline/runtime';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { serializeDelivery, serializeHook, serializeRule } from './alerts-serialize.ts';
import { CHUNK_SIZE, chunkUploadOptions, readArtifactBundle, readChunk } from './artifact-bundle.ts';

// sentry-cli's upload protocol with plain bytes: the options it reads, each chunk checked, and
// the bundle it assembles read into files; and the alert shapes the project settings show.

const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

describe('chunk upload', () => {
  it('offers sentry-cli the sizes, hash and compression it uploads with', () => {
    expect(chunkUploadOptions('https://errors.example.com/api/0/organizations/acme/chunk-upload/')).toEqual({
      url: 'https://errors.example.com/api/0/organizations/acme/chunk-upload/',
      chunkSize: 8_388_608,
      chunksPerRequest: 64,
      maxFileSize: 268_435_456,
      maxRequestSize: 33_554_432,
      concurrency: 1,
      maxWait: 60,
      hashAlgorithm: 'sha1',
      compression: ['gzip'],
      accept: ['artifact_bundles', 'artifact_bundles_v2', 'sources', 'release_files'],
    });
  });

  const data = Buffer.from('console.log(1)');
  const name = sha1(data);

  it('takes a chunk whose bytes hash to its name, plain or gzipped', () => {
    expect(readChunk('file', name, data, sha1)).toEqual({ ok: true, sha1: name, data });
    expect(readChunk('file_gzip', name, gzipSync(data), sha1)).toEqual({ ok: true, sha1: name, data });
    const full = Buffer.alloc(CHUNK_SIZE, 1);
    expect(readChunk('file', sha1(full), full, sha1)).toMatchObject({ ok: true });
    expect(readChunk('file_gzip', sha1(full), gzipSync(full), sha1)).toMatchObject({ ok: true, sha1: sha1(full) });
  });

  it.each([
    ['file', 'A'.repeat(40), data, 400, `chunk name "${'A'.repeat(40)}" is not a SHA-1`],
    ['file', `${name}0`, data, 400, `chunk name "${name}0" is not a SHA-1`],
    ['file', `x${name}`, data, 400, `chunk name "x${name}" is not a SHA-1`],
    ['file', 'n'.repeat(100), data, 400, `chunk name "${'n'.repeat(60)}" is not a SHA-1`],
    ['file', 'f'.repeat(40), data, 400, `chunk ${'f'.repeat(40)} is corrupt: its bytes do not hash to its name`],
    ['file_gzip', name, data, 400, `chunk ${name} is not valid gzip`],
    ['blob', name, data, 400, 'unknown form field "blob": chunks go in file or file_gzip'],
    ['b'.repeat(100), name, data, 400, `unknown form field "${'b'.repeat(60)}": chunks go in file or file_gzip`],
  ])('refuses field %s, name %s', (field, chunkName, body, status, detail) => {
    expect(readChunk(field, chunkName, body, sha1)).toEqual({ ok: false, status, detail });
  });

  it('refuses a chunk larger than a chunk, plain or once gunzipped', () => {
    const big = Buffer.alloc(CHUNK_SIZE + 1);
    const detail = `chunk ${sha1(big)} is larger than 8388608 bytes`;
    expect(readChunk('file', sha1(big), big, sha1)).toEqual({ ok: false, status: 413, detail });
    expect(readChunk('file_gzip', sha1(big), gzipSync(big), sha1)).toEqual({ ok: false, status: 413, detail });
    const bomb = Buffer.alloc(CHUNK_SIZE * 2);
    expect(readChunk('file_gzip', sha1(bomb), gzipSync(bomb), sha1)).toEqual({ ok: false, status: 413, detail: `chunk ${sha1(bomb)} is larger than 8388608 bytes` });
  });
});

const bundleOf = (files: Record<string, Uint8Array>, header = '') => Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from(zipSync(files))]);
const manifest = (value: unknown) => strToU8(JSON.stringify(value));

describe('artifact bundles', () => {
  const minified = strToU8('function a(){}\n//# sourceMappingURL=app.min.js.map');
  const map = strToU8('{"version":3}');

  it('reads every file the manifest names, with its type, debug id and source map', () => {
    const bundle = bundleOf(
      {
        'manifest.json': manifest({
          files: {
            'files/_/_/app.min.js': { url: '~/app.min.js', type: 'minified_source', headers: { 'Debug-Id': 'C941D872-1B2C-4F3E-9D1A-0B1C2D3E4F50', Sourcemap: 'app.min.js.map' } },
            'files/_/_/app.min.js.map': { url: '~/app.min.js.map', type: 'source_map', headers: { 'debug-id': 'c941d872-1b2c-4f3e-9d1a-0b1c2d3e4f50' } },
            'files/_/_/other.js': { url: '~/other.js', headers: { 'X-SourceMap': 'other.js.map', 'debug-id': 42 } },
          },
          attributes: { release: 'web@1.0', dist: '7' },
        }),
        'files/_/_/app.min.js': minified,
        'files/_/_/app.min.js.map': map,
        'files/_/_/other.js': minified,
      },
    );
    expect(readArtifactBundle(bundle)).toEqual({
      ok: true,
      release: 'web@1.0',
      dist: '7',
      files: [
        { url: '~/app.min.js', type: 'minified_source', debugId: 'c941d872-1b2c-4f3e-9d1a-0b1c2d3e4f50', sourceMap: 'app.min.js.map', data: Buffer.from(minified) },
        { url: '~/app.min.js.map', type: 'source_map', debugId: 'c941d872-1b2c-4f3e-9d1a-0b1c2d3e4f50', sourceMap: null, data: Buffer.from(map) },
        { url: '~/other.js', type: 'source', debugId: null, sourceMap: 'other.js.map', data: Buffer.from(minified) },
      ],
    });
  });

  it('reads a bundle without files or attributes as empty', () => {
    expect(readArtifactBundle(bundleOf({ 'manifest.json': manifest({}) }))).toEqual({ ok: true, files: [], release: null, dist: null });
    expect(readArtifactBundle(bundleOf({ 'manifest.json': manifest({ files: {}, attributes: { release: 1, dist: null } }) }))).toEqual({ ok: true, files: [], release: null, dist: null });
  });

  it('looks for the ZIP in the first 64 bytes only (after the source bundle header)', () => {
    const files = { 'manifest.json': manifest({}) };
    // Shifted without fixing its offsets, the archive is found but does not read.
    expect(readArtifactBundle(bundleOf(files, 'h'.repeat(64)))).toMatchObject({ ok: false, detail: expect.stringMatching(/^the bundle is not a readable ZIP archive: /) });
    expect(readArtifactBundle(bundleOf(files, 'h'.repeat(65)))).toEqual({ ok: false, detail: 'the bundle is not a ZIP archive' });
  });

  it.each([
    ['not a ZIP', Buffer.from('plain text'), 'the bundle is not a ZIP archive'],
    ['without a manifest', bundleOf({ 'files/a.js': minified }), 'the bundle has no manifest.json'],
    ['with a manifest that is not JSON', bundleOf({ 'manifest.json': strToU8('{nope') }), 'the bundle manifest is not JSON'],
    ['naming a file it lacks', bundleOf({ 'manifest.json': manifest({ files: { 'files/a.js': { url: '~/a.js' } } }) }), 'the manifest names files/a.js, which the bundle lacks'],
    ['naming a file without a URL', bundleOf({ 'manifest.json': manifest({ files: { 'files/a.js': { type: 'source' } } }), 'files/a.js': minified }), 'the manifest names files/a.js, which the bundle lacks'],
  ])('refuses a bundle %s', (_case, bundle, detail) => {
    expect(readArtifactBundle(bundle)).toEqual({ ok: false, detail });
  });

  it('refuses a truncated ZIP and says why', () => {
    const bundle = bundleOf({ 'manifest.json': manifest({}) });
    const result = readArtifactBundle(bundle.subarray(0, 20));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.detail).toMatch(/^the bundle is not a readable ZIP archive: \S/);
  });
});

describe('alert shapes', () => {
  const created = new Date('2026-01-01T00:00:00.000Z');

  it('gives a rule Sentry’s fields, with the project it belongs to', () => {
    const rule: RuleRow = { rule_id: '7', project_id: 1, name: 'New issues', action_match: 'any', filter_match: 'all', frequency: 30, environment: null, conditions: [{ id: 'c' }], filters: [], actions: [{ id: 'a' }], status: 'active', created_by: 'user:1', created_at: created };
    expect(serializeRule(rule, 'web')).toEqual({
      id: '7',
      name: 'New issues',
      actionMatch: 'any',
      filterMatch: 'all',
      frequency: 30,
      environment: null,
      conditions: [{ id: 'c' }],
      filters: [],
      actions: [{ id: 'a' }],
      status: 'active',
      dateCreated: '2026-01-01T00:00:00.000Z',
      createdBy: null,
      owner: null,
      snooze: false,
      projects: ['web'],
    });
  });

  it('gives a service hook and a delivery their fields', () => {
    const hook: HookRow = { hook_id: 'h1', project_id: 1, url: 'https://hooks.example.com/', events: ['event.alert'], secret: 's3cret', status: 'active', created_at: created };
    expect(serializeHook(hook)).toEqual({ id: 'h1', url: 'https://hooks.example.com/', secret: 's3cret', status: 'active', events: ['event.alert'], dateCreated: '2026-01-01T00:00:00.000Z' });
    const delivery: DeliveryRow = { delivery_id: 'd1', project_id: 1, group_id: 99, rule_id: '7', rule_name: 'New issues', trigger: 'first_seen', kind: 'webhook', target: 'https://hooks.example.com/', status: 'failed', attempts: 3, last_error: '502', decided_at: created, changed_at: new Date('2026-01-01T00:05:00.000Z') };
    expect(serializeDelivery(delivery)).toEqual({
      id: 'd1',
      issueId: '99',
      ruleId: '7',
      ruleName: 'New issues',
      trigger: 'first_seen',
      kind: 'webhook',
      target: 'https://hooks.example.com/',
      status: 'failed',
      attempts: 3,
      lastError: '502',
      dateDecided: '2026-01-01T00:00:00.000Z',
      dateChanged: '2026-01-01T00:05:00.000Z',
    });
  });
});
