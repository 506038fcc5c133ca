/**
 * The codecs' chunk queue: zero-copy views inside a chunk, one copy across chunks, searches
 * that span chunks, integer reads that straddle them, linear cost for trickled input, and no
 * reference kept to consumed chunks. Checked against a plain Buffer model with fast-check.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { ChunkQueue, LengthPrefixedDecoder, LineDecoder } from '../../src/codecs/index.js';
import { cut, feed, isViewOf } from './codecs-support.js';

function queueOf(...parts: string[]): ChunkQueue {
  const queue = new ChunkQueue();
  for (const part of parts) queue.push(Buffer.from(part, 'latin1'));
  return queue;
}

describe('ChunkQueue: take and skip', () => {
  it('takes a view inside a chunk, the chunk itself when whole, a copy across chunks', () => {
    const a = Buffer.from('hello');
    const b = Buffer.from('world!');
    const queue = new ChunkQueue();
    queue.push(a);
    queue.push(Buffer.alloc(0));
    queue.push(b);
    assert.equal(queue.length, 11);
    const he = queue.take(2);
    assert.ok(isViewOf(he, a));
    const llowo = queue.take(5);
    assert.ok(!isViewOf(llowo, a) && !isViewOf(llowo, b), 'spans both: copied');
    const rld = queue.take(3, 1);
    assert.ok(isViewOf(rld, b));
    assert.deepEqual([he, llowo, rld].map(String), ['he', 'llowo', 'rld']);
    assert.equal(queue.length, 0);

    const whole = Buffer.from('abc');
    queue.push(whole);
    assert.equal(queue.take(3), whole, 'the chunk itself');
  });

  it('skips across chunks and takes after a delimiter across chunks', () => {
    const queue = queueOf('ab', 'cd', 'ef', 'gh');
    queue.skip(3);
    assert.equal(queue.take(1, 3).toString(), 'd');
    assert.equal(queue.length, 1);
    assert.equal(queue.take(1).toString(), 'h');
    assert.equal(queue.take(0).length, 0);
  });

  it('reads bytes across chunks, -1 past the end', () => {
    const queue = queueOf('ab', 'c');
    queue.skip(1);
    assert.deepEqual(
      [0, 1, 2].map((i) => queue.byteAt(i)),
      [0x62, 0x63, -1],
    );
  });

  it('keeps taking correctly across compactions of its chunk array', () => {
    const queue = new ChunkQueue();
    const out: number[] = [];
    for (let i = 0; i < 300; i++) {
      queue.push(Buffer.of(i & 0xff, (i + 1) & 0xff));
      out.push(queue.take(1)[0]!);
    }
    while (queue.length > 0) out.push(queue.take(1)[0]!);
    const expected = Array.from({ length: 300 }, (_, i) => [i & 0xff, (i + 1) & 0xff]).flat();
    assert.deepEqual(out, expected);
  });
});

describe('ChunkQueue: search', () => {
  it('finds a needle inside a chunk and across two and three chunks', () => {
    assert.equal(queueOf('ab<END>').indexOf(Buffer.from('<END>'), 0), 2);
    assert.equal(queueOf('ab<E', 'ND>').indexOf(Buffer.from('<END>'), 0), 2);
    assert.equal(queueOf('ab<', 'EN', 'D>').indexOf(Buffer.from('<END>'), 0), 2);
    assert.equal(queueOf('<<', '<E', 'ND>').indexOf(Buffer.from('<END>'), 0), 2);
  });

  it('starts at `from`, counts from the first unread byte, and needs the whole needle', () => {
    const queue = queueOf('xx\nab', '\ncd\n');
    queue.skip(2);
    assert.equal(queue.indexOf(Buffer.from('\n'), 0), 0);
    assert.equal(queue.indexOf(Buffer.from('\n'), 1), 3);
    assert.equal(queue.indexOf(Buffer.from('\n'), 4), 6);
    assert.equal(queue.indexOf(Buffer.from('\n'), 7), -1);
    assert.equal(queueOf('ab<EN').indexOf(Buffer.from('<END>'), 0), -1);
  });

  it('resumes a search where the last one stopped, as chunks arrive', () => {
    const needle = Buffer.from('c\r\n');
    const queue = new ChunkQueue();
    let from = 0;
    for (const part of ['ab', 'c', '\r']) {
      queue.push(Buffer.from(part));
      assert.equal(queue.indexOf(needle, from), -1);
      from = Math.max(from, queue.length - needle.length + 1);
    }
    queue.push(Buffer.from('\n'));
    assert.equal(queue.indexOf(needle, from), 2);
  });
});

describe('ChunkQueue: integer reads', () => {
  it('reads every width in both orders, at every split of the bytes', () => {
    const bytes = Buffer.from('0102030405060708090a', 'hex');
    for (const size of [1, 2, 3, 4, 5, 6, 7, 8]) {
      for (let position = 0; position + size <= bytes.length; position++) {
        const big = Number(bigintAt(bytes, position, size, false));
        const little = Number(bigintAt(bytes, position, size, true));
        for (let split = 0; split <= bytes.length; split++) {
          const queue = new ChunkQueue();
          for (const chunk of cut(bytes, [split, split + 1])) queue.push(chunk);
          assert.equal(
            queue.readUInt(position, size, false),
            big,
            `BE ${size}@${position}|${split}`,
          );
          assert.equal(
            queue.readUInt(position, size, true),
            little,
            `LE ${size}@${position}|${split}`,
          );
        }
      }
    }
  });

  it('reads 64-bit values exactly up to 2^53 - 1 and as >= 2^53 above', () => {
    const read = (text: string) => {
      const queue = new ChunkQueue();
      queue.push(Buffer.from(text, 'hex'));
      return queue.readUInt(0, 8, false);
    };
    assert.equal(read('001fffffffffffff'), 2 ** 53 - 1);
    assert.ok(read('0020000000000000') >= 2 ** 53);
    assert.ok(read('8000000000000000') >= 2 ** 63);
    assert.equal(read('ffffffffffffffff'), 2 ** 64);
  });
});

describe('ChunkQueue: cost and memory', () => {
  it('stays linear for a long line trickled one byte per read', () => {
    // Walking the chunk list from the front on every read took 6-8 s here; linear is ~50 ms.
    for (const delimiter of ['\n', '<END>']) {
      const decoder = new LineDecoder({ delimiter });
      const started = performance.now();
      for (let i = 0; i < 64 * 1024 - 1; i++) {
        decoder.push(Buffer.of(0x78));
        assert.equal(decoder.next(), undefined);
      }
      decoder.push(Buffer.from(`x${delimiter}`));
      assert.equal(decoder.next()?.length, 64 * 1024);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 1500, `${JSON.stringify(delimiter)} took ${elapsed.toFixed(0)} ms`);
    }
  });

  it('stays linear for a 1 MiB frame trickled in 16-byte reads', () => {
    const decoder = new LengthPrefixedDecoder();
    const body = Buffer.alloc(1024 * 1024, 7);
    const wire = Buffer.concat([Buffer.from([0, 0x10, 0, 0]), body]);
    const started = performance.now();
    const frames = feed(
      decoder,
      cut(
        wire,
        Array.from({ length: wire.length / 16 }, (_, i) => i * 16),
      ),
    );
    const elapsed = performance.now() - started;
    assert.equal(frames.length, 1);
    assert.ok(frames[0]?.equals(body));
    assert.ok(elapsed < 1500, `took ${elapsed.toFixed(0)} ms`);
  });

  it('drops consumed chunks: only the frames handed out keep their memory alive', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const queue = new ChunkQueue();
    const refs: WeakRef<Buffer>[] = [];
    const pushTracked = (chunk: Buffer) => {
      refs.push(new WeakRef(chunk));
      queue.push(chunk);
    };
    pushTracked(Buffer.alloc(1024 * 1024));
    pushTracked(Buffer.from('line\n'));
    pushTracked(Buffer.from('tail'));
    queue.skip(1024 * 1024);
    // Consumed exactly to its end by a take plus its delimiter: dropped too.
    const line = queue.take(4, 1);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(refs[0]?.deref(), undefined, 'the skipped chunk was collected');
    assert.equal(refs[1]?.deref(), undefined, 'the chunk taken to its end was collected');
    assert.equal(line.toString(), 'line', 'the frame, a view, is still valid');
    assert.equal(queue.take(3).toString(), 'tai');
  });
});

describe('ChunkQueue: against a Buffer model', () => {
  it('agrees with Buffer on any sequence of pushes, takes, skips and searches', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), bytes: fc.uint8Array({ maxLength: 12 }) }),
      fc.record({ kind: fc.constant('take' as const), n: fc.nat(16), after: fc.nat(3) }),
      fc.record({ kind: fc.constant('skip' as const), n: fc.nat(16) }),
      fc.record({
        kind: fc.constant('find' as const),
        needle: fc.uint8Array({ minLength: 1, maxLength: 3, max: 3 }),
        from: fc.nat(20),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const queue = new ChunkQueue();
        let model = Buffer.alloc(0);
        for (const step of ops) {
          if (step.kind === 'push') {
            // Small byte values so searches for needles over 0..3 find something.
            const chunk = Buffer.from(step.bytes.map((b) => b & 3));
            queue.push(chunk);
            model = Buffer.concat([model, chunk]);
          } else if (step.kind === 'take') {
            const n = Math.min(step.n, model.length);
            const after = Math.min(step.after, model.length - n);
            assert.deepEqual(queue.take(n, after), model.subarray(0, n));
            model = model.subarray(n + after);
          } else if (step.kind === 'skip') {
            const n = Math.min(step.n, model.length);
            queue.skip(n);
            model = model.subarray(n);
          } else {
            const expected = step.from >= model.length ? -1 : model.indexOf(step.needle, step.from);
            assert.equal(queue.indexOf(step.needle, step.from), expected);
          }
          assert.equal(queue.length, model.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

function bigintAt(bytes: Buffer, position: number, size: number, little: boolean): bigint {
  let value = 0n;
  for (let i = 0; i < size; i++) {
    const byte = bytes[little ? position + size - 1 - i : position + i]!;
    value = (value << 8n) | BigInt(byte);
  }
  return value;
}
