/**
 * StreamReader in memory: every read method over a known byte sequence split at every position
 * (and at random positions with fast-check), fed both before the read and while it waits; EOF in
 * the middle of each method; the limit at exactly `limit` and `limit + 1`; `lines()` over LF,
 * CRLF and a final unterminated line; one read at a time; faults reaching pending and later reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ConnectionResetError,
  IncompleteReadError,
  InvalidArgumentError,
  LimitOverrunError,
} from '../../src/errors.js';
import { StreamReader } from '../../src/streams/reader.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** How the pieces reach the reader: all before the first read, or one per turn while it waits. */
type Feed = 'upfront' | 'interleaved';
const FEEDS: readonly Feed[] = ['upfront', 'interleaved'];

type Outcome<T> = { ok: T } | { error: unknown };

/**
 * Runs `consume` on a new reader that receives `pieces` and then, when `eof`, EOF. With
 * `interleaved`, each piece arrives on its own event-loop turn, after `consume` started waiting.
 */
async function run<T>(
  pieces: readonly Buffer[],
  consume: (reader: StreamReader) => Promise<T>,
  options: { feed: Feed; eof?: boolean; limit?: number },
): Promise<Outcome<T>> {
  const reader = new StreamReader(options.limit === undefined ? {} : { limit: options.limit });
  const eof = options.eof ?? true;
  let result: Promise<T>;
  if (options.feed === 'upfront') {
    for (const piece of pieces) reader.feedData(piece);
    if (eof) reader.feedEof();
    result = consume(reader);
  } else {
    result = consume(reader);
    for (const piece of pieces) {
      await tick();
      reader.feedData(piece);
    }
    await tick();
    if (eof) reader.feedEof();
  }
  return result.then(
    (ok) => ({ ok }),
    (error: unknown) => ({ error }),
  );
}

/** The ways to deliver `bytes`: in one piece, cut once at every position, and byte by byte. */
function everySplit(bytes: Buffer): Buffer[][] {
  const splits: Buffer[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i += 1) splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
  splits.push([...bytes].map((byte) => Buffer.from([byte])));
  return splits;
}

/** Cuts `bytes` at arbitrary positions (for fast-check). */
function cutAt(bytes: Buffer, positions: readonly number[]): Buffer[] {
  const cuts = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const position of [...cuts, bytes.length]) {
    if (position > start) pieces.push(bytes.subarray(start, position));
    start = Math.max(start, position);
  }
  return pieces;
}

function describeSplit(pieces: readonly Buffer[], feed: Feed): string {
  return `${feed}: ${pieces.map((piece) => JSON.stringify(piece.toString())).join(' | ')}`;
}

async function readAllLines(reader: StreamReader): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await reader.readLine();
    if (line.length === 0) return lines;
    lines.push(line.toString());
  }
}

function errorOf(outcome: Outcome<unknown>): unknown {
  assert.ok('error' in outcome, 'expected the read to fail');
  return outcome.error;
}

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\nbody\nlast');
const HEAD = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

describe('StreamReader: every read method at every boundary', () => {
  for (const feed of FEEDS) {
    it(`readLine returns each line with its \\n, then the unterminated rest, then empty (${feed})`, async () => {
      for (const pieces of everySplit(REQUEST)) {
        const outcome = await run(pieces, readAllLines, { feed });
        assert.deepEqual(
          outcome,
          { ok: ['GET / HTTP/1.1\r\n', 'Host: a\r\n', '\r\n', 'body\n', 'last'] },
          describeSplit(pieces, feed),
        );
      }
    });

    it(`lines() strips LF and CRLF and yields the final unterminated line (${feed})`, async () => {
      for (const pieces of everySplit(REQUEST)) {
        const outcome = await run(
          pieces,
          async (reader) => {
            const lines: string[] = [];
            for await (const line of reader.lines({ encoding: 'utf8' })) lines.push(line);
            return lines;
          },
          { feed },
        );
        assert.deepEqual(
          outcome,
          { ok: ['GET / HTTP/1.1', 'Host: a', '', 'body', 'last'] },
          describeSplit(pieces, feed),
        );
      }
    });

    it(`readUntil finds a 4-byte separator split anywhere, then fails at EOF (${feed})`, async () => {
      for (const pieces of everySplit(REQUEST)) {
        const outcome = await run(
          pieces,
          async (reader) => {
            const head = (await reader.readUntil('\r\n\r\n')).toString();
            const rest = await reader.readUntil('\r\n\r\n').catch((error: unknown) => error);
            return { head, rest };
          },
          { feed },
        );
        const where = describeSplit(pieces, feed);
        assert.ok('ok' in outcome, where);
        assert.equal(outcome.ok.head, HEAD, where);
        assert.ok(outcome.ok.rest instanceof IncompleteReadError, where);
        assert.equal(outcome.ok.rest.partial.toString(), 'body\nlast', where);
        assert.equal(outcome.ok.rest.expected, undefined, where);
      }
    });

    it(`readExactly returns exact blocks, then IncompleteReadError with the rest (${feed})`, async () => {
      for (const pieces of everySplit(REQUEST)) {
        const outcome = await run(
          pieces,
          async (reader) => {
            const blocks: string[] = [];
            for (;;) {
              try {
                blocks.push((await reader.readExactly(7)).toString());
              } catch (error) {
                return { blocks, error };
              }
            }
          },
          { feed },
        );
        const where = describeSplit(pieces, feed);
        assert.ok('ok' in outcome, where);
        const whole = REQUEST.length - (REQUEST.length % 7);
        assert.equal(outcome.ok.blocks.join(''), REQUEST.subarray(0, whole).toString(), where);
        assert.ok(
          outcome.ok.blocks.every((block) => block.length === 7),
          where,
        );
        const error = outcome.ok.error;
        assert.ok(error instanceof IncompleteReadError, where);
        assert.deepEqual(error.partial, REQUEST.subarray(whole), where);
        assert.equal(error.expected, 7, where);
      }
    });

    it(`read(n) returns 1..n bytes as they come, every byte once, then empty (${feed})`, async () => {
      for (const pieces of everySplit(REQUEST)) {
        const outcome = await run(
          pieces,
          async (reader) => {
            const parts: Buffer[] = [];
            for (;;) {
              const part = await reader.read(5);
              if (part.length === 0) return { parts, atEof: reader.atEof() };
              parts.push(part);
            }
          },
          { feed },
        );
        const where = describeSplit(pieces, feed);
        assert.ok('ok' in outcome, where);
        assert.deepEqual(Buffer.concat(outcome.ok.parts), REQUEST, where);
        assert.ok(
          outcome.ok.parts.every((part) => part.length >= 1 && part.length <= 5),
          where,
        );
        assert.equal(outcome.ok.atEof, true, where);
      }
    });

    it(`read() with no count returns everything up to EOF (${feed})`, async () => {
      for (const pieces of everySplit(REQUEST)) {
        const outcome = await run(pieces, (reader) => reader.read(), { feed });
        assert.deepEqual(outcome, { ok: REQUEST }, describeSplit(pieces, feed));
      }
    });
  }

  it('agrees with the unsplit stream for random splits and random operations', async () => {
    type Op = { kind: 'line' } | { kind: 'exactly'; n: number } | { kind: 'until'; sep: string };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.constant({ kind: 'line' as const }),
      fc.nat(9).map((n) => ({ kind: 'exactly' as const, n })),
      fc.constantFrom('\n', '\r\n', 'ab').map((sep) => ({ kind: 'until' as const, sep })),
    );
    const apply = async (reader: StreamReader, ops: readonly Op[]) => {
      const results: string[] = [];
      for (const next of ops) {
        try {
          if (next.kind === 'line') results.push((await reader.readLine()).toString('latin1'));
          else if (next.kind === 'exactly') {
            results.push((await reader.readExactly(next.n)).toString('latin1'));
          } else results.push((await reader.readUntil(next.sep)).toString('latin1'));
        } catch (error) {
          if (!(error instanceof IncompleteReadError)) throw error;
          results.push(`incomplete:${error.partial.toString('latin1')}:${error.expected}`);
        }
      }
      return results;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...'ab\r\nxy'), { maxLength: 40 }).map((a) => a.join('')),
        fc.array(fc.nat(40), { maxLength: 8 }),
        fc.array(op, { minLength: 1, maxLength: 8 }),
        fc.constantFrom(...FEEDS),
        async (text, positions, ops, feed) => {
          const bytes = Buffer.from(text, 'latin1');
          const reference = await run([bytes], (reader) => apply(reader, ops), {
            feed: 'upfront',
          });
          const split = await run(cutAt(bytes, positions), (reader) => apply(reader, ops), {
            feed,
          });
          assert.deepEqual(split, reference);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('StreamReader: EOF in the middle of each method', () => {
  const WHOLE = Buffer.from('0123456789\r\n');

  for (const feed of FEEDS) {
    it(`readExactly(n) at EOF after k < n bytes fails with those k bytes (${feed})`, async () => {
      for (let k = 0; k < WHOLE.length; k += 1) {
        const prefix = WHOLE.subarray(0, k);
        for (const pieces of k === 0 ? [[]] : everySplit(prefix)) {
          const outcome = await run(pieces, (reader) => reader.readExactly(WHOLE.length), { feed });
          const error = errorOf(outcome);
          assert.ok(error instanceof IncompleteReadError);
          assert.deepEqual(error.partial, prefix, `k=${k}`);
          assert.equal(error.expected, WHOLE.length);
        }
      }
    });

    it(`readUntil at EOF before the separator fails with the bytes so far (${feed})`, async () => {
      for (let k = 0; k < WHOLE.length; k += 1) {
        const prefix = WHOLE.subarray(0, k);
        for (const pieces of k === 0 ? [[]] : everySplit(prefix)) {
          const outcome = await run(
            pieces,
            async (reader) => {
              const error = await reader.readUntil('\r\n').catch((e: unknown) => e);
              return { error, atEof: reader.atEof() };
            },
            { feed },
          );
          assert.ok('ok' in outcome);
          const { error, atEof } = outcome.ok;
          assert.ok(error instanceof IncompleteReadError, `k=${k}`);
          assert.deepEqual(error.partial, prefix, `k=${k}`);
          assert.equal(error.expected, undefined);
          assert.equal(atEof, true, 'the partial bytes were consumed');
        }
      }
    });

    it(`readLine at EOF returns the unterminated bytes, then empty (${feed})`, async () => {
      for (let k = 0; k < WHOLE.length; k += 1) {
        const prefix = WHOLE.subarray(0, k);
        for (const pieces of k === 0 ? [[]] : everySplit(prefix)) {
          const outcome = await run(
            pieces,
            async (reader) => [await reader.readLine(), await reader.readLine()],
            { feed },
          );
          assert.deepEqual(outcome, { ok: [prefix, Buffer.alloc(0)] }, `k=${k}`);
        }
      }
    });

    it(`read(n) at EOF returns what is left, then an empty buffer (${feed})`, async () => {
      for (let k = 0; k <= 3; k += 1) {
        const prefix = WHOLE.subarray(0, k);
        const outcome = await run(
          k === 0 ? [] : [prefix],
          async (reader) => [await reader.read(100), await reader.read(100), await reader.read()],
          { feed },
        );
        const empty = Buffer.alloc(0);
        assert.deepEqual(outcome, { ok: k === 0 ? [empty, empty, empty] : [prefix, empty, empty] });
      }
    });
  }

  it('read(0) and readExactly(0) return empty at once, even with nothing buffered', async () => {
    const reader = new StreamReader();
    assert.equal((await reader.read(0)).length, 0);
    assert.equal((await reader.readExactly(0)).length, 0);
  });
});

describe('StreamReader: the limit', () => {
  const LIMIT = 8;

  for (const feed of FEEDS) {
    it(`accepts a line of exactly limit bytes before \\n, split anywhere (${feed})`, async () => {
      const line = Buffer.from(`${'a'.repeat(LIMIT)}\n`);
      for (const pieces of everySplit(line)) {
        const outcome = await run(pieces, (reader) => reader.readLine(), { feed, limit: LIMIT });
        assert.deepEqual(outcome, { ok: line }, describeSplit(pieces, feed));
      }
    });

    it(`rejects limit + 1 bytes with LimitOverrunError and keeps them (${feed})`, async () => {
      const line = Buffer.from(`${'a'.repeat(LIMIT + 1)}\n`);
      for (const pieces of everySplit(line)) {
        const outcome = await run(
          pieces,
          async (reader) => {
            const error = await reader.readLine().catch((e: unknown) => e);
            return { error, rest: await reader.readExactly(line.length) };
          },
          { feed, limit: LIMIT },
        );
        const where = describeSplit(pieces, feed);
        assert.ok('ok' in outcome, where);
        assert.ok(outcome.ok.error instanceof LimitOverrunError, where);
        assert.equal(outcome.ok.error.limit, LIMIT);
        assert.equal(outcome.ok.error.consumed, LIMIT + 1, where);
        assert.deepEqual(outcome.ok.rest, line, `${where}: nothing was discarded`);
      }
    });
  }

  it('counts the bytes before a multi-byte separator', async () => {
    const fits = Buffer.from('abcdefgh\r\n');
    assert.deepEqual(
      await run([fits], (reader) => reader.readUntil('\r\n'), { feed: 'upfront', limit: LIMIT }),
      { ok: fits },
    );
    const over = await run([Buffer.from('abcdefghi\r\n')], (r) => r.readUntil('\r\n'), {
      feed: 'upfront',
      limit: LIMIT,
    });
    const error = errorOf(over);
    assert.ok(error instanceof LimitOverrunError);
    assert.equal(error.consumed, 9, 'the separator was found at 9');
  });

  it('fails as soon as limit + 1 bytes arrive without the separator, without waiting for more', async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const pending = reader.readLine();
    reader.feedData(Buffer.from('a'.repeat(LIMIT)));
    await tick();
    reader.feedData(Buffer.from('b'));
    const error = await pending.catch((e: unknown) => e);
    assert.ok(error instanceof LimitOverrunError);
    assert.equal(error.consumed, LIMIT + 1);
    assert.equal(reader.atEof(), false);
    assert.equal((await reader.read(100)).toString(), `${'a'.repeat(LIMIT)}b`);
  });

  it('lines() throws LimitOverrunError out of the loop', async () => {
    const reader = new StreamReader({ limit: 4 });
    reader.feedData(Buffer.from('ok\ntoo long\n'));
    reader.feedEof();
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const line of reader.lines({ encoding: 'utf8' })) seen.push(line);
    }, LimitOverrunError);
    assert.deepEqual(seen, ['ok']);
  });

  it('rejects a limit that is not a positive whole number', () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new StreamReader({ limit }), InvalidArgumentError);
    }
    assert.equal(new StreamReader().limit, 64 * 1024);
  });
});

describe('StreamReader: lines()', () => {
  it('yields buffers without an encoding, and keeps empty lines and a lone final \\r', async () => {
    const reader = new StreamReader();
    reader.feedData(Buffer.from('a\n\nb\r\n\r\nc\r'));
    reader.feedEof();
    const lines: Buffer[] = [];
    for await (const line of reader.lines()) lines.push(line);
    assert.deepEqual(
      lines.map((line) => line.toString()),
      ['a', '', 'b', '', 'c\r'],
    );
  });

  it('ends at once on an empty stream, and a break leaves the rest readable', async () => {
    const empty = new StreamReader();
    empty.feedEof();
    for await (const _line of empty.lines()) assert.fail('no lines expected');

    const reader = new StreamReader();
    reader.feedData(Buffer.from('one\ntwo\nthree'));
    reader.feedEof();
    for await (const line of reader.lines({ encoding: 'utf8' })) {
      assert.equal(line, 'one');
      break;
    }
    assert.equal((await reader.read()).toString(), 'two\nthree');
  });
});

describe('StreamReader: misuse and faults', () => {
  it('rejects a second read while one is pending, and the first still completes', async () => {
    const reader = new StreamReader();
    const first = reader.readLine();
    for (const second of [
      () => reader.read(),
      () => reader.readExactly(1),
      () => reader.readUntil('x'),
      () => reader.readLine(),
    ]) {
      await assert.rejects(second(), (error: unknown) => {
        assert.ok(error instanceof InvalidArgumentError);
        assert.match(error.message, /while readLine\(\) is pending/);
        return true;
      });
    }
    reader.feedData(Buffer.from('hi\n'));
    assert.equal((await first).toString(), 'hi\n');
    reader.feedData(Buffer.from('next'));
    assert.equal((await reader.read(10)).toString(), 'next', 'reads work again afterwards');
  });

  it('rejects bad arguments', async () => {
    const reader = new StreamReader();
    await assert.rejects(reader.readExactly(-1), InvalidArgumentError);
    await assert.rejects(reader.read(1.5), InvalidArgumentError);
    await assert.rejects(reader.readUntil(''), InvalidArgumentError);
    await assert.rejects(reader.readUntil(new Uint8Array(0)), InvalidArgumentError);
    reader.feedEof();
    assert.throws(() => reader.feedData(Buffer.from('x')), InvalidArgumentError);
  });

  it('rejects the pending read and every later one with the fault, buffered bytes or not', async () => {
    const reader = new StreamReader();
    const pending = reader.readExactly(10);
    reader.feedData(Buffer.from('abc'));
    await tick();
    const reset = new ConnectionResetError('ECONNRESET');
    reader.setException(reset);
    await assert.rejects(pending, (error) => error === reset);
    assert.equal(reader.exception(), reset);
    await assert.rejects(reader.read(1), (error) => error === reset);
    await assert.rejects(reader.readLine(), (error) => error === reset);
    reader.setException(new Error('later'));
    assert.equal(reader.exception(), reset, 'the first fault wins');
  });

  it('rejects a waiting read when bytes and then the fault arrive in the same turn', async () => {
    // Found on the memory transport, which delivers data and a reset in one go: the bytes woke
    // the read, which then went back to waiting for a feed that would never come.
    const reader = new StreamReader();
    const pending = reader.readLine();
    reader.feedData(Buffer.from('half a line'));
    const reset = new ConnectionResetError('ECONNRESET');
    reader.setException(reset);
    await assert.rejects(pending, (error) => error === reset);

    const exact = new StreamReader();
    const waiting = exact.readExactly(4);
    exact.feedData(Buffer.from('ab'));
    exact.feedEof();
    const incomplete = await waiting.catch((error: unknown) => error);
    assert.ok(incomplete instanceof IncompleteReadError);
    assert.equal(incomplete.partial.toString(), 'ab');
  });

  it('atEof() is true only after EOF and every byte read', async () => {
    const reader = new StreamReader();
    assert.equal(reader.atEof(), false);
    reader.feedData(Buffer.from('x'));
    reader.feedEof();
    assert.equal(reader.atEof(), false);
    await reader.read(1);
    assert.equal(reader.atEof(), true);
  });

  it('accepts a plain Uint8Array and views it without copying', async () => {
    const reader = new StreamReader();
    const bytes = new Uint8Array([0x68, 0x69, 0x0a]);
    reader.feedData(bytes);
    const line = await reader.readLine();
    assert.equal(line.toString(), 'hi\n');
    assert.equal(line.buffer, bytes.buffer);
  });
});
