/**
 * The byte queue behind a `StreamReader`: the chunks as they arrived, never concatenated on
 * arrival. Taking bytes that lie in one chunk is a zero-copy `subarray`; only a take that spans
 * chunks copies, and only the bytes it returns. So a reader fed many small chunks does O(n)
 * work, where `Buffer.concat` on every arrival would be O(n²).
 *
 * Positions are counted from the first byte still queued.
 */

const EMPTY = Buffer.alloc(0);

/**
 * Chunks consumed from the front are dropped by moving `#head`; the array is compacted once at
 * least this many dead slots make up half of it, so the front is never shifted per take.
 */
const COMPACT_AFTER_CHUNKS = 32;

export class ChunkQueue {
  #chunks: Buffer[] = [];
  /** Index in `#chunks` of the first chunk with queued bytes. */
  #head = 0;
  /** Bytes of `#chunks[#head]` already taken. */
  #offset = 0;
  #length = 0;
  /**
   * Where the last search started: chunk index and that chunk's position. A `readUntil` that
   * waits for more data searches again from where it stopped; without this cache each search
   * would walk the chunk list from the front, O(chunks²) for a long line in tiny chunks. Only a
   * take moves positions, so only a take invalidates it.
   */
  #scanChunk = 0;
  #scanStart = 0;

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends a chunk; the queue keeps it (no copy). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Removes and returns the first `n` bytes (`0 <= n <= length`). */
  take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.#chunks[this.#head]!;
    const available = first.length - this.#offset;
    let out: Buffer;
    if (n < available) {
      out = first.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
    } else if (n === available) {
      out = this.#offset === 0 ? first : first.subarray(this.#offset);
      this.#dropHead();
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.#chunks[this.#head]!;
        const count = Math.min(chunk.length - this.#offset, n - filled);
        chunk.copy(out, filled, this.#offset, this.#offset + count);
        filled += count;
        if (this.#offset + count === chunk.length) this.#dropHead();
        else this.#offset += count;
      }
    }
    this.#length -= n;
    this.#scanChunk = this.#head;
    this.#scanStart = 0;
    return out;
  }

  /** Removes and returns every queued byte. */
  takeAll(): Buffer {
    return this.take(this.#length);
  }

  /**
   * Position of the first occurrence of `needle` (non-empty) that starts at or after `from`,
   * or -1. Matches may span chunks.
   */
  indexOf(needle: Uint8Array, from: number): number {
    const length = this.#length;
    if (from < 0) from = 0;
    if (from + needle.length > length) return -1;
    // Find the chunk holding `from`, starting at the cached one when it is not past `from`.
    let index = this.#head;
    let start = 0;
    if (this.#scanStart <= from && this.#scanChunk >= this.#head) {
      index = this.#scanChunk;
      start = this.#scanStart;
    }
    for (;;) {
      const size = this.#liveSize(index);
      if (from < start + size) break;
      start += size;
      index += 1;
    }
    this.#scanChunk = index;
    this.#scanStart = start;

    const first = needle[0]!;
    for (; index < this.#chunks.length; index += 1) {
      const chunk = this.#chunks[index]!;
      const base = index === this.#head ? this.#offset : 0;
      let at = base + Math.max(from - start, 0);
      for (;;) {
        const hit = chunk.indexOf(first, at);
        if (hit === -1) break;
        const position = start + (hit - base);
        if (position + needle.length > length) return -1;
        if (this.#matchesAt(needle, index, hit)) return position;
        at = hit + 1;
      }
      start += chunk.length - base;
    }
    return -1;
  }

  /** Whether `needle` occurs at byte `at` of chunk `index`, continuing into later chunks. */
  #matchesAt(needle: Uint8Array, index: number, at: number): boolean {
    let chunk = this.#chunks[index]!;
    let position = at;
    for (let i = 0; i < needle.length; i += 1) {
      while (position === chunk.length) {
        index += 1;
        chunk = this.#chunks[index]!;
        position = 0;
      }
      if (chunk[position] !== needle[i]) return false;
      position += 1;
    }
    return true;
  }

  #liveSize(index: number): number {
    const size = this.#chunks[index]!.length;
    return index === this.#head ? size - this.#offset : size;
  }

  #dropHead(): void {
    this.#offset = 0;
    this.#head += 1;
    const chunks = this.#chunks;
    if (this.#head === chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER_CHUNKS && this.#head * 2 >= chunks.length) {
      this.#chunks = chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
