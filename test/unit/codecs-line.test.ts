/**
 * The line codec at the byte level: line endings, delimiters split across reads, the limit and
 * its exact edge, the discard recovery mode, EOF handling, and the encoder's refusals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineCodec, LineDecoder, LineEncoder } from '../../src/codecs/index.js';
import { resolveLineFormat } from '../../src/codecs/line-format.js';
import {
  FrameInvalidError,
  FrameTooLargeError,
  IncompleteReadError,
  InvalidArgumentError,
} from '../../src/errors.js';
import { bytewise, cut, feed, isViewOf, texts } from './codecs-support.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');
const reads = (...parts: string[]) => parts.map(bytes);

describe('LineDecoder: line endings', () => {
  it('splits at \\n and strips an optional \\r before it', () => {
    const lines = feed(new LineDecoder(), reads('a\nbc\r\n\r\n\nd'));
    assert.deepEqual(texts(lines), ['a', 'bc', '', '']);
  });

  it('keeps a \\r that is not just before the \\n', () => {
    assert.deepEqual(texts(feed(new LineDecoder(), reads('a\rb\r\r\n'))), ['a\rb\r']);
  });

  it('keeps the \\r with stripCarriageReturn: false', () => {
    const decoder = new LineDecoder({ stripCarriageReturn: false });
    assert.deepEqual(texts(feed(decoder, reads('a\r\nb\n'))), ['a\r', 'b']);
  });

  it('strips a \\r that arrived in the read before its \\n', () => {
    const decoder = new LineDecoder();
    assert.deepEqual(texts(feed(decoder, reads('one\r', '\ntwo\r', '', '\n'))), ['one', 'two']);
  });

  it("finds a strict '\\r\\n' delimiter split between reads, and ignores a lone \\n", () => {
    const decoder = new LineDecoder({ delimiter: '\r\n' });
    assert.deepEqual(texts(feed(decoder, reads('a\nb\r', '\nc\r', '\r', '\n'))), ['a\nb', 'c\r']);
  });

  it('finds a multi-byte delimiter split over three reads', () => {
    const decoder = new LineDecoder({ delimiter: '<END>' });
    const lines = feed(decoder, reads('ab<E', 'N', 'D>cd<EN', 'D><END', '>'));
    assert.deepEqual(texts(lines), ['ab', 'cd', '']);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('finds a multi-byte delimiter fed one byte at a time', () => {
    const decoder = new LineDecoder({ delimiter: '<END>' });
    assert.deepEqual(texts(feed(decoder, bytewise(bytes('x<EN<END>y<<END>')))), ['x<EN', 'y<']);
  });

  it('takes the first occurrence of a self-overlapping delimiter', () => {
    const decoder = new LineDecoder({ delimiter: 'aab' });
    assert.deepEqual(texts(feed(decoder, reads('xa', 'a', 'ab', 'aaab'))), ['xa', 'a']);
  });

  it('accepts a byte delimiter given as a Uint8Array', () => {
    const decoder = new LineDecoder({ delimiter: Uint8Array.of(0) });
    assert.deepEqual(texts(feed(decoder, reads('a\0\0b\0'))), ['a', '', 'b']);
  });

  it('returns nothing until the delimiter arrives', () => {
    const decoder = new LineDecoder();
    decoder.push(bytes('partial'));
    assert.equal(decoder.next(), undefined);
    assert.equal(decoder.bufferedBytes, 7);
    decoder.push(bytes(' line\n'));
    assert.equal(decoder.next()?.toString(), 'partial line');
    assert.equal(decoder.next(), undefined);
  });
});

describe('LineDecoder: frames and copies', () => {
  it('hands out a view of the read when the line lies inside it', () => {
    const read = bytes('hello\nworld\n');
    const decoder = new LineDecoder();
    decoder.push(read);
    const line = decoder.next()!;
    assert.ok(isViewOf(line, read), 'a zero-copy view');
    assert.equal(line.byteOffset, read.byteOffset);
  });

  it('copies a line that spans reads, and it stays valid after later input', () => {
    const decoder = new LineDecoder();
    const second = bytes('lo\nwor');
    const [first] = feed(decoder, [bytes('hel'), second]);
    assert.ok(first !== undefined && !isViewOf(first, second), 'a copy');
    const later = feed(decoder, reads('ld\n', 'again\n'));
    assert.equal(first?.toString(), 'hello');
    assert.deepEqual(texts(later), ['world', 'again']);
  });
});

describe('LineDecoder: the limit', () => {
  it('accepts a line of exactly maxLength, with or without \\r', () => {
    const decoder = new LineDecoder({ maxLength: 4 });
    assert.deepEqual(texts(feed(decoder, reads('abcd\n', 'abcd\r', '\n'))), ['abcd', 'abcd']);
  });

  it('refuses a terminated line of maxLength + 1 with its size', () => {
    const decoder = new LineDecoder({ maxLength: 4 });
    decoder.push(bytes('abcde\n'));
    assert.throws(() => decoder.next(), { name: 'FrameTooLargeError', limit: 4, size: 5 });
  });

  it('refuses an unterminated line once it cannot fit, holding at most maxLength + 1 bytes', () => {
    const decoder = new LineDecoder({ maxLength: 4 });
    decoder.push(bytes('abcd\r'));
    assert.equal(decoder.next(), undefined, 'the \\r may still be part of the line ending');
    assert.equal(decoder.bufferedBytes, 5);
    decoder.push(bytes('x'));
    assert.throws(() => decoder.next(), { name: 'FrameTooLargeError', limit: 4, size: 6 });
  });

  it('refuses at once a huge read with no delimiter, keeping nothing', () => {
    const decoder = new LineDecoder({ maxLength: 1024 });
    decoder.push(Buffer.alloc(1 << 20, 0x61));
    assert.throws(() => decoder.next(), FrameTooLargeError);
    assert.equal(decoder.bufferedBytes, 0);
  });

  it('counts a multi-byte delimiter prefix as possibly part of the line ending', () => {
    const decoder = new LineDecoder({ delimiter: '<END>', maxLength: 3 });
    decoder.push(bytes('abc<EN'));
    assert.equal(decoder.next(), undefined);
    assert.equal(decoder.bufferedBytes, 7 - 1);
    decoder.push(bytes('D>'));
    assert.equal(decoder.next()?.toString(), 'abc');
  });

  it('is fatal by default: the same error again, from next, push and end', () => {
    const decoder = new LineDecoder({ maxLength: 2 });
    decoder.push(bytes('abc\nok\n'));
    const error = captureError(() => decoder.next());
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(decoder.bufferedBytes, 0, 'the buffer is freed');
    assert.equal(
      captureError(() => decoder.next()),
      error,
    );
    assert.equal(
      captureError(() => decoder.push(bytes('x'))),
      error,
    );
    assert.equal(
      captureError(() => decoder.end()),
      error,
    );
  });
});

describe('LineDecoder: discard recovery mode', () => {
  it('reports an oversized line, skips it and goes on', () => {
    const reports: FrameTooLargeError[] = [];
    const decoder = new LineDecoder({ maxLength: 3, onOversized: (e) => reports.push(e) });
    const lines = feed(decoder, reads('ab\nabcdefgh\ncd\n'));
    assert.deepEqual(texts(lines), ['ab', 'cd']);
    assert.deepEqual(
      reports.map((e) => [e.limit, e.size]),
      [[3, 8]],
    );
  });

  it('reports as soon as an endless line passes the limit, then stays bounded', () => {
    const reports: FrameTooLargeError[] = [];
    const decoder = new LineDecoder({ maxLength: 3, onOversized: (e) => reports.push(e) });
    const lines = feed(decoder, reads('ok\nabc', 'de'), { bound: 4 });
    assert.deepEqual(texts(lines), ['ok']);
    assert.equal(reports.length, 1, 'reported before the line ended');
    assert.equal(reports[0]?.size, 5);
    const more = feed(decoder, reads('x'.repeat(10_000), 'yyy', 'zz\nnew\n'), { bound: 4 });
    assert.deepEqual(texts(more), ['new']);
    assert.equal(reports.length, 1, 'one report per line');
  });

  it('recovers across a multi-byte delimiter split while discarding', () => {
    const reports: number[] = [];
    const decoder = new LineDecoder({
      delimiter: '\r\n',
      maxLength: 2,
      onOversized: (e) => reports.push(e.size),
    });
    const lines = feed(decoder, reads('toolong\r', '\nok\r\n'));
    assert.deepEqual(texts(lines), ['ok']);
    assert.equal(reports.length, 1);
  });

  it('keeps a sound state when onOversized throws', () => {
    const decoder = new LineDecoder({
      maxLength: 2,
      onOversized: () => {
        throw new Error('reporter failed');
      },
    });
    decoder.push(bytes('abcdef\nok\n'));
    assert.throws(() => decoder.next(), /reporter failed/);
    assert.equal(decoder.next()?.toString(), 'ok');
  });

  it('drops the rest of a discarded line at EOF quietly', () => {
    const reports: number[] = [];
    const decoder = new LineDecoder({ maxLength: 2, onOversized: (e) => reports.push(e.size) });
    assert.deepEqual(feed(decoder, reads('abcdef'), { atEof: true }), []);
    assert.deepEqual(reports, [6]);
  });
});

describe('LineDecoder: end of input', () => {
  it('returns the remaining lines, then undefined', () => {
    const decoder = new LineDecoder();
    decoder.push(bytes('a\nb\n'));
    assert.deepEqual(texts([decoder.end()!, decoder.end()!]), ['a', 'b']);
    assert.equal(decoder.end(), undefined);
  });

  it('raises IncompleteReadError with the unterminated bytes, for good', () => {
    const decoder = new LineDecoder();
    decoder.push(bytes('a\nrest'));
    assert.equal(decoder.end()?.toString(), 'a');
    const error = captureError(() => decoder.end());
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.partial.toString(), 'rest');
    assert.equal(error.expected, undefined);
    assert.equal(
      captureError(() => decoder.next()),
      error,
    );
  });

  it('hands out the unterminated rest as a last line with emitUnterminated', () => {
    const decoder = new LineDecoder({ emitUnterminated: true });
    const lines = feed(decoder, reads('a\nlast\r'), { atEof: true });
    assert.deepEqual(texts(lines), ['a', 'last']);
  });

  it('still applies the limit to an unterminated last line', () => {
    const decoder = new LineDecoder({ emitUnterminated: true, maxLength: 3 });
    decoder.push(bytes('abcd'));
    assert.equal(decoder.next(), undefined);
    assert.throws(() => decoder.end(), { name: 'FrameTooLargeError', size: 4 });
  });

  it('takes a new stream after a clean end', () => {
    const decoder = new LineDecoder();
    assert.deepEqual(feed(decoder, reads('a\n'), { atEof: true }).length, 1);
    assert.deepEqual(texts(feed(decoder, reads('b\n'), { atEof: true })), ['b']);
  });
});

describe('LineEncoder', () => {
  it('appends the delimiter to bytes and to UTF-8 strings', () => {
    const encoder = new LineEncoder();
    assert.equal(encoder.encode(bytes('abc')).toString('latin1'), 'abc\n');
    assert.deepEqual(encoder.encode('é'), Buffer.from([0xc3, 0xa9, 0x0a]));
    assert.equal(encoder.encode('').toString(), '\n');
    assert.equal(new LineEncoder({ delimiter: '\r\n' }).encode('x').toString(), 'x\r\n');
  });

  it('refuses a line holding the delimiter (line injection)', () => {
    assert.throws(() => new LineEncoder().encode('a\nb'), FrameInvalidError);
    assert.throws(() => new LineEncoder({ delimiter: '\r\n' }).encode('a\r\nb'), FrameInvalidError);
  });

  it('refuses a line whose tail and the delimiter form an earlier delimiter', () => {
    const encoder = new LineEncoder({ delimiter: 'aba' });
    assert.throws(() => encoder.encode('ab'), FrameInvalidError);
    assert.equal(encoder.encode('b').toString(), 'baba');
  });

  it('refuses a trailing \\r only when the decoder would strip it', () => {
    assert.throws(() => new LineEncoder().encode('a\r'), FrameInvalidError);
    assert.equal(new LineEncoder({ stripCarriageReturn: false }).encode('a\r').length, 3);
    assert.equal(new LineEncoder({ delimiter: '\r\n' }).encode('a\r').toString(), 'a\r\r\n');
  });

  it('refuses a line over maxLength, counting UTF-8 bytes', () => {
    const encoder = new LineEncoder({ maxLength: 3 });
    assert.equal(encoder.encode('abc').length, 4);
    assert.throws(() => encoder.encode('éé'), { name: 'FrameTooLargeError', limit: 3, size: 4 });
  });
});

describe('LineCodec', () => {
  it('round-trips its own lines, split at every position', () => {
    const codec = new LineCodec({ delimiter: '\r\n' });
    const lines = ['', 'a', 'b\r', 'c\nd', ''];
    const stream = Buffer.concat(lines.map((line) => codec.encode(line)));
    for (let at = 0; at <= stream.length; at++) {
      const decoded = feed(new LineCodec({ delimiter: '\r\n' }), cut(stream, [at]));
      assert.deepEqual(texts(decoded), lines, `cut at ${at}`);
    }
  });
});

describe('line options', () => {
  it('refuses options out of their domain at once', () => {
    const bad = [
      { delimiter: '' },
      { delimiter: new Uint8Array(0) },
      { delimiter: '\r\n', stripCarriageReturn: true },
      { maxLength: -1 },
      { maxLength: 1.5 },
      { maxLength: Number.NaN },
      { maxLength: 2 ** 40 },
    ];
    for (const options of bad) {
      assert.throws(() => new LineDecoder(options), InvalidArgumentError, JSON.stringify(options));
      assert.throws(() => new LineEncoder(options), InvalidArgumentError, JSON.stringify(options));
    }
  });

  it('copies the delimiter, so changing the caller array changes nothing', () => {
    const delimiter = Uint8Array.of(0x2c);
    const decoder = new LineDecoder({ delimiter });
    delimiter[0] = 0x3b;
    assert.deepEqual(texts(feed(decoder, reads('a,b;c,'))), ['a', 'b;c']);
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

describe('line formats are shared between codecs of the same options', () => {
  it('codecs made with equal string options share one format; the format is frozen', () => {
    const a = resolveLineFormat({ maxLength: 100 });
    const b = resolveLineFormat({ maxLength: 100 });
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.notEqual(resolveLineFormat({ maxLength: 101 }), a);
    assert.equal(resolveLineFormat({}), resolveLineFormat({ delimiter: '\n' }));
  });

  it('a cached format never lets a badly typed option through', () => {
    resolveLineFormat({ maxLength: 5 });
    assert.throws(
      () => resolveLineFormat({ maxLength: '5' as unknown as number }),
      InvalidArgumentError,
    );
    resolveLineFormat({ stripCarriageReturn: true });
    assert.throws(
      () => resolveLineFormat({ stripCarriageReturn: 'true' as unknown as boolean }),
      InvalidArgumentError,
    );
  });

  it('a byte delimiter is copied, so changing the caller array later changes nothing', () => {
    const delimiter = Uint8Array.of(0x7c);
    const codec = new LineCodec({ delimiter });
    delimiter[0] = 0x2c;
    codec.push(Buffer.from('a|b,'));
    assert.equal(codec.next()?.toString(), 'a');
    assert.equal(codec.next(), undefined);
    assert.deepEqual(codec.encode('x'), Buffer.from('x|'));
  });

  it('LineCodec and LineEncoder of one format encode alike, and LineCodec keeps no encoder', () => {
    const codec = new LineCodec({ delimiter: '\r\n' });
    const encoder = new LineEncoder({ delimiter: '\r\n' });
    assert.deepEqual(codec.encode('hi'), encoder.encode('hi'));
    assert.throws(() => codec.encode('a\r\nb'), FrameInvalidError);
    assert.deepEqual(Object.keys(codec), ['format']);
  });
});
