/**
 * `aionet/codecs`: pure, bounded framing codecs — bytes in, frames out — and the contracts to
 * write your own. Public names only; see docs/codecs.md.
 */
export { ChunkQueue } from './chunk-queue.js';
export type { Codec, Decoder, Encoder, FrameVisitor } from './codec.js';
export { FramedProtocol } from './framed-protocol.js';
export type {
  ByteOrder,
  LengthFieldOptions,
  LengthFieldSize,
} from './length-field.js';
export { LengthPrefixedCodec, type LengthPrefixedCodecOptions } from './length-prefixed-codec.js';
export {
  LengthPrefixedDecoder,
  type LengthPrefixedDecoderOptions,
} from './length-prefixed-decoder.js';
export {
  LengthPrefixedEncoder,
  type LengthPrefixedEncoderOptions,
} from './length-prefixed-encoder.js';
export { LineCodec, type LineCodecOptions } from './line-codec.js';
export { LineDecoder, type LineDecoderOptions } from './line-decoder.js';
export { LineEncoder, type LineEncoderOptions } from './line-encoder.js';
export type { LineFormatOptions } from './line-format.js';
