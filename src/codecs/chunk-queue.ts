/**
 * A queue of received chunks that decoders read frames out of, copying as little as possible:
 * a frame that lies inside one chunk is handed out as a zero-copy view of it; only a frame that
 * spans chunks is copied, once, into a buffer of its own.
 *
 * Rules that keep handed-out frames valid:
 * - the queue never writes into a buffer: views point into the caller's chunks (which the
 *   caller promised not to modify) and copies go to fresh allocations, never reused;
 * - a consumed chunk is dropped from the queue at once, so the queue never holds more than the
 *   unread bytes. A view does keep its whole chunk alive while the user holds it (a 5-byte
 *   frame can pin a 64 KiB read); copy frames you keep for long (`Buffer.from(frame)`).
 *
 * Positions in the API are counted from the first unread byte.
 */
import { Buffer } from 'node:buffer';

/** Stands in for dropped chunks, so the array holds one element kind and no stale reference. */
const EMPTY = Buffer.alloc(0);

/**
 * Dropped slots at the front of the array before it may be compacted; it is compacted only
 * once they are also half of it. Each compaction moves the live slots, so moving at most as
 * many as were dropped keeps it amortised O(1) per chunk (compacting every 32 drops of a
 * 65,536-chunk line was O(n²)); when the queue empties the array is simply cleared.
 */
const COMPACT_AFTER_DROPS = 32;

/** The widest integer, in bytes, that `Buffer#readUIntBE` reads (48 bits). */
const MAX_NATIVE_UINT = 6;
const BYTE = 256;

export class ChunkQueue {
  /**
   * Live chunks are `#chunks[#head..]`; slots before `#head` hold `EMPTY`. When the queue is
   * empty `#head` may equal the array's length (see `#dropHead`).
   */
  #chunks: Buffer[] = [];
  #head = 0;
  /** Bytes of `#chunks[#head]` already consumed. */
  #offset = 0;
  #length = 0;
  /**
   * Where the last fruitless search can resume: a chunk index and the position of its first
   * unread byte, or -1 when a take or skip made it stale. Without it every search walks the
   * chunk list from the front: a 64 KiB line trickled in 1-byte reads cost 8 s of CPU
   * (O(reads²)); with it, O(reads).
   */
  #cursorIndex = -1;
  #cursorBase = 0;
  /** Where the bytes of the last `takeInPlace` start in the buffer it returned. */
  #placeStart = 0;

  /** Unread bytes in the queue. */
  get length(): number {
    return this.#length;
  }

  /** Appends a chunk by reference; the caller must not modify it afterwards. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#length === 0) {
      // The queue is empty (every chunk dropped): start a one-slot array. A connection holding
      // one partial frame, the usual idle state, then keeps 8 bytes of slots rather than the
      // 17 that the first push into an empty array reserves.
      this.#chunks = [chunk];
      this.#head = 0;
      this.#offset = 0;
      this.#cursorIndex = -1;
    } else {
      this.#chunks.push(chunk);
    }
    this.#length += chunk.length;
  }

  /** The byte at `position`, or -1 when `position` is not below {@link length}. */
  byteAt(position: number): number {
    const chunks = this.#chunks;
    let index = this.#offset + position;
    for (let i = this.#head; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (index < chunk.length) return chunk[index]!;
      index -= chunk.length;
    }
    return -1;
  }

  /**
   * The position of the first complete occurrence of `needle` at or after `from`, or -1.
   * Occurrences split across chunks are found. When the answer is -1, every position where the
   * needle would fit entirely has been checked, so a later search may start at
   * `length - needle.length + 1`.
   *
   * Searches for the needle's first byte with the native `indexOf(number)` (memchr; several
   * times faster per call than `indexOf(Buffer)` on short lines), then checks the rest.
   */
  indexOf(needle: Uint8Array, from: number): number {
    const first = needle[0]!;
    const chunks = this.#chunks;
    let i = this.#head;
    let base = 0;
    if (this.#cursorIndex !== -1 && from >= this.#cursorBase) {
      i = this.#cursorIndex;
      base = this.#cursorBase;
    }
    for (; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const start = i === this.#head ? this.#offset : 0;
      const end = base + chunk.length - start;
      if (from < end) {
        let at = chunk.indexOf(first, from > base ? start + from - base : start);
        while (at !== -1) {
          if (needle.length === 1 || this.#matchesAt(needle, i, at)) return base + at - start;
          at = chunk.indexOf(first, at + 1);
        }
      }
      base = end;
    }
    this.#placeCursor(this.#length - needle.length + 1);
    return -1;
  }

  /**
   * Removes the first `count` bytes and returns them, then discards `discardAfter` more (a
   * delimiter, say; one call instead of two on the hot path). The bytes come as a view when
   * they lie in one chunk (the chunk itself when it is consumed whole), else as a new buffer.
   * `count + discardAfter` must not exceed {@link length}.
   */
  take(count: number, discardAfter = 0): Buffer {
    this.#cursorIndex = -1;
    const chunk = this.#chunks[this.#head];
    const start = this.#offset;
    const end = start + count;
    const after = end + discardAfter;
    // The hot path, kept small enough to inline: the bytes and what follows lie in the head
    // (a read holding exactly one line ends with its delimiter: the usual case).
    if (chunk !== undefined && after <= chunk.length) {
      this.#length -= count + discardAfter;
      if (after < chunk.length) this.#offset = after;
      else this.#dropHead();
      return start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end);
    }
    // The bytes span chunks: takeInPlace copies them once, into a buffer of exactly `count`.
    return this.takeInPlace(count, discardAfter);
  }

  /**
   * As {@link take}, without making a Buffer for the bytes: returns the buffer they lie in, at
   * {@link placeStart} — the chunk itself, or a new copy when they span chunks.
   */
  takeInPlace(count: number, discardAfter = 0): Buffer {
    this.#cursorIndex = -1;
    const chunk = this.#chunks[this.#head];
    const start = this.#offset;
    const after = start + count + discardAfter;
    if (chunk !== undefined && after <= chunk.length) {
      this.#length -= count + discardAfter;
      if (after < chunk.length) this.#offset = after;
      else this.#dropHead();
      this.#placeStart = start;
      return chunk;
    }
    const copy = this.#copyOut(count);
    if (discardAfter !== 0) this.skip(discardAfter);
    this.#placeStart = 0;
    return copy;
  }

  /** Where the bytes of the last {@link takeInPlace} start in the buffer it returned. */
  get placeStart(): number {
    return this.#placeStart;
  }

  /**
   * Reads, without removing it, the unsigned integer of `size` bytes (1 to 8) at `position`;
   * the bytes may straddle chunks. Exact up to 2^53 - 1; above that the result is rounded but
   * stays >= 2^53. At least `position + size` bytes must be queued.
   */
  readUInt(position: number, size: number, littleEndian: boolean): number {
    const chunk = this.#chunks[this.#head]!;
    const at = this.#offset + position;
    // Fast path: inside the first chunk and within what Buffer reads natively.
    if (size <= MAX_NATIVE_UINT && at + size <= chunk.length) {
      return littleEndian ? chunk.readUIntLE(at, size) : chunk.readUIntBE(at, size);
    }
    // Byte by byte into a double rather than with readBigUInt64*: no BigInt allocated, and a
    // rounded value >= 2^53 is all a caller checking a limit needs.
    let value = 0;
    if (littleEndian) {
      for (let i = size - 1; i >= 0; i--) value = value * BYTE + this.byteAt(position + i);
    } else {
      for (let i = 0; i < size; i++) value = value * BYTE + this.byteAt(position + i);
    }
    return value;
  }

  /** Removes the first `count` bytes without looking at them. */
  skip(count: number): void {
    this.#cursorIndex = -1;
    let left = count;
    this.#length -= count;
    while (left > 0) {
      const chunk = this.#chunks[this.#head]!;
      const available = chunk.length - this.#offset;
      if (left < available) {
        this.#offset += left;
        return;
      }
      left -= available;
      this.#dropHead();
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#cursorIndex = -1;
    this.#chunks.length = 0;
    this.#head = 0;
    this.#offset = 0;
    this.#length = 0;
  }

  /**
   * Points the search cursor at the chunk holding `position`, where the next search will
   * start: found walking back from the last chunk, at most `needle.length - 1` steps.
   */
  #placeCursor(position: number): void {
    const chunks = this.#chunks;
    let index = chunks.length - 1;
    if (index < this.#head) return;
    let base = this.#length - this.#liveSize(index);
    while (base > position && index > this.#head) {
      index--;
      base -= this.#liveSize(index);
    }
    this.#cursorIndex = index;
    this.#cursorBase = base;
  }

  /** Unread bytes of chunk `index`. */
  #liveSize(index: number): number {
    return this.#chunks[index]!.length - (index === this.#head ? this.#offset : 0);
  }

  /** Whether `needle[1..]` follows the byte at `at` of chunk `index`, possibly in later chunks. */
  #matchesAt(needle: Uint8Array, index: number, at: number): boolean {
    const chunks = this.#chunks;
    let i = index;
    let chunk = chunks[i]!;
    let position = at;
    for (let k = 1; k < needle.length; k++) {
      position++;
      while (position >= chunk.length) {
        i++;
        if (i >= chunks.length) return false;
        position = 0;
        chunk = chunks[i]!;
      }
      if (chunk[position] !== needle[k]) return false;
    }
    return true;
  }

  /** The slow path of `take`: the bytes span chunks, so they are copied once. */
  #copyOut(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    let written = 0;
    while (written < count) {
      const chunk = this.#chunks[this.#head]!;
      const start = this.#offset;
      const n = Math.min(chunk.length - start, count - written);
      chunk.copy(out, written, start, start + n);
      written += n;
      if (start + n === chunk.length) this.#dropHead();
      else this.#offset = start + n;
    }
    this.#length -= count;
    return out;
  }

  #dropHead(): void {
    const chunks = this.#chunks;
    chunks[this.#head] = EMPTY;
    this.#head++;
    this.#offset = 0;
    if (this.#head === chunks.length) {
      // Empty. A one-slot array (a read that held whole frames) is left as it is, its head
      // past its end: the next push starts a new array anyway, and setting `length` is a call
      // into the runtime on every message. A longer one is cut, not to keep its slots.
      if (chunks.length > 1) {
        chunks.length = 0;
        this.#head = 0;
      }
    } else if (this.#head >= COMPACT_AFTER_DROPS && this.#head * 2 >= chunks.length) {
      chunks.copyWithin(0, this.#head);
      chunks.length -= this.#head;
      this.#head = 0;
    }
  }
}
