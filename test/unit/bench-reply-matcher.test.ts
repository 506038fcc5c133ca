/**
 * The reply matcher, byte by byte: a reply is recognised however it is split across reads, and
 * a wrong byte, a short line, a bad length prefix or extra bytes make it wrong.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Expectation, type Framing, replySpec } from '../../src/bench/framing.js';
import {
  COMPLETE,
  NEED_MORE,
  ReplyMatcher,
  type Verdict,
  WRONG,
} from '../../src/bench/reply-matcher.js';

/** Feeds `bytes` cut at `cuts`; returns the verdict after each piece. */
function feedSplit(matcher: ReplyMatcher, bytes: Buffer, cuts: number[]): Verdict[] {
  const verdicts: Verdict[] = [];
  let start = 0;
  for (const end of [...cuts, bytes.length]) {
    // Each piece sits at a different offset of a larger buffer, like Node's shared read buffer.
    const chunk = Buffer.concat([Buffer.from('garbage'), bytes.subarray(start, end)]);
    verdicts.push(matcher.feed(chunk, 7, chunk.length));
    start = end;
  }
  return verdicts;
}

/** Every way to cut `length` bytes in two or three pieces, and not at all. */
function* splits(length: number): Generator<number[]> {
  yield [];
  for (let i = 1; i < length; i++) {
    yield [i];
    for (let j = i + 1; j < length; j++) yield [i, j];
  }
}

const cases: [string, Framing, Expectation, Buffer][] = [
  [
    'none, exact',
    'none',
    { text: Buffer.from('Message received') },
    Buffer.from('Message received'),
  ],
  ['none, length only', 'none', { bytes: 5 }, Buffer.from('any!?')],
  ['line, exact', 'line', { text: Buffer.from('ok') }, Buffer.from('ok\n')],
  ['line, length only', 'line', { bytes: 4 }, Buffer.from('abcd\n')],
  ['length, exact', 'length', { text: Buffer.from('xyz') }, Buffer.from('0000000378797a', 'hex')],
  ['length, length only', 'length', { bytes: 2 }, Buffer.from('000000026869', 'hex')],
];

describe('ReplyMatcher', () => {
  for (const [name, framing, expectation, reply] of cases) {
    test(`${name}: complete at the last byte, whatever the split`, () => {
      const matcher = new ReplyMatcher(replySpec(expectation, framing));
      for (const cuts of splits(reply.length)) {
        matcher.reset();
        const verdicts = feedSplit(matcher, reply, cuts);
        assert.deepEqual(verdicts, [...cuts.map(() => NEED_MORE), COMPLETE], `cuts ${cuts}`);
        assert.equal(matcher.received, reply.length);
      }
    });

    test(`${name}: extra bytes are wrong, whatever the split`, () => {
      const matcher = new ReplyMatcher(replySpec(expectation, framing));
      const long = Buffer.concat([reply, Buffer.from('!')]);
      for (const cuts of splits(long.length)) {
        matcher.reset();
        assert.ok(feedSplit(matcher, long, cuts).includes(WRONG), `cuts ${cuts}`);
      }
    });
  }

  test('a wrong byte anywhere in an exact reply is wrong at the piece that holds it', () => {
    const expected = Buffer.from('Message received');
    const matcher = new ReplyMatcher(replySpec({ text: expected }, 'none'));
    for (let at = 0; at < expected.length; at++) {
      const bad = Buffer.from(expected);
      bad[at] = 0x21;
      for (const cuts of splits(bad.length)) {
        matcher.reset();
        const verdicts = feedSplit(matcher, bad, cuts);
        const piece = cuts.filter((cut) => cut <= at).length;
        assert.equal(verdicts[piece], WRONG, `byte ${at}, cuts ${cuts}`);
        assert.ok(verdicts.slice(0, piece).every((v) => v === NEED_MORE));
      }
    }
  });

  test('a line shorter than the expected length is wrong at its newline', () => {
    const matcher = new ReplyMatcher(replySpec({ bytes: 4 }, 'line'));
    assert.equal(matcher.feed(Buffer.from('ab\n'), 0, 3), WRONG);
    matcher.reset();
    assert.equal(matcher.feed(Buffer.from('abcde'), 0, 5), WRONG);
  });

  test('a length prefix other than the expected one is wrong before the payload', () => {
    const matcher = new ReplyMatcher(replySpec({ bytes: 2 }, 'length'));
    assert.equal(matcher.feed(Buffer.from('0000', 'hex'), 0, 2), NEED_MORE);
    assert.equal(matcher.feed(Buffer.from('03', 'hex'), 0, 1), WRONG);
  });

  test('an empty read changes nothing', () => {
    const matcher = new ReplyMatcher(replySpec({ text: Buffer.from('ab') }, 'none'));
    assert.equal(matcher.feed(Buffer.from('a'), 0, 0), NEED_MORE);
    assert.equal(matcher.received, 0);
  });
});
