/**
 * The line codec: a {@link LineDecoder} and a {@link LineEncoder} of one format, for a
 * connection that reads and writes lines.
 */
import type { Codec } from './codec.js';
import { LineDecoder, type LineDecoderOptions } from './line-decoder.js';
import { LineEncoder } from './line-encoder.js';

/** Options of {@link LineCodec}: the format both ways, and the decoder's recovery options. */
export type LineCodecOptions = LineDecoderOptions;

/**
 * Decodes lines as {@link LineDecoder} and encodes them as {@link LineEncoder}. It extends the
 * decoder rather than wrapping it so the hot `next()` is the decoder's own, with no forwarding.
 */
export class LineCodec extends LineDecoder implements Codec<Buffer, Uint8Array | string> {
  readonly #encoder: LineEncoder;

  constructor(options: LineCodecOptions = {}) {
    super(options);
    this.#encoder = new LineEncoder(options);
  }

  encode(line: Uint8Array | string): Buffer {
    return this.#encoder.encode(line);
  }
}
