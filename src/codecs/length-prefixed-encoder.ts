/**
 * The length-prefixed encoder: the inverse of `LengthPrefixedDecoder` for the same options.
 * It takes what the decoder yields and gives back the bytes on the wire, so it must be able to
 * rebuild whatever the decoder stripped. Two layouts allow that:
 * - `bytesToStrip` is the whole header and `lengthFieldOffset` is 0 (the default): it is handed
 *   the body and prepends the length field;
 * - `bytesToStrip` is 0: it is handed the whole frame, header included, and returns a copy
 *   with the length field filled in (the prefix bytes are the caller's).
 * Any other layout strips bytes the encoder cannot know, and is refused when it is built.
 */
import { Buffer } from 'node:buffer';
import { FrameInvalidError, FrameTooLargeError, InvalidArgumentError } from '../errors.js';
import type { Encoder } from './codec.js';
import {
  type LengthFieldLayout,
  type LengthFieldOptions,
  resolveLengthField,
  writeLengthField,
} from './length-field.js';

/** Options of {@link LengthPrefixedEncoder}: the layout the peer decodes with. */
export type LengthPrefixedEncoderOptions = LengthFieldOptions;

/** Turns a frame into its bytes with a length field. */
export class LengthPrefixedEncoder implements Encoder<Uint8Array> {
  readonly #layout: LengthFieldLayout;
  /** True when frames come without their header (the first layout of the file comment). */
  readonly #prependHeader: boolean;

  constructor(options: LengthPrefixedEncoderOptions = {}) {
    const layout = resolveLengthField(options);
    const { bytesToStrip, headerSize, lengthFieldOffset } = layout;
    if (bytesToStrip !== 0 && !(bytesToStrip === headerSize && lengthFieldOffset === 0)) {
      throw new InvalidArgumentError(
        `the encoder cannot rebuild ${bytesToStrip} stripped bytes: use bytesToStrip 0, or the whole header with lengthFieldOffset 0`,
      );
    }
    this.#layout = layout;
    this.#prependHeader = bytesToStrip !== 0;
  }

  /**
   * Throws `FrameTooLargeError` when the body is over `maxLength` or its length does not fit
   * the field (`limit` is then the largest that fits), and `FrameInvalidError` when the frame
   * is shorter than its header or the adjustment makes the declared length negative.
   */
  encode(frame: Uint8Array): Buffer {
    const layout = this.#layout;
    const { headerSize, maxLength, lengthAdjustment, maxDeclared } = layout;
    const body = this.#prependHeader ? frame.length : frame.length - headerSize;
    if (body < 0) {
      throw new FrameInvalidError(
        `a frame of ${frame.length} bytes is shorter than its ${headerSize}-byte header`,
      );
    }
    if (body > maxLength) throw new FrameTooLargeError(maxLength, body);
    const declared = body - lengthAdjustment;
    if (declared < 0) {
      throw new FrameInvalidError(
        `a body of ${body} bytes with adjustment ${lengthAdjustment} declares a negative length`,
      );
    }
    if (declared > maxDeclared) {
      throw new FrameTooLargeError(maxDeclared + lengthAdjustment, body);
    }
    const out = Buffer.allocUnsafe(headerSize + body);
    out.set(frame, this.#prependHeader ? headerSize : 0);
    writeLengthField(out, layout, declared);
    return out;
  }
}
