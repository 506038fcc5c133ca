/**
 * The line encoder: appends the delimiter to a line, after checking that a `LineDecoder` of the
 * same format would give the line back unchanged.
 */
import { FrameInvalidError, FrameTooLargeError } from '../errors.js';
import type { Encoder } from './codec.js';
import { CR, type LineFormat, type LineFormatOptions, resolveLineFormat } from './line-format.js';

/** Options of {@link LineEncoder}: the format the peer decodes with. */
export type LineEncoderOptions = LineFormatOptions;

/** Turns a line (bytes or a UTF-8 string) into the line plus its delimiter. */
export class LineEncoder implements Encoder<Uint8Array | string> {
  readonly #format: LineFormat;

  constructor(options: LineEncoderOptions = {}) {
    this.#format = resolveLineFormat(options);
  }

  /**
   * Throws `FrameTooLargeError` for a line over `maxLength`, and `FrameInvalidError` for one
   * that would decode differently: it holds the delimiter (the peer would see two lines — the
   * classic CRLF-injection bug), or it ends in `\r` under `stripCarriageReturn`.
   */
  encode(line: Uint8Array | string): Buffer {
    const { delimiter, maxLength } = this.#format;
    const length = typeof line === 'string' ? Buffer.byteLength(line, 'utf8') : line.length;
    if (length > maxLength) throw new FrameTooLargeError(maxLength, length);
    const out = Buffer.allocUnsafe(length + delimiter.length);
    if (typeof line === 'string') out.write(line, 0, 'utf8');
    else out.set(line, 0);
    out.set(delimiter, length);
    // Searching the output, not the line, also catches a line whose tail and the delimiter
    // together form an earlier delimiter (`ab` + `aba` decodes as an empty line).
    if (out.indexOf(delimiter) !== length) {
      throw new FrameInvalidError('a line must not contain its delimiter');
    }
    if (this.#format.stripCarriageReturn && length > 0 && out[length - 1] === CR) {
      throw new FrameInvalidError("a line must not end with '\\r' when the decoder strips it");
    }
    return out;
  }
}
