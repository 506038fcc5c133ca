/**
 * The line encoder: appends the delimiter to a line, after checking that a `LineDecoder` of the
 * same format would give the line back unchanged.
 */
import type { Encoder } from './codec.js';
import {
  encodeLine,
  type LineFormat,
  type LineFormatOptions,
  resolveLineFormat,
} from './line-format.js';

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
    return encodeLine(this.#format, line);
  }
}
