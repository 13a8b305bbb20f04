// The ids of the events a bulk load has stored, per project (bulk.ts: a duplicate is skipped as the
// per-batch path skips it). Event ids are 32 lowercase hex digits (ingest's normalization): each is
// held as its 128 bits in an open-addressing table of typed arrays, 16 bytes a slot at most half to
// three quarters full (≈ 21–43 bytes an id, against ≈ 80 for a Set of the decoded strings), exact
// (no hash stands for an id) and invisible to the garbage collector. An id of any other form (a
// record written by hand, an older producer) goes to a Set of strings beside it.

const INITIAL_SLOTS = 1024;

/** The id's four 32-bit words into `words` at `at`, or false when it is not 32 lowercase hex digits. */
function pack(id: string, words: Uint32Array, at: number): boolean {
  if (id.length !== 32) return false;
  for (let word = 0; word < 4; word += 1) {
    let value = 0;
    for (let i = word * 8; i < word * 8 + 8; i += 1) {
      const c = id.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (digit < 0) return false;
      value = (value << 4) | digit;
    }
    words[at + word] = value >>> 0;
  }
  return true;
}

/** murmur3's finalizer over the four words: ids that differ in any bit spread over the table. */
function hash(words: Uint32Array, at: number): number {
  let h = words[at]! ^ Math.imul(words[at + 1]!, 0x9e3779b1) ^ Math.imul(words[at + 2]!, 0x85ebca6b) ^ Math.imul(words[at + 3]!, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class EventIds {
  private slots = INITIAL_SLOTS;
  private words = new Uint32Array(4 * INITIAL_SLOTS);
  /** 1 where a slot holds an id (the all-zero id is an id too). */
  private used = new Uint8Array(INITIAL_SLOTS);
  private packed = 0;
  private readonly others = new Set<string>();
  /** The id last looked up, packed into `key` (the bulk load adds an id right after asking for it). */
  private readonly key = new Uint32Array(4);
  private keyOf: string | undefined;
  private keyPacked = false;

  get size(): number {
    return this.packed + this.others.size;
  }

  /** Packs the id into `key` unless it is the one packed last; false when it is not 32 lowercase hex digits. */
  private packKey(id: string): boolean {
    if (id !== this.keyOf) {
      this.keyOf = id;
      this.keyPacked = pack(id, this.key, 0);
    }
    return this.keyPacked;
  }

  has(id: string): boolean {
    if (!this.packKey(id)) return this.others.has(id);
    return this.find(this.key) >= 0;
  }

  /** Adds the id (nothing when it is held already). */
  add(id: string): void {
    if (!this.packKey(id)) {
      this.others.add(id);
      return;
    }
    const slot = this.find(this.key);
    if (slot >= 0) return;
    if (4 * (this.packed + 1) > 3 * this.slots) this.grow();
    this.put(this.key, 0);
  }

  /** The slot holding the key's id, or -1 (linear probing: the table is never full). */
  private find(key: Uint32Array): number {
    const mask = this.slots - 1;
    for (let slot = hash(key, 0) & mask; ; slot = (slot + 1) & mask) {
      if (this.used[slot] === 0) return -1;
      const at = 4 * slot;
      if (this.words[at] === key[0] && this.words[at + 1] === key[1] && this.words[at + 2] === key[2] && this.words[at + 3] === key[3]) return slot;
    }
  }

  /** Puts an id known to be absent (from `source` at `from`) in the first free slot of its probe. */
  private put(source: Uint32Array, from: number): void {
    const mask = this.slots - 1;
    let slot = hash(source, from) & mask;
    while (this.used[slot] !== 0) slot = (slot + 1) & mask;
    this.used[slot] = 1;
    this.words.set(source.subarray(from, from + 4), 4 * slot);
    this.packed += 1;
  }

  private grow(): void {
    const { words, used } = this;
    this.slots *= 2;
    this.words = new Uint32Array(4 * this.slots);
    this.used = new Uint8Array(this.slots);
    this.packed = 0;
    for (let slot = 0; slot < used.length; slot += 1) if (used[slot] !== 0) this.put(words, 4 * slot);
  }
}
