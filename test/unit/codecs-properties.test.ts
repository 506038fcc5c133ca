/**
 * Round-trip properties of every codec with fast-check: decode(encode(frames)) == frames under
 * any split and any coalescing of the byte stream, for every line format and every length-field
 * layout; and the line decoder's discard mode reports each oversized line once and keeps every
 * other line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type FrameVisitor,
  LengthPrefixedCodec,
  LengthPrefixedDecoder,
  LineCodec,
  LineDecoder,
  LineEncoder,
} from '../../src/codecs/index.js';
import { FrameInvalidError, FrameTooLargeError } from '../../src/errors.js';
import {
  cutSeeds,
  cutStream,
  delimiterLength,
  encodableLayout,
  LINE_FORMATS,
  LINE_MAX,
  lineBytes,
  RUNS,
} from './codecs-arbitraries.js';
import { feed, hexes } from './codecs-support.js';

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

describe('forEachFrame: the frames of next(), without a Buffer each', () => {
  /** Drains `decoder` after each chunk with next(); errors end the list with their class. */
  function byNext(
    decoder: { push(c: Buffer): void; next(): Buffer | undefined },
    chunks: Buffer[],
  ) {
    const out: string[] = [];
    try {
      for (const chunk of chunks) {
        decoder.push(chunk);
        for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
          out.push(frame.toString('hex'));
        }
      }
    } catch (error) {
      out.push(`error ${(error as Error).name}`);
    }
    return out;
  }

  /** The same with forEachFrame, stopping early where `stops` says, then going on. */
  function byVisit(
    decoder: { push(c: Buffer): void; forEachFrame(v: FrameVisitor): number },
    chunks: Buffer[],
    stops: readonly boolean[],
  ) {
    const out: string[] = [];
    let visits = 0;
    try {
      for (const chunk of chunks) {
        decoder.push(chunk);
        let seen: number;
        do {
          seen = decoder.forEachFrame((bytes, start, end) => {
            out.push(bytes.subarray(start, end).toString('hex'));
            return stops[visits++ % Math.max(1, stops.length)] === true ? false : undefined;
          });
        } while (seen > 0);
      }
    } catch (error) {
      out.push(`error ${(error as Error).name}`);
    }
    return out;
  }

  it('lines: same frames and errors under any split, with early stops, in every mode', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LINE_FORMATS),
        fc.boolean(),
        fc.array(lineBytes(2 * LINE_MAX), { maxLength: 20 }),
        cutSeeds,
        fc.array(fc.boolean(), { maxLength: 8 }),
        (format, recover, lines, seeds, stops) => {
          const roomy = new LineEncoder({ ...format, maxLength: 10 * LINE_MAX });
          const wire: Buffer[] = [];
          for (const line of lines) {
            try {
              wire.push(roomy.encode(line));
            } catch {
              // not carried by this format
            }
          }
          const chunks = cutStream(Buffer.concat(wire), seeds);
          const options = {
            ...format,
            maxLength: LINE_MAX,
            ...(recover ? { onOversized: () => {} } : {}),
          };
          assert.deepEqual(
            byVisit(new LineDecoder(options), chunks, stops),
            byNext(new LineDecoder(options), chunks),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('length-prefixed: same frames and errors under any split, with early stops', () => {
    fc.assert(
      fc.property(
        encodableLayout,
        fc.array(fc.uint8Array({ maxLength: 230, size: 'max' }), { maxLength: 12 }),
        cutSeeds,
        fc.array(fc.boolean(), { maxLength: 8 }),
        (options, bodies, seeds, stops) => {
          const roomy = new LengthPrefixedCodec({ ...options, maxLength: 1024 });
          const wire = bodies.flatMap((body) => {
            try {
              return [roomy.encode(Buffer.from(body))];
            } catch {
              return [];
            }
          });
          const chunks = cutStream(Buffer.concat(wire), seeds);
          assert.deepEqual(
            byVisit(new LengthPrefixedDecoder(options), chunks, stops),
            byNext(new LengthPrefixedDecoder(options), chunks),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a 64-byte line inside a read is visited in place: the range points into the read', () => {
    const decoder = new LineDecoder();
    const read = Buffer.from(`${'a'.repeat(64)}\n${'b'.repeat(10)}\n${'c'.repeat(5)}`);
    decoder.push(read);
    const seen: [Buffer, number, number][] = [];
    assert.equal(
      decoder.forEachFrame((bytes, start, end) => {
        seen.push([bytes, start, end]);
        return undefined;
      }),
      2,
    );
    assert.deepEqual(
      seen.map(([bytes, start, end]) => [bytes === read, start, end]),
      [
        [true, 0, 64],
        [true, 65, 75],
      ],
    );
    assert.equal(decoder.bufferedBytes, 5);
  });
});
