import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { DomainRecord, RecordName, RecordTypes } from './records.ts';

/** Headers naming a record's schema, so any consumer (or `trapline decode`) can read any version. */
export const SCHEMA_HEADER = 'trapline-schema';
export const VERSION_HEADER = 'trapline-schema-version';

export interface SchemaSource {
  name: string;
  version: number;
  schema: avro.Schema;
}

export type Headers = Record<string, Buffer | string | undefined | (Buffer | string)[]>;

export interface Encoded {
  headers: Record<string, string>;
  value: Buffer;
}

export type DecodeResult =
  | { ok: true; record: DomainRecord }
  | { ok: false; reason: string };

interface Versions {
  latest: avro.Type;
  latestVersion: number;
  byVersion: Map<number, avro.Type>;
  resolvers: Map<number, avro.Resolver | null>;
}

const AVSC_FILE = /^([A-Za-z]+)\.v(\d+)\.avsc$/;

/** Reads `Name.vN.avsc` files: the shipped schemas by default. */
export function loadSchemaSources(dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'avro')): SchemaSource[] {
  return readdirSync(dir).flatMap((file) => {
    const match = AVSC_FILE.exec(file);
    if (!match) return [];
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as avro.Schema;
    return [{ name: match[1]!, version: Number(match[2]), schema }];
  });
}

/** A header's first value as text (Kafka gives Buffers, tests and producers strings). */
export function headerText(headers: Headers | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/**
 * Encodes with the newest version of a record's schema and decodes any version it knows,
 * resolving older writers to the newest reader. Decoding never throws: a record it cannot read is
 * a reason, for the dead-letter path.
 */
export class Codec {
  private readonly types = new Map<string, Versions>();
  /**
   * Where records are written before being copied out at their size: avsc's own toBuffer writes
   * into 1 KiB, so a record past that (every event) was written twice, into a zero-filled buffer
   * the second time. Grows to the largest record seen.
   */
  private scratch = Buffer.allocUnsafeSlow(64 * 1024);

  constructor(sources: SchemaSource[] = loadSchemaSources()) {
    for (const { name, version, schema } of sources) {
      const type = avro.Type.forSchema(schema);
      const entry = this.types.get(name) ?? { latest: type, latestVersion: version, byVersion: new Map(), resolvers: new Map() };
      entry.byVersion.set(version, type);
      if (version >= entry.latestVersion) {
        entry.latest = type;
        entry.latestVersion = version;
      }
      this.types.set(name, entry);
    }
    for (const entry of this.types.values()) {
      for (const [version, writer] of entry.byVersion) {
        entry.resolvers.set(version, version === entry.latestVersion ? null : entry.latest.createResolver(writer));
      }
    }
  }

  encode<N extends RecordName>(name: N, value: RecordTypes[N]): Encoded {
    const entry = this.types.get(name);
    if (!entry) throw new Error(`no schema named ${name}`);
    const errors: string[] = [];
    if (!entry.latest.isValid(value, { errorHook: (path) => errors.push(path.join('.') || '(root)') })) {
      throw new Error(`${name} does not match its schema at ${errors.join(', ')}`);
    }
    let end = entry.latest.encode(value, this.scratch, 0);
    if (end < 0) {
      // avsc answers how many bytes were missing.
      this.scratch = Buffer.allocUnsafeSlow(Math.max(this.scratch.length * 2, this.scratch.length - end));
      end = entry.latest.encode(value, this.scratch, 0);
    }
    const encoded = Buffer.allocUnsafe(end);
    this.scratch.copy(encoded, 0, 0, end);
    return { headers: { [SCHEMA_HEADER]: name, [VERSION_HEADER]: String(entry.latestVersion) }, value: encoded };
  }

  decode(headers: Headers | undefined, value: Buffer | null): DecodeResult {
    const name = headerText(headers, SCHEMA_HEADER);
    const versionText = headerText(headers, VERSION_HEADER);
    if (!name || !versionText) return { ok: false, reason: 'missing schema headers' };
    if (value === null) return { ok: false, reason: 'null value (a tombstone carries no record)' };
    const entry = this.types.get(name);
    if (!entry) return { ok: false, reason: `unknown schema ${name}` };
    const version = Number(versionText);
    const writer = entry.byVersion.get(version);
    if (!writer) return { ok: false, reason: `unknown version ${versionText} of ${name}` };
    try {
      const decoded = entry.latest.fromBuffer(value, entry.resolvers.get(version) ?? undefined) as unknown;
      const record = { name, version, value: decoded } as DomainRecord;
      return { ok: true, record };
    } catch (error) {
      return { ok: false, reason: `corrupt ${name} v${version}: ${(error as Error).message}` };
    }
  }

  /**
   * The bytes of a decoded record's string field as they lie in its value (a view, not a copy), when
   * the writer's schema ends with that field: Avro writes a record's fields in order and a string as
   * its length, then its UTF-8 bytes, and a decode refuses bytes left over, so the field is the
   * value's tail. Undefined for any other layout (the caller encodes the text instead).
   */
  trailingString(name: string, version: number, field: string, value: Buffer, text: string): Buffer | undefined {
    const fields = (this.types.get(name)?.byVersion.get(version) as { fields?: { name: string; type: avro.Type }[] } | undefined)?.fields;
    const last = fields?.at(-1);
    if (last?.name !== field || last.type.typeName !== 'string') return undefined;
    // Decoding put U+FFFD for each invalid sequence, so the text's length in UTF-8 is the bytes'
    // only where it has none (a valid U+FFFD of its own takes the copy too).
    if (text.includes('\uFFFD')) return undefined;
    const length = Buffer.byteLength(text);
    return length <= value.length ? value.subarray(value.length - length) : undefined;
  }

  /** Names and versions known, for `trapline decode` and the README. */
  known(): { name: string; version: number }[] {
    return [...this.types.entries()].flatMap(([name, entry]) => [...entry.byVersion.keys()].map((version) => ({ name, version })));
  }
}
