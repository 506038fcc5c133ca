/**
 * Property tests of every codec with fast-check:
 * - decode(encode(frames)) == frames under any split and any coalescing of the byte stream;
 * - garbage input never raises anything but the typed errors, errors are final, and the
 *   decoder never holds more than its limit plus its framing;
 * - the line decoder's discard mode reports each oversized line once and keeps every other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Decoder,
  type LengthFieldOptions,
  LengthPrefixedCodec,
  LengthPrefixedDecoder,
  LineCodec,
  LineDecoder,
  LineEncoder,
  type LineFormatOptions,
} from '../../src/codecs/index.js';
import { FrameInvalidError, FrameTooLargeError, IncompleteReadError } from '../../src/errors.js';
import { cut, feed, hexes } from './codecs-support.js';

/** Runs per property: enough to hit every format and layout many times, in about a second. */
const RUNS = 400;

const LINE_MAX = 24;

const LINE_FORMATS: readonly LineFormatOptions[] = [
  {},
  { stripCarriageReturn: false },
  { delimiter: '\r\n' },
  { delimiter: '\0' },
  { delimiter: '<END>' },
  { delimiter: 'aba' },
  { delimiter: Uint8Array.of(0xff, 0xfe) },
];

/** Bytes that make up the delimiters above, so lines often hold parts of one. */
const TRICKY_BYTES = [0x0a, 0x0d, 0x00, 0x3c, 0x45, 0x4e, 0x44, 0x3e, 0x61, 0x62, 0xff, 0xfe];

const lineBytes = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.constantFrom(...TRICKY_BYTES), fc.integer({ min: 0, max: 255 })), {
      maxLength,
      // Lengths spread over the whole range: the default bias would rarely pass a limit.
      size: 'max',
    })
    .map((bytes) => Buffer.from(bytes));

/** Cut points as seeds; reduced modulo the stream length once it is known. */
const cutSeeds = fc.array(fc.nat(), { maxLength: 40 });

function cutStream(stream: Buffer, seeds: readonly number[]): Buffer[] {
  return cut(
    stream,
    seeds.map((seed) => seed % (stream.length + 1)),
  );
}

function delimiterLength(format: LineFormatOptions): number {
  return Buffer.from(format.delimiter ?? '\n').length;
}

describe('line codec properties', () => {
  it('decode(encode(lines)) == lines under any split and coalescing', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...LINE_FORMATS),
        fc.array(lineBytes(LINE_MAX + 4), { maxLength: 25 }),
        cutSeeds,
        (format, lines, seeds) => {
          const codec = new LineCodec({ ...format, maxLength: LINE_MAX });
          const sent: Buffer[] = [];
          const wire: Buffer[] = [];
          for (const line of lines) {
            try {
              wire.push(codec.encode(line));
              sent.push(line);
            } catch (error) {
              // The encoder refuses exactly what would not come back unchanged.
              assert.ok(error instanceof FrameInvalidError || error instanceof FrameTooLargeError);
              refused++;
            }
          }
          accepted += sent.length;
          const decoder = new LineDecoder({ ...format, maxLength: LINE_MAX });
          const bound = LINE_MAX + delimiterLength(format);
          const received = feed(decoder, cutStream(Buffer.concat(wire), seeds), {
            bound,
            atEof: true,
          });
          assert.deepEqual(hexes(received), hexes(sent));
        },
      ),
      { numRuns: RUNS },
    );
    assert.ok(accepted > 1000 && refused > 100, `accepted ${accepted}, refused ${refused}`);
  });

  it('emitUnterminated gives back a last line sent without its delimiter', () => {
    fc.assert(
      fc.property(
        fc.array(lineBytes(LINE_MAX), { maxLength: 10 }),
        lineBytes(LINE_MAX),
        cutSeeds,
        (lines, last, seeds) => {
          const encoder = new LineEncoder({ maxLength: LINE_MAX });
          const valid = (line: Buffer) => {
            try {
              encoder.encode(line);
              return true;
            } catch {
              return false;
            }
          };
          fc.pre(valid(last) && last.length > 0);
          const sent = lines.filter(valid);
          const stream = Buffer.concat([...sent.map((line) => encoder.encode(line)), last]);
          const decoder = new LineDecoder({ maxLength: LINE_MAX, emitUnterminated: true });
          const received = feed(decoder, cutStream(stream, seeds), { atEof: true });
          assert.deepEqual(hexes(received), hexes([...sent, last]));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('discard mode reports each oversized line once and keeps every other line', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LINE_FORMATS),
        fc.array(lineBytes(3 * LINE_MAX), { maxLength: 15 }),
        cutSeeds,
        (format, lines, seeds) => {
          // Any line the format can carry, oversized ones included (an encoder with room).
          const roomy = new LineEncoder({ ...format, maxLength: 10 * LINE_MAX });
          const carried = lines.filter((line) => {
            try {
              roomy.encode(line);
              return true;
            } catch {
              return false;
            }
          });
          const stream = Buffer.concat(carried.map((line) => roomy.encode(line)));
          const reports: FrameTooLargeError[] = [];
          const decoder = new LineDecoder({
            ...format,
            maxLength: LINE_MAX,
            onOversized: (error) => reports.push(error),
          });
          const received = feed(decoder, cutStream(stream, seeds), {
            bound: LINE_MAX + delimiterLength(format),
            atEof: true,
          });
          const kept = carried.filter((line) => line.length <= LINE_MAX);
          assert.deepEqual(hexes(received), hexes(kept));
          assert.equal(reports.length, carried.length - kept.length);
          for (const report of reports) {
            assert.equal(report.limit, LINE_MAX);
            assert.ok(report.size > LINE_MAX);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** A layout the encoder can rebuild, with the strip that goes with it. */
const encodableLayout = fc
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

describe('length-prefixed codec properties', () => {
  it('decode(encode(frames)) == frames under any split and coalescing, every layout', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        encodableLayout,
        fc.array(fc.uint8Array({ maxLength: 230, size: 'max' }), { maxLength: 12 }),
        cutSeeds,
        (options, bodies, seeds) => {
          const codec = new LengthPrefixedCodec(options);
          const keepHeader = options.bytesToStrip === 0;
          const headerSize = (options.lengthFieldOffset ?? 0) + (options.lengthFieldSize ?? 4);
          const expected: Buffer[] = [];
          const wire: Buffer[] = [];
          for (const body of bodies) {
            // A kept header is handed over with a random prefix and a blank length field.
            const frame = keepHeader
              ? Buffer.concat([Buffer.alloc(headerSize, 0xa5), body]).fill(
                  0,
                  options.lengthFieldOffset,
                  headerSize,
                )
              : Buffer.from(body);
            let encoded: Buffer;
            try {
              encoded = codec.encode(frame);
            } catch (error) {
              assert.ok(error instanceof FrameTooLargeError || error instanceof FrameInvalidError);
              continue;
            }
            wire.push(encoded);
            expected.push(encoded.subarray(options.bytesToStrip));
            if (!keepHeader) assert.deepEqual(encoded.subarray(headerSize), frame);
          }
          accepted += wire.length;
          const decoder = new LengthPrefixedDecoder(options);
          const received = feed(decoder, cutStream(Buffer.concat(wire), seeds), {
            bound: headerSize + 200,
            atEof: true,
          });
          assert.deepEqual(hexes(received), hexes(expected));
        },
      ),
      { numRuns: RUNS },
    );
    assert.ok(accepted > 1000, `only ${accepted} frames accepted`);
  });
});

/** Any layout, encodable or not, with a small limit. */
const anyLayout = fc.record({
  lengthFieldSize: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
  byteOrder: fc.constantFrom('big' as const, 'little' as const),
  lengthFieldOffset: fc.nat(3),
  lengthAdjustment: fc.integer({ min: -12, max: 12 }),
  bytesToStrip: fc.nat(12),
  maxLength: fc.integer({ min: 0, max: 64 }),
});

const garbage = fc.array(
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

/**
 * Feeds garbage the way a server does and checks: only the `allowed` errors, each final (the
 * same error from next, push and end, with nothing buffered), and at most `bound` bytes held
 * after every read.
 */
function survivesGarbage(
  decoder: Decoder<Buffer>,
  chunks: readonly Uint8Array[],
  bound: number,
  allowed: readonly (abstract new (...args: never[]) => Error)[],
): void {
  let failure: unknown;
  try {
    feed(
      decoder,
      chunks.map((chunk) => Buffer.from(chunk)),
      { bound, atEof: true },
    );
    return;
  } catch (error) {
    failure = error;
  }
  if (failure instanceof assert.AssertionError) throw failure;
  assert.ok(
    allowed.some((type) => failure instanceof type),
    `unexpected ${String(failure)}`,
  );
  if (failure instanceof FrameTooLargeError) assert.ok(failure.size > failure.limit);
  assert.equal(decoder.bufferedBytes, 0, 'a failed decoder frees its buffer');
  assert.throws(
    () => decoder.next(),
    (error) => error === failure,
  );
  assert.throws(
    () => decoder.push(Buffer.of(1)),
    (error) => error === failure,
  );
  assert.throws(
    () => decoder.end(),
    (error) => error === failure,
  );
}

describe('garbage input', () => {
  it('line decoder: only typed errors, final, never over the limit', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LINE_FORMATS),
        fc.boolean(),
        fc.nat(40),
        garbage,
        (format, emitUnterminated, maxLength, chunks) => {
          const decoder = new LineDecoder({ ...format, maxLength, emitUnterminated });
          survivesGarbage(decoder, chunks, maxLength + delimiterLength(format), [
            FrameTooLargeError,
            IncompleteReadError,
          ]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('line decoder in discard mode: never throws, never over the limit', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LINE_FORMATS),
        fc.nat(40),
        garbage,
        (format, maxLength, chunks) => {
          const decoder = new LineDecoder({
            ...format,
            maxLength,
            emitUnterminated: true,
            onOversized: (error) => assert.ok(error.size > maxLength),
          });
          const lines = feed(
            decoder,
            chunks.map((chunk) => Buffer.from(chunk)),
            { bound: maxLength + delimiterLength(format), atEof: true },
          );
          const delimiter = Buffer.from(format.delimiter ?? '\n');
          for (const line of lines) {
            assert.ok(line.length <= maxLength);
            assert.equal(line.indexOf(delimiter), -1, 'a line never holds its delimiter');
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('length-prefixed decoder: only typed errors, final, never over header + limit', () => {
    fc.assert(
      fc.property(anyLayout, garbage, (options, chunks) => {
        const decoder = new LengthPrefixedDecoder(options);
        const headerSize = options.lengthFieldOffset + options.lengthFieldSize;
        survivesGarbage(decoder, chunks, headerSize + options.maxLength, [
          FrameTooLargeError,
          FrameInvalidError,
          IncompleteReadError,
        ]);
      }),
      { numRuns: RUNS },
    );
  });
});

/** What a decoder makes of a whole stream: its frames, then the name of its error, if any. */
interface Outcome {
  readonly frames: string[];
  readonly error: string | undefined;
}

function decodeAll(decoder: Decoder<Buffer>, chunks: readonly Buffer[]): Outcome {
  const frames: Buffer[] = [];
  try {
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== undefined; frame = decoder.next())
        frames.push(frame);
    }
    for (let frame = decoder.end(); frame !== undefined; frame = decoder.end()) frames.push(frame);
  } catch (error) {
    return { frames: hexes(frames), error: (error as Error).name };
  }
  return { frames: hexes(frames), error: undefined };
}

/**
 * The length-prefixed rules read straight off a contiguous stream, with BigInt lengths: the
 * oracle the streaming decoder must agree with under any split.
 */
function referenceLengthPrefixed(stream: Buffer, o: Required<LengthFieldOptions>): Outcome {
  const headerSize = o.lengthFieldOffset + o.lengthFieldSize;
  const frames: Buffer[] = [];
  const done = (error?: string): Outcome => ({ frames: hexes(frames), error });
  for (let at = 0; ; ) {
    if (at === stream.length) return done();
    if (stream.length - at < headerSize) return done('IncompleteReadError');
    let declared = 0n;
    for (let i = 0; i < o.lengthFieldSize; i++) {
      const index = o.byteOrder === 'big' ? i : o.lengthFieldSize - 1 - i;
      declared = (declared << 8n) | BigInt(stream[at + o.lengthFieldOffset + index]!);
    }
    const body = declared + BigInt(o.lengthAdjustment);
    if (body > BigInt(o.maxLength)) return done('FrameTooLargeError');
    if (body < 0n || BigInt(headerSize) + body < BigInt(o.bytesToStrip)) {
      return done('FrameInvalidError');
    }
    const end = at + headerSize + Number(body);
    if (end > stream.length) return done('IncompleteReadError');
    frames.push(stream.subarray(at + o.bytesToStrip, end));
    at = end;
  }
}

/** The line rules read straight off a contiguous stream (fatal mode, no emitUnterminated). */
function referenceLines(stream: Buffer, format: LineFormatOptions, maxLength: number): Outcome {
  const delimiter = Buffer.from(format.delimiter ?? '\n');
  const strip = format.stripCarriageReturn ?? (format.delimiter ?? '\n') === '\n';
  const frames: Buffer[] = [];
  const done = (error?: string): Outcome => ({ frames: hexes(frames), error });
  for (let at = 0; ; ) {
    const end = stream.indexOf(delimiter, at);
    if (end === -1) {
      const rest = stream.length - at;
      if (rest === 0) return done();
      // The documented early refusal: more than maxLength bytes (plus a possible \r, plus a
      // possible partial delimiter) with no line ending.
      const undecided = delimiter.length - 1 + (strip ? 1 : 0);
      return done(rest - undecided > maxLength ? 'FrameTooLargeError' : 'IncompleteReadError');
    }
    const line = stream.subarray(at, strip && stream[end - 1] === 0x0d && end > at ? end - 1 : end);
    if (line.length > maxLength) return done('FrameTooLargeError');
    frames.push(line);
    at = end + delimiter.length;
  }
}

describe('agreement with a whole-stream reference', () => {
  it('length-prefixed decoder: same frames and error under any split', () => {
    fc.assert(
      fc.property(anyLayout, garbage, cutSeeds, (options, chunks, seeds) => {
        const stream = Buffer.concat(chunks);
        const expected = referenceLengthPrefixed(stream, options);
        const actual = decodeAll(new LengthPrefixedDecoder(options), cutStream(stream, seeds));
        assert.deepEqual(actual, expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('line decoder: same lines and error under any split', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LINE_FORMATS),
        fc.nat(40),
        garbage,
        cutSeeds,
        (format, maxLength, chunks, seeds) => {
          const stream = Buffer.concat(chunks);
          const expected = referenceLines(stream, format, maxLength);
          const actual = decodeAll(
            new LineDecoder({ ...format, maxLength }),
            cutStream(stream, seeds),
          );
          assert.deepEqual(actual, expected);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
