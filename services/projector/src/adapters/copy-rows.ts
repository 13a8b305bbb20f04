// Rows in COPY's formats written straight into byte chunks: no string per row or per field and no
// joining and copying of row strings afterwards (both showed in the rebuild's profile). The text
// format (`CopyRows`: each field escaped as it is written, null as \N) for the small tables; the
// binary one (`BinaryRows`: each field its length and its bytes) for the events and their
// directory, which Postgres reads for a fifth less of its time (no line and field splitting, no
// text to parse into times and arrays) and the writer copies a payload into as it is, unescaped
// (bench/results/2026-12-08-binary-copy.md).

const CHUNK_BYTES = 256 * 1024;
const SPECIAL = /[\\\t\n\r]/;
/** What a quoted element of an array literal escapes. */
const ARRAY_SPECIAL = /["\\]/;
const ARRAY_SPECIALS = /["\\]/g;
const BACKSLASH = 0x5c;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
/** The letter after the backslash, by the byte escaped (none of them is part of a multi-byte UTF-8 sequence). */
const ESCAPED = new Uint8Array(256);
ESCAPED[BACKSLASH] = BACKSLASH;
ESCAPED[TAB] = 0x74; // t
ESCAPED[NEWLINE] = 0x6e; // n
ESCAPED[RETURN] = 0x72; // r

/**
 * Chunks given back once their COPY is done, taken again by the next rows: a bulk load writes
 * gigabytes of rows, and a fresh chunk each time is memory outside the heap that V8 counts as it
 * comes and goes, enough to start a full collection every few hundred milliseconds
 * (bench/results/2026-12-07-wire-read.md). (The live projector's batches, with one, were measured
 * no faster: three interleaved pairs, within its noise.)
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep = 64) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  }

  /** Chunks `take` made (their whole buffers); other sizes (a field larger than a chunk) are left to the collector. */
  give(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      if (this.free.length >= this.keep) return;
      if (chunk.buffer.byteLength === CHUNK_BYTES && chunk.byteOffset === 0) this.free.push(Buffer.from(chunk.buffer, 0, CHUNK_BYTES));
    }
  }
}

const NO_CHUNK = Buffer.alloc(0);

/** Rows written into chunks of a few hundred kilobytes; the fields are the formats' own (below). */
export abstract class RowChunks {
  private readonly chunks: Buffer[] = [];
  /** The chunk being written (none until the first field). */
  protected buffer: Buffer = NO_CHUNK;
  protected at = 0;
  /** Rows ended so far. */
  rows = 0;
  /** COPY's binary format (else its text format). */
  abstract readonly binary: boolean;

  /** With a pool, chunks come from it (and go back to it once their COPY is done: `recycle`). */
  constructor(private readonly pool?: ChunkPool) {}

  /** Chunks `take` gave whose COPY is done, back to the pool (if any) for the next rows. */
  recycle(chunks: readonly Buffer[]): void {
    this.pool?.give(chunks);
  }

  private fresh(): Buffer {
    return this.pool ? this.pool.take() : Buffer.allocUnsafe(CHUNK_BYTES);
  }

  /** Room for `bytes` more in the current chunk (a field larger than a chunk gets a chunk of its own). */
  protected room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    if (this.at > 0) this.chunks.push(this.buffer.subarray(0, this.at));
    this.buffer = bytes <= CHUNK_BYTES ? this.fresh() : Buffer.allocUnsafe(bytes);
    this.at = 0;
  }

  /** Bytes already in this format (fields written by a segments writer), copied as they are. */
  copied(bytes: Uint8Array, start: number, end: number): this {
    this.room(end - start);
    this.buffer.set(bytes.subarray(start, end), this.at);
    this.at += end - start;
    return this;
  }

  /** Counts a row whose end came with `copied` bytes. */
  ended(): void {
    this.rows += 1;
  }

  /** Every row so far, in chunks of a few hundred kilobytes (the writer is empty afterwards). */
  take(): Buffer[] {
    if (this.at > 0) this.chunks.push(this.buffer.subarray(0, this.at));
    this.buffer = this.at > 0 ? NO_CHUNK : this.buffer;
    this.at = 0;
    this.rows = 0;
    return this.chunks.splice(0);
  }
}

/** Rows in COPY's text format. */
export class CopyRows extends RowChunks {
  readonly binary = false;

  /** A text field (null: \N), escaped. */
  text(value: string | null): this {
    if (value === null) return this.raw('\\N');
    // UTF-8 takes at most 3 bytes per UTF-16 unit, and escaping at most doubles that; plus the tab.
    const plain = !SPECIAL.test(value);
    this.room((plain ? 3 : 6) * value.length + 1);
    const start = this.at;
    const written = this.buffer.write(value, start);
    if (!plain) this.escape(start, written);
    else this.at = start + written;
    this.buffer[this.at++] = TAB;
    return this;
  }

  /** A text field given as its UTF-8 bytes, escaped: copied as they are where nothing needs escaping. */
  textBytes(bytes: Buffer): this {
    this.room(2 * bytes.length + 1);
    const start = this.at;
    this.buffer.set(bytes, start);
    const plain = bytes.indexOf(BACKSLASH) === -1 && bytes.indexOf(TAB) === -1 && bytes.indexOf(NEWLINE) === -1 && bytes.indexOf(RETURN) === -1;
    if (!plain) this.escape(start, bytes.length);
    else this.at = start + bytes.length;
    this.buffer[this.at++] = TAB;
    return this;
  }

  /** A `text[]` field: the array's literal (each element quoted, `"` and `\` escaped), escaped as a text field. */
  textArray(values: readonly string[]): this {
    if (values.length === 0) return this.raw('{}');
    const quoted = values.map((value) => (ARRAY_SPECIAL.test(value) ? value.replace(ARRAY_SPECIALS, '\\$&') : value));
    return this.text(`{"${quoted.join('","')}"}`);
  }

  /** A field known to need no escaping: numbers, ISO times, `t`/`f`, \N. */
  raw(value: string | number): this {
    const text = typeof value === 'number' ? String(value) : value;
    this.room(3 * text.length + 1);
    this.at += this.buffer.write(text, this.at, 'latin1');
    this.buffer[this.at++] = TAB;
    return this;
  }

  /** Ends the row (its last field's tab becomes the newline). */
  end(): void {
    this.buffer[this.at - 1] = NEWLINE;
    this.rows += 1;
  }

  /** Escapes the `length` bytes at `start` in place, moving them up by the escapes' backslashes (from the end, so nothing is overwritten before it is moved). */
  private escape(start: number, length: number): void {
    const bytes = this.buffer;
    let specials = 0;
    for (let i = start; i < start + length; i += 1) if (ESCAPED[bytes[i]!] !== 0) specials += 1;
    const end = start + length + specials;
    let to = end - 1;
    for (let from = start + length - 1; specials > 0; from -= 1) {
      const byte = bytes[from]!;
      const letter = ESCAPED[byte]!;
      if (letter === 0) {
        bytes[to--] = byte;
      } else {
        bytes[to--] = letter;
        bytes[to--] = BACKSLASH;
        specials -= 1;
      }
    }
    this.at = end;
  }
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const TEXT_OID = 25;
const TWO_32 = 2 ** 32;

/** What a binary COPY starts with (signature, flags, no header extension) and ends with. */
export const BINARY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
export const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/**
 * Rows in COPY's binary format: each row its number of fields, each field its length and its
 * bytes (-1: null) in the column type's binary form: `bigint` and `timestamptz` eight bytes
 * (microseconds since 2000), `text` and `json` the UTF-8 text as it is, `text[]` a one-dimensional
 * array of text. Postgres checks text as it checks COPY's text format (its encoding, no NUL).
 */
export class BinaryRows extends RowChunks {
  readonly binary = true;

  /** Starts a row of `fields` fields (as many as the COPY's columns). */
  row(fields: number): this {
    this.room(2);
    this.at = this.buffer.writeInt16BE(fields, this.at);
    return this;
  }

  /** A `bigint` (a safe integer). */
  int8(value: number): this {
    this.room(12);
    this.at = this.buffer.writeInt32BE(8, this.at);
    this.int64(value);
    return this;
  }

  /** A `timestamptz` from epoch milliseconds (an integer). */
  timestamp(epochMs: number): this {
    this.room(12);
    this.at = this.buffer.writeInt32BE(8, this.at);
    const micros = (epochMs - PG_EPOCH_MS) * 1000;
    if (Number.isSafeInteger(micros)) this.int64(micros);
    else this.at = this.buffer.writeBigInt64BE(BigInt(epochMs - PG_EPOCH_MS) * 1000n, this.at); // past 2285
    return this;
  }

  bool(value: boolean): this {
    this.room(5);
    this.at = this.buffer.writeInt32BE(1, this.at);
    this.buffer[this.at++] = value ? 1 : 0;
    return this;
  }

  /** A `text` (or `json`) field; null: SQL null. */
  text(value: string | null): this {
    if (value === null) return this.null();
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.room(4 + 3 * value.length);
    const start = this.at;
    const written = this.buffer.write(value, start + 4);
    this.buffer.writeInt32BE(written, start);
    this.at = start + 4 + written;
    return this;
  }

  /** A `text` (or `json`) field given as its UTF-8 bytes. */
  textBytes(bytes: Uint8Array): this {
    this.room(4 + bytes.length);
    this.at = this.buffer.writeInt32BE(bytes.length, this.at);
    this.buffer.set(bytes, this.at);
    this.at += bytes.length;
    return this;
  }

  /** A `text[]` field: one dimension from 1, no nulls (none: the empty array). */
  textArray(values: readonly string[]): this {
    let most = 24;
    for (const value of values) most += 4 + 3 * value.length;
    this.room(most);
    const start = this.at;
    const buffer = this.buffer;
    let at = buffer.writeInt32BE(values.length === 0 ? 0 : 1, start + 4); // dimensions
    at = buffer.writeInt32BE(0, at); // no nulls
    at = buffer.writeInt32BE(TEXT_OID, at);
    if (values.length > 0) {
      at = buffer.writeInt32BE(values.length, at);
      at = buffer.writeInt32BE(1, at); // lower bound
      for (const value of values) {
        const written = buffer.write(value, at + 4);
        buffer.writeInt32BE(written, at);
        at += 4 + written;
      }
    }
    buffer.writeInt32BE(at - start - 4, start);
    this.at = at;
    return this;
  }

  null(): this {
    this.room(4);
    this.at = this.buffer.writeInt32BE(-1, this.at);
    return this;
  }

  /** Ends the row (counted: a binary row's end is its last field). */
  end(): void {
    this.rows += 1;
  }

  private int64(value: number): void {
    const high = Math.floor(value / TWO_32);
    this.at = this.buffer.writeInt32BE(high, this.at);
    this.at = this.buffer.writeUInt32BE(value - high * TWO_32, this.at);
  }
}

/**
 * Fields written as BinaryRows writes them, into one buffer that grows (not chunks), with the
 * boundaries marked: the parse workers write the parts of each event's rows that do not depend on
 * the decisions taken in log order, and the loader copies them between the fields it adds (the
 * issue's id). The buffer can be moved to another thread whole.
 */
export class CopySegments extends BinaryRows {
  private marks: number[] = [];

  constructor(bytes = CHUNK_BYTES) {
    super();
    this.buffer = Buffer.from(new ArrayBuffer(bytes));
  }

  protected override room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.from(new ArrayBuffer(Math.max(2 * this.buffer.length, this.at + bytes)));
    grown.set(this.buffer.subarray(0, this.at));
    this.buffer = grown;
  }

  /** Bytes as they are (not a field: no escaping, no tab), for the reader to find between two marks. */
  append(bytes: Uint8Array): this {
    this.room(bytes.length);
    this.buffer.set(bytes, this.at);
    this.at += bytes.length;
    return this;
  }

  /** Marks a boundary where the bytes written so far end; returns its index among the marks. */
  mark(): number {
    this.marks.push(this.at);
    return this.marks.length - 1;
  }

  /**
   * The bytes written and the marks (the writer is not used afterwards). The bytes' buffer is cut
   * to what was written: it is moved to the loader's thread, whose heap counts all of it.
   */
  done(): { bytes: Uint8Array; marks: Uint32Array } {
    const written = (this.buffer.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(this.at);
    return { bytes: new Uint8Array(written), marks: Uint32Array.from(this.marks) };
  }
}

/** The statement that copies rows of `format` into `target` (`table (columns)`), and their chunks framed as the format wants. */
export function copyFromStdin(target: string, binary: boolean, chunks: Buffer[]): { statement: string; data: Buffer[] } {
  return binary
    ? { statement: `COPY ${target} FROM STDIN (FORMAT binary)`, data: [BINARY_HEADER, ...chunks, BINARY_TRAILER] }
    : { statement: `COPY ${target} FROM STDIN`, data: chunks };
}
