import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { Codec, loadSchemaSources, SCHEMA_HEADER, VERSION_HEADER, type SchemaSource } from './codec.ts';
import type { RecordName } from './records.ts';

// The codec's exact answers: headers as kafkajs hands them over (Buffers, repeated headers), the
// reason a dead-lettered record carries, versions given in any order, schema files found by name.

const V1: avro.Schema = { type: 'record', name: 'Thing', fields: [{ name: 'id', type: 'long' }] };
const V2: avro.Schema = { type: 'record', name: 'Thing', fields: [{ name: 'id', type: 'long' }, { name: 'note', type: ['null', 'string'], default: null }] };
const THING = 'Thing' as RecordName;
const thing = (sources: SchemaSource[]) => new Codec(sources);

describe('versions', () => {
  it('encodes with the newest version whatever order the sources come in, and reads the older one', () => {
    for (const sources of [
      [{ name: 'Thing', version: 1, schema: V1 }, { name: 'Thing', version: 2, schema: V2 }],
      [{ name: 'Thing', version: 2, schema: V2 }, { name: 'Thing', version: 1, schema: V1 }],
    ]) {
      const codec = thing(sources);
      const written = codec.encode(THING, { id: 1, note: 'n' } as never);
      expect(written.headers).toEqual({ [SCHEMA_HEADER]: 'Thing', [VERSION_HEADER]: '2' });
      expect(codec.decode(written.headers, written.value)).toEqual({ ok: true, record: { name: 'Thing', version: 2, value: expect.objectContaining({ id: 1, note: 'n' }) } });
      const old = thing([{ name: 'Thing', version: 1, schema: V1 }]).encode(THING, { id: 2 } as never);
      expect(old.headers[VERSION_HEADER]).toBe('1');
      const decoded = codec.decode(old.headers, old.value);
      expect(decoded.ok && decoded.record.version).toBe(1);
      expect(decoded.ok && { ...decoded.record.value }).toEqual({ id: 2, note: null });
      expect(codec.known()).toEqual(expect.arrayContaining([{ name: 'Thing', version: 1 }, { name: 'Thing', version: 2 }]));
      expect(codec.known()).toHaveLength(2);
    }
  });

  it('lists every shipped name and version', () => {
    const known = new Codec().known();
    expect(known).toEqual(expect.arrayContaining([{ name: 'EventsPurged', version: 1 }, { name: 'EventsPurged', version: 2 }, { name: 'EventReceived', version: 1 }]));
    expect(known).toHaveLength(loadSchemaSources().length);
  });
});

describe('decoding', () => {
  const codec = thing([{ name: 'Thing', version: 1, schema: V1 }]);
  const written = codec.encode(THING, { id: 7 } as never);

  it('reads headers as Buffers and the first of repeated headers, as kafkajs gives them', () => {
    const buffers = { [SCHEMA_HEADER]: Buffer.from('Thing'), [VERSION_HEADER]: Buffer.from('1') };
    expect(codec.decode(buffers, written.value)).toMatchObject({ ok: true, record: { name: 'Thing', version: 1, value: { id: 7 } } });
    const repeated = { [SCHEMA_HEADER]: [Buffer.from('Thing'), 'Other'], [VERSION_HEADER]: ['1', '2'] };
    expect(codec.decode(repeated, written.value)).toMatchObject({ ok: true, record: { name: 'Thing', version: 1 } });
  });

  it.each([
    ['no headers', undefined, 'missing schema headers'],
    ['no version', { [SCHEMA_HEADER]: 'Thing' }, 'missing schema headers'],
    ['no name', { [VERSION_HEADER]: '1' }, 'missing schema headers'],
    ['an empty name', { [SCHEMA_HEADER]: '', [VERSION_HEADER]: '1' }, 'missing schema headers'],
    ['an empty version', { [SCHEMA_HEADER]: 'Thing', [VERSION_HEADER]: '' }, 'missing schema headers'],
    ['an empty repeated header', { [SCHEMA_HEADER]: [], [VERSION_HEADER]: '1' }, 'missing schema headers'],
    ['an unknown schema', { [SCHEMA_HEADER]: 'Nope', [VERSION_HEADER]: '1' }, 'unknown schema Nope'],
    ['an unknown version', { [SCHEMA_HEADER]: 'Thing', [VERSION_HEADER]: '9' }, 'unknown version 9 of Thing'],
    ['a version that is no number', { [SCHEMA_HEADER]: 'Thing', [VERSION_HEADER]: 'v1' }, 'unknown version v1 of Thing'],
  ])('refuses a record with %s: %s', (_case, headers, reason) => {
    expect(codec.decode(headers, written.value)).toEqual({ ok: false, reason });
  });

  it('refuses a tombstone and corrupt bytes with their reasons', () => {
    expect(codec.decode(written.headers, null)).toEqual({ ok: false, reason: 'null value (a tombstone carries no record)' });
    const corrupt = codec.decode(written.headers, Buffer.from([0xff, 0xff, 0xff]));
    expect(corrupt.ok).toBe(false);
    expect(!corrupt.ok && corrupt.reason).toMatch(/^corrupt Thing v1: \S/);
  });
});

describe('encoding', () => {
  const codec = thing([{ name: 'Thing', version: 1, schema: V1 }]);

  it('names the schema and its version in headers every consumer (and trapline decode) reads', () => {
    expect(codec.encode(THING, { id: 1 } as never).headers).toEqual({ 'trapline-schema': 'Thing', 'trapline-schema-version': '1' });
  });

  it('says which fields do not match, nested ones by their path', () => {
    const nested: avro.Schema = { type: 'record', name: 'Outer', fields: [{ name: 'inner', type: { type: 'record', name: 'Inner', fields: [{ name: 'n', type: 'long' }, { name: 's', type: 'string' }] } }] };
    const outer = new Codec([{ name: 'Outer', version: 1, schema: nested }]);
    expect(() => outer.encode('Outer' as RecordName, { inner: { n: 'x', s: 1 } } as never)).toThrow(new Error('Outer does not match its schema at inner.n, inner.s'));
  });

  it('says which field does not match, or the root', () => {
    expect(() => codec.encode(THING, { id: 'x' } as never)).toThrow(new Error('Thing does not match its schema at id'));
    expect(() => codec.encode(THING, null as never)).toThrow(new Error('Thing does not match its schema at (root)'));
    expect(() => codec.encode('Nope' as RecordName, {} as never)).toThrow(new Error('no schema named Nope'));
  });
});

describe('schema files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trapline-avsc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads Name.vN.avsc files and nothing else', () => {
    for (const file of ['Thing.v1.avsc', 'Thing.v12.avsc', 'README.md', 'Thing.v1.avsc.bak', '_Thing.v1.avsc', 'Thing.v.avsc', 'Thing1.v1.avsc', 'Thing.v1.json']) writeFileSync(join(dir, file), JSON.stringify(V1));
    const sources = loadSchemaSources(dir).sort((a, b) => a.version - b.version);
    expect(sources).toEqual([
      { name: 'Thing', version: 1, schema: V1 },
      { name: 'Thing', version: 12, schema: V1 },
    ]);
  });
});
