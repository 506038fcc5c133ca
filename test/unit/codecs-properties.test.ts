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
