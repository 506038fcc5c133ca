/**
 * Split matrices: one encoded stream per codec, cut at every single position, at every pair
 * of positions, and into single bytes. Each cut must yield exactly the same frames.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Decoder,
  LengthPrefixedDecoder,
  LengthPrefixedEncoder,
  LineDecoder,
} from '../../src/codecs/index.js';
import { bytewise, cut, feed, hex, hexes } from './codecs-support.js';

interface Matrix {
  readonly name: string;
  readonly stream: Buffer;
  readonly expected: readonly string[];
  readonly make: () => Decoder<Buffer>;
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');
const hexOf = (...texts: string[]) => texts.map((text) => latin1(text).toString('hex'));

const u64 = {
  lengthFieldSize: 8,
  byteOrder: 'little',
  lengthFieldOffset: 1,
  lengthAdjustment: -9,
  bytesToStrip: 0,
} as const;
const u64Frames = [hex('07 0000000000000000 616263'), hex('08 0000000000000000')];

const MATRICES: readonly Matrix[] = [
  {
    name: "line '\\n' with \\r stripping",
    stream: latin1('ab\r\n\r\nc\rd\nefg\n'),
    expected: hexOf('ab', '', 'c\rd', 'efg'),
    make: () => new LineDecoder(),
  },
  {
    name: "line '\\r\\n'",
    stream: latin1('a\r\r\n\nb\r\n\r\n'),
    expected: hexOf('a\r', '\nb', ''),
    make: () => new LineDecoder({ delimiter: '\r\n' }),
  },
  {
    name: "line '<END>' with near misses",
    stream: latin1('ab<END><END>c<EN<END><<END>'),
    expected: hexOf('ab', '', 'c<EN', '<'),
    make: () => new LineDecoder({ delimiter: '<END>' }),
  },
  {
    name: 'line discard mode recovering',
    stream: latin1('ok\ntoolong\r\nok2\nwaytoolong\n\n'),
    expected: hexOf('ok', 'ok2', ''),
    make: () => new LineDecoder({ maxLength: 3, onOversized: () => {} }),
  },
  {
    name: 'length u16 big-endian',
    stream: hex('0003 616263 0000 0002 6465'),
    expected: ['616263', '', '6465'],
    make: () => new LengthPrefixedDecoder({ lengthFieldSize: 2 }),
  },
  {
    name: 'length u64 little-endian, offset 1, counts the frame, header kept',
    stream: Buffer.concat(u64Frames.map((frame) => new LengthPrefixedEncoder(u64).encode(frame))),
    expected: ['070c00000000000000616263', '080900000000000000'],
    make: () => new LengthPrefixedDecoder(u64),
  },
];

describe('split matrices', () => {
  for (const matrix of MATRICES) {
    it(`${matrix.name}: every position, every pair, every byte`, () => {
      const { stream, expected } = matrix;
      assert.deepEqual(hexes(feed(matrix.make(), [stream], { atEof: true })), expected, 'whole');
      assert.deepEqual(hexes(feed(matrix.make(), bytewise(stream), { atEof: true })), expected);
      let cuts = 0;
      for (let i = 0; i <= stream.length; i++) {
        for (let j = i; j <= stream.length; j++) {
          const frames = feed(matrix.make(), cut(stream, [i, j]), { atEof: true });
          assert.deepEqual(hexes(frames), expected, `cut at ${i} and ${j}`);
          cuts++;
        }
      }
      // Every pair (i <= j) includes every single cut (i === j).
      assert.equal(cuts, ((stream.length + 1) * (stream.length + 2)) / 2);
    });
  }
});
