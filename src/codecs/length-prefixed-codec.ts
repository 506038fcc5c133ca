/**
 * The length-prefixed codec: a {@link LengthPrefixedDecoder} and a
 * {@link LengthPrefixedEncoder} of one layout, for a connection that reads and writes frames.
 */
import type { Codec } from './codec.js';
import {
  LengthPrefixedDecoder,
  type LengthPrefixedDecoderOptions,
} from './length-prefixed-decoder.js';
import { LengthPrefixedEncoder } from './length-prefixed-encoder.js';

/** Options of {@link LengthPrefixedCodec}: one layout for both ways. */
export type LengthPrefixedCodecOptions = LengthPrefixedDecoderOptions;

/**
 * Decodes as {@link LengthPrefixedDecoder} and encodes as {@link LengthPrefixedEncoder}; the
 * layout must be one the encoder can rebuild (see its file comment). It extends the decoder so
 * the hot `next()` is the decoder's own, with no forwarding.
 */
export class LengthPrefixedCodec
  extends LengthPrefixedDecoder
  implements Codec<Buffer, Uint8Array>
{
  readonly #encoder: LengthPrefixedEncoder;

  constructor(options: LengthPrefixedCodecOptions = {}) {
    super(options);
    this.#encoder = new LengthPrefixedEncoder(options);
  }

  encode(frame: Uint8Array): Buffer {
    return this.#encoder.encode(frame);
  }
}
