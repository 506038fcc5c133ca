/**
 * Garbage input with fast-check: decoders raise only their typed errors, each final (the same
 * error again, nothing kept), never hold more than their limit plus framing, and agree — frames
 * and error — with a whole-stream reference model under any split of the input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Decoder,
  type LengthFieldOptions,
  LengthPrefixedDecoder,
  LineDecoder,
  type LineFormatOptions,
} from '../../src/codecs/index.js';
import { FrameInvalidError, FrameTooLargeError, IncompleteReadError } from '../../src/errors.js';
import {
  anyLayout,
  cutSeeds,
  cutStream,
  delimiterLength,
  garbage,
  LINE_FORMATS,
  RUNS,
} from './codecs-arbitraries.js';
import { feed, hexes } from './codecs-support.js';

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
