/**
 * The reply matcher: checks one connection's incoming bytes against the expected reply, however
 * the bytes are split across reads. Pure: bytes in, a verdict out, no I/O and no allocation.
 */
import type { ReplySpec } from './framing.js';

/** The reply is not complete yet: more bytes are needed. */
export const NEED_MORE = 0;
/** The reply is complete and correct. */
export const COMPLETE = 1;
/** The reply is wrong: a byte differs, or it is longer than expected. */
export const WRONG = 2;

/** A verdict of {@link ReplyMatcher.feed}. */
export type Verdict = typeof NEED_MORE | typeof COMPLETE | typeof WRONG;

/** Byte value of `\n`. */
const NEWLINE = 0x0a;

/** Matches the reply to one message; {@link reset} before each message. */
export class ReplyMatcher {
  readonly #spec: ReplySpec;
  #received = 0;

  constructor(spec: ReplySpec) {
    this.#spec = spec;
  }

  /** Bytes of the current reply received so far. */
  get received(): number {
    return this.#received;
  }

  /** Forgets the current reply: the next byte fed is the first of a new one. */
  reset(): void {
    this.#received = 0;
  }

  /**
   * Feeds `chunk[start, end)`. Bytes past the end of the reply make it {@link WRONG}: with one
   * message in flight the server has nothing else to say. After {@link COMPLETE} or
   * {@link WRONG}, call {@link reset} before feeding more.
   */
  feed(chunk: Uint8Array, start: number, end: number): Verdict {
    const spec = this.#spec;
    const offset = this.#received;
    const length = end - start;
    if (length > spec.size - offset) return WRONG;
    const exact = spec.exact;
    if (exact !== undefined) {
      if (exact.compare(chunk, start, end, offset, offset + length) !== 0) return WRONG;
    } else if (!this.#checkShape(chunk, start, end, offset)) {
      return WRONG;
    }
    this.#received = offset + length;
    return this.#received === spec.size ? COMPLETE : NEED_MORE;
  }

  /** The checks of a reply whose content is unknown: its length prefix or its terminator. */
  #checkShape(chunk: Uint8Array, start: number, end: number, offset: number): boolean {
    const spec = this.#spec;
    const prefix = spec.prefix;
    if (prefix !== undefined && offset < prefix.length) {
      const stop = Math.min(end, start + prefix.length - offset);
      if (prefix.compare(chunk, start, stop, offset, offset + stop - start) !== 0) return false;
    }
    if (spec.lineTerminated) {
      const last = spec.size - 1;
      for (let i = start; i < end; i++) {
        const isLast = offset + (i - start) === last;
        if ((chunk[i] === NEWLINE) !== isLast) return false;
      }
    }
    return true;
  }
}
