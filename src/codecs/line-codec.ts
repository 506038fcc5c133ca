/**
 * The line codec: a {@link LineDecoder} that also encodes, as a `LineEncoder` of the same format
 * would, for a connection that reads and writes lines.
 */
import type { Codec } from './codec.js';
import { LineDecoder, type LineDecoderOptions } from './line-decoder.js';
import { encodeLine } from './line-format.js';

/** Options of {@link LineCodec}: the format both ways, and the decoder's recovery options. */
export type LineCodecOptions = LineDecoderOptions;

/**
 * Decodes lines as {@link LineDecoder} and encodes them as {@link LineEncoder}. It extends the
 * decoder rather than wrapping it so the hot `next()` is the decoder's own, with no forwarding.
 */
export class LineCodec extends LineDecoder implements Codec<Buffer, Uint8Array | string> {
  // No constructor and no state of its own: both directions use the decoder's (shared) format,
  // so a connection pays for one decoder and nothing more.

  /** As {@link LineEncoder.encode}. */
  encode(line: Uint8Array | string): Buffer {
    return encodeLine(this.format, line);
  }
}
