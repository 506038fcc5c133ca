/**
 * fast-check arbitraries and helpers shared by the codec property tests: line formats, lines
 * rich in delimiter bytes, length-field layouts, garbage, and cut points.
 */
import fc from 'fast-check';
import type { LengthFieldOptions, LineFormatOptions } from '../../src/codecs/index.js';
import { cut } from './codecs-support.js';

/** Runs per property: enough to hit every format and layout many times, in about a second. */
export const RUNS = 400;

/** A small line limit, so generated lines often cross it. */
export const LINE_MAX = 24;

export const LINE_FORMATS: readonly LineFormatOptions[] = [
  {},
  { stripCarriageReturn: false },
  { delimiter: '\r\n' },
  { delimiter: '\0' },
  { delimiter: '<END>' },
  { delimiter: 'aba' },
  { delimiter: Uint8Array.of(0xff, 0xfe) },
];

/** Bytes that make up the delimiters above, so lines often hold parts of one. */
export const TRICKY_BYTES = [
  0x0a, 0x0d, 0x00, 0x3c, 0x45, 0x4e, 0x44, 0x3e, 0x61, 0x62, 0xff, 0xfe,
];

export const lineBytes = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.constantFrom(...TRICKY_BYTES), fc.integer({ min: 0, max: 255 })), {
      maxLength,
      // Lengths spread over the whole range: the default bias would rarely pass a limit.
      size: 'max',
    })
    .map((bytes) => Buffer.from(bytes));

/** Cut points as seeds; reduced modulo the stream length once it is known. */
export const cutSeeds = fc.array(fc.nat(), { maxLength: 40 });

export function cutStream(stream: Buffer, seeds: readonly number[]): Buffer[] {
  return cut(
    stream,
    seeds.map((seed) => seed % (stream.length + 1)),
  );
}

export function delimiterLength(format: LineFormatOptions): number {
  return Buffer.from(format.delimiter ?? '\n').length;
}

/** A layout the encoder can rebuild, with the strip that goes with it. */
export const encodableLayout = fc
  .record({
    lengthFieldSize: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
    byteOrder: fc.constantFrom('big' as const, 'little' as const),
    keepHeader: fc.boolean(),
    offset: fc.nat(3),
    countsHeader: fc.boolean(),
    extra: fc.integer({ min: -3, max: 3 }),
  })
  .map(({ lengthFieldSize, byteOrder, keepHeader, offset, countsHeader, extra }) => {
    const lengthFieldOffset = keepHeader ? offset : 0;
    const headerSize = lengthFieldOffset + lengthFieldSize;
    const options: LengthFieldOptions = {
      lengthFieldSize,
      byteOrder,
      lengthFieldOffset,
      lengthAdjustment: (countsHeader ? -headerSize : 0) + extra,
      bytesToStrip: keepHeader ? 0 : headerSize,
      maxLength: 200,
    };
    return options;
  });

/** Any layout, encodable or not, with a small limit. */
export const anyLayout = fc.record({
  lengthFieldSize: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
  byteOrder: fc.constantFrom('big' as const, 'little' as const),
  lengthFieldOffset: fc.nat(3),
  lengthAdjustment: fc.integer({ min: -12, max: 12 }),
  bytesToStrip: fc.nat(12),
  maxLength: fc.integer({ min: 0, max: 64 }),
});

export const garbage = fc.array(
  fc.oneof(
    fc.uint8Array({ maxLength: 100, size: 'max' }),
    // Delimiter bytes and small values: many line endings and plausible length fields.
    fc
      .array(fc.oneof(fc.constantFrom(...TRICKY_BYTES), fc.integer({ min: 0, max: 4 })), {
        maxLength: 100,
        size: 'max',
      })
      .map((bytes) => Uint8Array.from(bytes)),
  ),
  { maxLength: 20 },
);
