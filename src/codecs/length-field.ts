/**
 * The length-prefixed frame layout, shared by the decoder and the encoder, with the rules of
 * Netty's `LengthFieldBasedFrameDecoder`:
 *
 *     | prefix (lengthFieldOffset) | length field (lengthFieldSize) | body (length + lengthAdjustment) |
 *     |<-------------------------------- frame ----------------------------------------------------->|
 *     |<-- bytesToStrip -->|<-- what next() returns ----------------------------------------------->|
 *
 * The body is everything after the length field. `lengthAdjustment` says how the declared
 * length relates to it: 0 when the length counts the body only, `-(lengthFieldOffset +
 * lengthFieldSize)` when it counts the whole frame, and so on.
 */
import { DEFAULT_FRAME_MAX } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';
import type { ChunkQueue } from './chunk-queue.js';
import { checkInteger, checkLimit, checkNonNegativeInteger } from './option-checks.js';

/** Width of the length field in bytes. */
export type LengthFieldSize = 1 | 2 | 4 | 8;

/** Byte order of the length field. */
export type ByteOrder = 'big' | 'little';

/** Options of the length-prefixed codecs. */
export interface LengthFieldOptions {
  /**
   * Width of the length field in bytes. With 8, lengths from 2^53 up are read exactly enough
   * to be refused (every one is over any `maxLength`).
   * @default 4
   */
  lengthFieldSize?: LengthFieldSize;

  /**
   * Byte order of the length field.
   * @default 'big' (network byte order)
   */
  byteOrder?: ByteOrder;

  /**
   * Bytes before the length field (a type or version field, say): they are part of the frame.
   * @default 0
   */
  lengthFieldOffset?: number;

  /**
   * Added to the declared length to get the body's length (the bytes after the length field).
   * Use `-(lengthFieldOffset + lengthFieldSize)` when the length counts the whole frame.
   * A sum below zero is a `FrameInvalidError`.
   * @default 0
   */
  lengthAdjustment?: number;

  /**
   * Bytes cut from the front of each frame before it is returned. The encoder can rebuild only
   * 0 (it is handed the whole frame and fills in the length) or the whole header when
   * `lengthFieldOffset` is 0 (it is handed the body and prepends the header).
   * @default lengthFieldOffset + lengthFieldSize — the header is stripped
   */
  bytesToStrip?: number;

  /**
   * The largest body, in bytes: a larger declared length is refused with `FrameTooLargeError`
   * as soon as the header is complete, before any of the body is buffered.
   * @default DEFAULT_FRAME_MAX (1 MiB)
   */
  maxLength?: number;
}

/** {@link LengthFieldOptions} with every default applied and checked. */
export interface LengthFieldLayout {
  readonly lengthFieldSize: LengthFieldSize;
  readonly littleEndian: boolean;
  readonly lengthFieldOffset: number;
  /** `lengthFieldOffset + lengthFieldSize`: the bytes needed before the length is known. */
  readonly headerSize: number;
  readonly lengthAdjustment: number;
  readonly bytesToStrip: number;
  readonly maxLength: number;
  /** The largest value the length field can hold, capped at `Number.MAX_SAFE_INTEGER`. */
  readonly maxDeclared: number;
}

const FIELD_SIZES: readonly number[] = [1, 2, 4, 8];
const TWO_TO_32 = 2 ** 32;
const BYTE = 256;

/** Applies defaults and throws `InvalidArgumentError` for options out of their domain. */
export function resolveLengthField(options: LengthFieldOptions): LengthFieldLayout {
  const lengthFieldSize = options.lengthFieldSize ?? 4;
  if (!FIELD_SIZES.includes(lengthFieldSize)) {
    throw new InvalidArgumentError(`lengthFieldSize must be 1, 2, 4 or 8, got ${lengthFieldSize}`);
  }
  const byteOrder = options.byteOrder ?? 'big';
  if (byteOrder !== 'big' && byteOrder !== 'little') {
    throw new InvalidArgumentError(`byteOrder must be 'big' or 'little', got ${String(byteOrder)}`);
  }
  const lengthFieldOffset = options.lengthFieldOffset ?? 0;
  checkNonNegativeInteger('lengthFieldOffset', lengthFieldOffset);
  const headerSize = lengthFieldOffset + lengthFieldSize;
  const lengthAdjustment = options.lengthAdjustment ?? 0;
  checkInteger('lengthAdjustment', lengthAdjustment);
  const bytesToStrip = options.bytesToStrip ?? headerSize;
  checkNonNegativeInteger('bytesToStrip', bytesToStrip);
  const maxLength = options.maxLength ?? DEFAULT_FRAME_MAX;
  checkLimit('maxLength', maxLength, headerSize);
  const maxDeclared = lengthFieldSize === 8 ? Number.MAX_SAFE_INTEGER : BYTE ** lengthFieldSize - 1;
  return {
    lengthFieldSize,
    littleEndian: byteOrder === 'little',
    lengthFieldOffset,
    headerSize,
    lengthAdjustment,
    bytesToStrip,
    maxLength,
    maxDeclared,
  };
}

/**
 * The declared length in the queued header (at least `headerSize` bytes must be queued). An
 * 8-byte length is read exactly up to 2^53 - 1 and as some value >= 2^53 above that — enough to
 * refuse it, since every `maxLength` is below (see `ChunkQueue#readUInt`: no BigInt per frame).
 */
export function readLengthField(queue: ChunkQueue, layout: LengthFieldLayout): number {
  return queue.readUInt(layout.lengthFieldOffset, layout.lengthFieldSize, layout.littleEndian);
}

/** Writes `value` (0..`maxDeclared`) as the length field of the frame starting at `out[0]`. */
export function writeLengthField(out: Buffer, layout: LengthFieldLayout, value: number): void {
  const { lengthFieldOffset: at, lengthFieldSize: size, littleEndian } = layout;
  if (size === 8) {
    const high = Math.floor(value / TWO_TO_32);
    const low = value % TWO_TO_32;
    if (littleEndian) {
      out.writeUInt32LE(low, at);
      out.writeUInt32LE(high, at + 4);
    } else {
      out.writeUInt32BE(high, at);
      out.writeUInt32BE(low, at + 4);
    }
  } else if (littleEndian) {
    out.writeUIntLE(value, at, size);
  } else {
    out.writeUIntBE(value, at, size);
  }
}
