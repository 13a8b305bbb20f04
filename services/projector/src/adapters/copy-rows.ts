// Rows in COPY's text format written straight into byte chunks: each field escaped as it is written
// (backslash, tab, newline and carriage return; null as \N), no string per row or per field and no
// joining and copying of row strings afterwards (both showed in the rebuild's profile).

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

export class CopyRows {
  private readonly chunks: Buffer[] = [];
  /** The chunk being written (none until the first field). */
  protected buffer: Buffer = NO_CHUNK;
  protected at = 0;
  /** Rows ended so far. */
  rows = 0;

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

  /** Bytes already in COPY's text form (fields written by a `CopySegments`), copied as they are. */
  copied(bytes: Uint8Array, start: number, end: number): this {
    this.room(end - start);
    this.buffer.set(bytes.subarray(start, end), this.at);
    this.at += end - start;
    return this;
  }

  /** Counts a row whose newline came with `copied` bytes. */
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

/**
 * Fields written as CopyRows writes them, into one buffer that grows (not chunks), with the
 * boundaries marked: the parse workers write the parts of each event's rows that do not depend on
 * the decisions taken in log order, and the loader copies them between the fields it adds (the
 * issue's id). The buffer can be moved to another thread whole.
 */
export class CopySegments extends CopyRows {
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
