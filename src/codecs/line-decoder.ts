/**
 * The line decoder: splits a byte stream at a delimiter (`\n` by default, with an optional `\r`
 * before it stripped) and yields each line without its line ending, as a Buffer.
 *
 * Bounded: a line longer than `maxLength` is detected as soon as `maxLength` bytes (plus a
 * possible `\r` or partial delimiter) have arrived without a line ending, so the decoder never
 * holds more than `maxLength + delimiter.length` bytes between calls. What happens then:
 * - by default the line is fatal: `next()` throws `FrameTooLargeError`, drops its buffer, and
 *   throws the same error from then on;
 * - with `onOversized` (the recovery mode) the error is passed to that function instead, the
 *   line's bytes are discarded as they arrive up to and including the next delimiter, and
 *   decoding continues with the line after it.
 */
import { FrameTooLargeError, IncompleteReadError } from '../errors.js';
import { ChunkQueue } from './chunk-queue.js';
import type { Decoder, FrameVisitor } from './codec.js';
import { CR, type LineFormat, type LineFormatOptions, resolveLineFormat } from './line-format.js';

/** Options of {@link LineDecoder}. */
export interface LineDecoderOptions extends LineFormatOptions {
  /**
   * Turns on the recovery mode: an oversized line is reported here (once, as soon as it is
   * seen; `size` is the line's length if its end had arrived, else the bytes seen so far), then
   * skipped up to the next delimiter, and decoding goes on. If this function throws, the error
   * leaves `next()` but the decoder stays in a sound state and keeps discarding.
   * @default undefined — an oversized line is fatal
   */
  onOversized?: (error: FrameTooLargeError) => void;

  /**
   * At `end()`, hand out the bytes after the last delimiter as a final line (stripped of a
   * trailing `\r` like any other line) instead of raising `IncompleteReadError`.
   * @default false
   */
  emitUnterminated?: boolean;
}

/** Splits a byte stream into lines. See the file comment for limits and recovery. */
export class LineDecoder implements Decoder<Buffer> {
  readonly #queue = new ChunkQueue();
  /** Shared with every decoder of the same options (see `resolveLineFormat`). */
  protected readonly format: LineFormat;
  readonly #onOversized: ((error: FrameTooLargeError) => void) | undefined;
  readonly #emitUnterminated: boolean;
  /**
   * Bytes at the front of the queue where no delimiter starts: the next search begins here, so
   * a long line arriving in many reads is scanned once, not once per read.
   */
  #scanned = 0;
  /** True while skipping the rest of an oversized line (recovery mode only). */
  #discarding = false;
  #failure: Error | undefined;

  constructor(options: LineDecoderOptions = {}) {
    this.format = resolveLineFormat(options);
    this.#onOversized = options.onOversized;
    this.#emitUnterminated = options.emitUnterminated ?? false;
  }

  get bufferedBytes(): number {
    return this.#queue.length;
  }

  push(chunk: Buffer): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#queue.push(chunk);
  }

  next(): Buffer | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    const queue = this.#queue;
    // Asked again after the last line of a read: nothing is buffered, so nothing to search
    // or check (`#scanned` is 0 whenever the queue is empty).
    if (queue.length === 0) return undefined;
    const format = this.format;
    const at = queue.indexOf(format.delimiter, this.#scanned);
    // The hot path, small enough for V8 to inline: a whole line that fits.
    if (at !== -1 && !this.#discarding) {
      const length =
        format.stripCarriageReturn && at > 0 && queue.byteAt(at - 1) === CR ? at - 1 : at;
      if (length <= format.maxLength) {
        this.#scanned = 0;
        return queue.take(length, at + format.delimiter.length - length);
      }
    }
    return this.#nextSlow(at);
  }

  /**
   * Hands every complete line queued to `visit` as a range of bytes, without making a Buffer
   * for each (see {@link FrameVisitor}); stops early when `visit` returns false. Returns the
   * number of lines visited. Same lines, limits and errors as calling `next()` until
   * `undefined` — about twice as fast for short lines, since making a Buffer is most of the
   * cost of a 64-byte line.
   */
  forEachFrame(visit: FrameVisitor): number {
    if (this.#failure !== undefined) throw this.#failure;
    const queue = this.#queue;
    const format = this.format;
    const delimiter = format.delimiter;
    let visited = 0;
    // `next()`'s hot path, repeated rather than shared: moving it into a helper method cost
    // both 10-20 % on 64-byte lines (measured); only the taking differs.
    for (;;) {
      if (queue.length === 0) return visited;
      const at = queue.indexOf(delimiter, this.#scanned);
      if (at !== -1 && !this.#discarding) {
        const length =
          format.stripCarriageReturn && at > 0 && queue.byteAt(at - 1) === CR ? at - 1 : at;
        if (length <= format.maxLength) {
          this.#scanned = 0;
          const bytes = queue.takeInPlace(length, at + delimiter.length - length);
          const start = queue.placeStart;
          visited++;
          if (visit(bytes, start, start + length) === false) return visited;
          continue;
        }
      }
      const line = this.#nextSlow(at);
      if (line === undefined) return visited;
      visited++;
      if (visit(line, 0, line.length) === false) return visited;
    }
  }

  /**
   * Everything else, given the first search's result `found`: no delimiter yet (check the
   * limit), the rest of a discarded line, an oversized line. Loops only to go past a line
   * skipped in recovery mode.
   */
  #nextSlow(found: number): Buffer | undefined {
    const queue = this.#queue;
    const delimiterLength = this.format.delimiter.length;
    for (let at = found; ; at = queue.indexOf(this.format.delimiter, this.#scanned)) {
      if (at === -1) {
        this.#scanned = Math.max(this.#scanned, queue.length - delimiterLength + 1);
        if (this.#discarding) {
          queue.skip(this.#scanned);
          this.#scanned = 0;
        } else if (this.#scanned - this.format.slack > this.format.maxLength) {
          this.#oversized(this.#scanned, this.#scanned, false);
        }
        return undefined;
      }
      this.#scanned = 0;
      if (this.#discarding) {
        this.#discarding = false;
        queue.skip(at + delimiterLength);
        continue;
      }
      const length =
        this.format.stripCarriageReturn && at > 0 && queue.byteAt(at - 1) === CR ? at - 1 : at;
      if (length > this.format.maxLength) {
        this.#oversized(length, at + delimiterLength, true);
        continue;
      }
      return queue.take(length, at + delimiterLength - length);
    }
  }

  /**
   * Returns the remaining lines, then `undefined`. Bytes after the last delimiter raise
   * `IncompleteReadError` (with them in `partial`), or form a last line with
   * `emitUnterminated`. The rest of a line being discarded in recovery mode is dropped quietly:
   * it was reported already.
   */
  end(): Buffer | undefined {
    const line = this.next();
    if (line !== undefined) return line;
    const queue = this.#queue;
    const leftover = queue.length;
    if (this.#discarding || leftover === 0) {
      this.#reset();
      return undefined;
    }
    if (!this.#emitUnterminated) {
      const error = new IncompleteReadError(queue.take(leftover), undefined);
      this.#fail(error);
      throw error;
    }
    const length =
      this.format.stripCarriageReturn && queue.byteAt(leftover - 1) === CR
        ? leftover - 1
        : leftover;
    if (length > this.format.maxLength) {
      this.#oversized(length, leftover, true);
      this.#reset();
      return undefined;
    }
    const last = queue.take(length);
    this.#reset();
    return last;
  }

  /**
   * An oversized line of `size` bytes was seen; the first `consumable` queued bytes belong to
   * it (with its line ending when `ended`). Fatal by default. In recovery mode those bytes go,
   * the rest of the line is skipped as it arrives unless it `ended`, and the user hears of it —
   * last, so a throwing `onOversized` leaves the decoder consistent.
   */
  #oversized(size: number, consumable: number, ended: boolean): void {
    const error = new FrameTooLargeError(this.format.maxLength, size);
    const report = this.#onOversized;
    if (report === undefined) {
      this.#fail(error);
      throw error;
    }
    this.#queue.skip(consumable);
    this.#scanned = 0;
    this.#discarding = !ended;
    report(error);
  }

  #fail(error: Error): void {
    this.#failure = error;
    this.#queue.clear();
  }

  #reset(): void {
    this.#queue.clear();
    this.#scanned = 0;
    this.#discarding = false;
  }
}
