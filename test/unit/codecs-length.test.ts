/**
 * The length-prefixed codec at the byte level: hex fixtures for every field width, byte order,
 * offset, adjustment and strip; refusal of huge declared lengths before any body is buffered;
 * EOF handling; the encoder's layouts and refusals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type LengthFieldOptions,
  LengthPrefixedCodec,
  LengthPrefixedDecoder,
  LengthPrefixedEncoder,
} from '../../src/codecs/index.js';
import {
  FrameInvalidError,
  FrameTooLargeError,
  IncompleteReadError,
  InvalidArgumentError,
} from '../../src/errors.js';
import { bytewise, cut, feed, hex, hexes, isViewOf } from './codecs-support.js';

/** One wire frame, the options that read it, and what the decoder yields. */
interface Fixture {
  readonly name: string;
  readonly options: LengthFieldOptions;
  readonly wire: string;
  readonly frame: string;
  /** Whether the encoder, handed `frame`, gives back `wire` (false when bytes are stripped that it cannot rebuild). */
  readonly encodable: boolean;
}

const ABC = '616263';
const HELLO = '48454c4c4f2c20574f524c44'; // "HELLO, WORLD", 12 bytes

const FIXTURES: readonly Fixture[] = [
  { name: 'u8', options: { lengthFieldSize: 1 }, wire: `03 ${ABC}`, frame: ABC, encodable: true },
  {
    name: 'u16 big-endian',
    options: { lengthFieldSize: 2 },
    wire: `0003 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'u16 little-endian',
    options: { lengthFieldSize: 2, byteOrder: 'little' },
    wire: `0300 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'u32 big-endian (default)',
    options: {},
    wire: `00000003 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'u32 little-endian',
    options: { byteOrder: 'little' },
    wire: `03000000 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'u64 big-endian',
    options: { lengthFieldSize: 8 },
    wire: `0000000000000003 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'u64 little-endian',
    options: { lengthFieldSize: 8, byteOrder: 'little' },
    wire: `0300000000000000 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'u64 with the high half set (adjustment -2^40)',
    options: { lengthFieldSize: 8, lengthAdjustment: -(2 ** 40) },
    wire: `0000010000000003 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'u64 little-endian with the high half set',
    options: { lengthFieldSize: 8, byteOrder: 'little', lengthAdjustment: -(2 ** 40) },
    wire: `0300000000010000 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'empty body',
    options: { lengthFieldSize: 2 },
    wire: '0000',
    frame: '',
    encodable: true,
  },
  {
    name: 'header kept (bytesToStrip 0)',
    options: { lengthFieldSize: 2, bytesToStrip: 0 },
    wire: `0003 ${ABC}`,
    frame: `0003 ${ABC}`,
    encodable: true,
  },
  {
    name: 'length counts the header (adjustment -2)',
    options: { lengthFieldSize: 2, lengthAdjustment: -2 },
    wire: `0005 ${ABC}`,
    frame: ABC,
    encodable: true,
  },
  {
    name: 'length counts the header, header kept',
    options: { lengthFieldSize: 2, lengthAdjustment: -2, bytesToStrip: 0 },
    wire: `0005 ${ABC}`,
    frame: `0005 ${ABC}`,
    encodable: true,
  },
  {
    name: 'prefix before the length (offset 2), kept',
    options: { lengthFieldSize: 2, lengthFieldOffset: 2, bytesToStrip: 0 },
    wire: `cafe 0003 ${ABC}`,
    frame: `cafe 0003 ${ABC}`,
    encodable: true,
  },
  {
    name: 'offset 2, little-endian u32, length counts everything',
    options: {
      lengthFieldSize: 4,
      byteOrder: 'little',
      lengthFieldOffset: 2,
      lengthAdjustment: -6,
      bytesToStrip: 0,
    },
    wire: `0102 09000000 ${ABC}`,
    frame: `0102 09000000 ${ABC}`,
    encodable: true,
  },
  {
    name: 'offset 2, whole header stripped (default strip)',
    options: { lengthFieldSize: 2, lengthFieldOffset: 2 },
    wire: `cafe 0003 ${ABC}`,
    frame: ABC,
    encodable: false,
  },
  {
    name: 'second header after the length (adjustment +1), strip offset + length',
    options: { lengthFieldSize: 2, lengthFieldOffset: 1, lengthAdjustment: 1, bytesToStrip: 3 },
    wire: `ca 000c fe ${HELLO}`,
    frame: `fe ${HELLO}`,
    encodable: false,
  },
  {
    name: 'length counts the whole frame, strip offset + length',
    options: { lengthFieldSize: 2, lengthFieldOffset: 1, lengthAdjustment: -3, bytesToStrip: 3 },
    wire: `ca 0010 fe ${HELLO}`,
    frame: `fe ${HELLO}`,
    encodable: false,
  },
  {
    name: 'strip only the length (offset 0, strip 1 of a u16)',
    options: { lengthFieldSize: 2, bytesToStrip: 1 },
    wire: `0003 ${ABC}`,
    frame: `03 ${ABC}`,
    encodable: false,
  },
];

describe('LengthPrefixedDecoder: fixtures', () => {
  for (const fixture of FIXTURES) {
    it(`${fixture.name}: ${fixture.wire}`, () => {
      const wire = hex(fixture.wire);
      const twice = Buffer.concat([wire, wire]);
      const expected = [hex(fixture.frame).toString('hex'), hex(fixture.frame).toString('hex')];
      const whole = feed(new LengthPrefixedDecoder(fixture.options), [twice]);
      assert.deepEqual(hexes(whole), expected, 'in one read');
      const split = feed(new LengthPrefixedDecoder(fixture.options), bytewise(twice));
      assert.deepEqual(hexes(split), expected, 'one byte per read');
    });
  }
});

describe('LengthPrefixedEncoder: fixtures', () => {
  for (const fixture of FIXTURES.filter((f) => f.encodable)) {
    it(`${fixture.name}: ${fixture.frame || '(empty)'}`, () => {
      const frame = hex(fixture.frame);
      // A kept header is handed over with its length field blank: the encoder fills it in.
      if (fixture.options.bytesToStrip === 0) {
        const offset = fixture.options.lengthFieldOffset ?? 0;
        frame.fill(0, offset, offset + (fixture.options.lengthFieldSize ?? 4));
      }
      const encoded = new LengthPrefixedEncoder(fixture.options).encode(frame);
      assert.equal(encoded.toString('hex'), hex(fixture.wire).toString('hex'));
    });
  }

  it('refuses layouts whose stripped bytes it cannot rebuild', () => {
    for (const fixture of FIXTURES.filter((f) => !f.encodable)) {
      assert.throws(() => new LengthPrefixedEncoder(fixture.options), InvalidArgumentError);
      assert.throws(() => new LengthPrefixedCodec(fixture.options), InvalidArgumentError);
    }
  });

  it('does not modify the frame it is given', () => {
    const frame = hex(`0000 ${ABC}`);
    new LengthPrefixedEncoder({ lengthFieldSize: 2, bytesToStrip: 0 }).encode(frame);
    assert.equal(frame.toString('hex'), `0000${ABC}`);
  });

  it('refuses a body over maxLength, and one its field cannot express', () => {
    assert.throws(() => new LengthPrefixedEncoder({ maxLength: 2 }).encode(hex(ABC)), {
      name: 'FrameTooLargeError',
      limit: 2,
      size: 3,
    });
    const u8 = new LengthPrefixedEncoder({ lengthFieldSize: 1 });
    assert.equal(u8.encode(Buffer.alloc(255)).length, 256);
    assert.throws(() => u8.encode(Buffer.alloc(256)), { name: 'FrameTooLargeError', limit: 255 });
    const counted = new LengthPrefixedEncoder({ lengthFieldSize: 1, lengthAdjustment: -1 });
    assert.equal(counted.encode(Buffer.alloc(254))[0], 255);
    assert.throws(() => counted.encode(Buffer.alloc(255)), {
      name: 'FrameTooLargeError',
      limit: 254,
    });
  });

  it('refuses a frame shorter than its header, and a negative declared length', () => {
    const kept = new LengthPrefixedEncoder({ lengthFieldSize: 4, bytesToStrip: 0 });
    assert.throws(() => kept.encode(hex('000000')), FrameInvalidError);
    const plus = new LengthPrefixedEncoder({ lengthAdjustment: 5 });
    assert.throws(() => plus.encode(hex(ABC)), FrameInvalidError);
    assert.equal(plus.encode(Buffer.alloc(5)).readUInt32BE(0), 0);
  });
});

describe('LengthPrefixedDecoder: the limit', () => {
  it('accepts a body of exactly maxLength and refuses maxLength + 1', () => {
    const ok = new LengthPrefixedDecoder({ maxLength: 3 });
    assert.deepEqual(hexes(feed(ok, [hex(`00000003 ${ABC}`)])), [ABC]);
    const over = new LengthPrefixedDecoder({ maxLength: 2 });
    over.push(hex('00000003'));
    assert.throws(() => over.next(), { name: 'FrameTooLargeError', limit: 2, size: 3 });
  });

  it('checks the adjusted length: a length that counts the header may be maxLength + header', () => {
    const decoder = new LengthPrefixedDecoder({ maxLength: 3, lengthAdjustment: -4 });
    assert.deepEqual(hexes(feed(decoder, [hex(`00000007 ${ABC}`)])), [ABC]);
  });

  for (const [name, size, header, declared] of [
    ['2^31 - 1', 4, '7fffffff', 2 ** 31 - 1],
    ['2^32 - 1', 4, 'ffffffff', 2 ** 32 - 1],
    ['2^53 - 1 (exact)', 8, '001fffffffffffff', 2 ** 53 - 1],
    ['2^53 + 1', 8, '0020000000000001', 2 ** 53],
    ['2^64 - 1', 8, 'ffffffffffffffff', 2 ** 64],
  ] as const) {
    it(`refuses a declared length of ${name} at once, with under 1 MiB allocated`, () => {
      const before = process.memoryUsage().arrayBuffers;
      const decoder = new LengthPrefixedDecoder({ lengthFieldSize: size });
      decoder.push(hex(header));
      assert.throws(() => decoder.next(), { name: 'FrameTooLargeError', size: declared });
      assert.equal(decoder.bufferedBytes, 0);
      // The same error again, even if the peer goes on sending the "body".
      assert.throws(() => decoder.push(Buffer.alloc(64)), FrameTooLargeError);
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(grown < 1024 * 1024, `arrayBuffers grew by ${grown} bytes`);
    });
  }

  it('refuses a huge length whose header arrives one byte at a time, holding only the header', () => {
    const decoder = new LengthPrefixedDecoder({ lengthFieldSize: 8, lengthFieldOffset: 1 });
    const wire = hex('00 ffffffffffffffff');
    for (const byte of bytewise(wire).slice(0, -1)) {
      decoder.push(byte);
      assert.equal(decoder.next(), undefined);
    }
    assert.equal(decoder.bufferedBytes, 8);
    decoder.push(bytewise(wire).at(-1)!);
    assert.throws(() => decoder.next(), FrameTooLargeError);
  });

  it('refuses a negative adjusted length and a frame shorter than bytesToStrip, for good', () => {
    const negative = new LengthPrefixedDecoder({ lengthFieldSize: 1, lengthAdjustment: -2 });
    negative.push(hex('01 ff'));
    const error = captureError(() => negative.next());
    assert.ok(error instanceof FrameInvalidError);
    assert.equal(
      captureError(() => negative.next()),
      error,
    );
    assert.equal(
      captureError(() => negative.end()),
      error,
    );
    assert.equal(negative.bufferedBytes, 0);

    const short = new LengthPrefixedDecoder({ lengthFieldSize: 1, bytesToStrip: 3 });
    short.push(hex('01 ff'));
    assert.throws(() => short.next(), FrameInvalidError);
  });
});

describe('LengthPrefixedDecoder: frames and copies', () => {
  it('hands out views inside one read and copies across reads; frames stay valid', () => {
    const read = hex(`0003 ${ABC} 0003 6465`);
    const decoder = new LengthPrefixedDecoder({ lengthFieldSize: 2 });
    decoder.push(read);
    const first = decoder.next()!;
    assert.ok(isViewOf(first, read), 'a zero-copy view');
    assert.equal(decoder.next(), undefined);
    decoder.push(hex('66 0001 67'));
    const second = decoder.next()!;
    assert.ok(!isViewOf(second, read), 'a copy: it spans two reads');
    assert.deepEqual(hexes([first, second, decoder.next()!]), [ABC, '646566', '67']);
  });
});

describe('LengthPrefixedDecoder: end of input', () => {
  it('returns the remaining frames, then undefined', () => {
    const decoder = new LengthPrefixedDecoder({ lengthFieldSize: 1 });
    decoder.push(hex('01 61 01 62'));
    assert.deepEqual(hexes([decoder.end()!, decoder.end()!]), ['61', '62']);
    assert.equal(decoder.end(), undefined);
    assert.deepEqual(
      hexes(feed(decoder, [hex('00')], { atEof: true })),
      [''],
      'takes a new stream',
    );
  });

  it('raises IncompleteReadError for a partial header, expected unknown', () => {
    const decoder = new LengthPrefixedDecoder();
    decoder.push(hex('0000'));
    assert.equal(decoder.next(), undefined);
    const error = captureError(() => decoder.end());
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.partial.toString('hex'), '0000');
    assert.equal(error.expected, undefined);
    assert.equal(
      captureError(() => decoder.end()),
      error,
      'for good',
    );
  });

  it('raises IncompleteReadError for a partial body, expecting the whole frame', () => {
    const decoder = new LengthPrefixedDecoder({ lengthFieldSize: 2 });
    feed(decoder, cut(hex(`0003 6162`), [1, 3]));
    const error = captureError(() => decoder.end());
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.partial.toString('hex'), '00036162');
    assert.equal(error.expected, 5);
  });
});

describe('length options', () => {
  it('refuses options out of their domain at once', () => {
    const bad: unknown[] = [
      { lengthFieldSize: 3 },
      { lengthFieldSize: 0 },
      { byteOrder: 'middle' },
      { lengthFieldOffset: -1 },
      { lengthFieldOffset: 0.5 },
      { lengthAdjustment: Number.POSITIVE_INFINITY },
      { bytesToStrip: -1 },
      { maxLength: -1 },
      { maxLength: 2 ** 33 },
    ];
    for (const options of bad) {
      assert.throws(
        () => new LengthPrefixedDecoder(options as LengthFieldOptions),
        InvalidArgumentError,
        JSON.stringify(options),
      );
    }
  });
});

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
}
