/**
 * The reader's chunk queue against a plain `Buffer` model: takes and searches over random chunk
 * splits, matches that span chunks, and zero-copy takes inside one chunk.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ChunkQueue } from '../../src/streams/chunk-queue.js';

/** Cuts `bytes` at the given positions (sorted, deduplicated, inside the buffer). */
function cut(bytes: Buffer, positions: readonly number[]): Buffer[] {
  const cuts = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const position of [...cuts, bytes.length]) {
    if (position > start) pieces.push(Buffer.from(bytes.subarray(start, position)));
    start = Math.max(start, position);
  }
  return pieces;
}

function queueOf(pieces: readonly Buffer[]): ChunkQueue {
  const queue = new ChunkQueue();
  for (const piece of pieces) queue.push(piece);
  return queue;
}

describe('ChunkQueue', () => {
  it('takes within one chunk without copying, and across chunks with one copy', () => {
    const first = Buffer.from('hello ');
    const queue = queueOf([first, Buffer.from('world')]);
    const head = queue.take(4);
    assert.equal(head.toString(), 'hell');
    assert.equal(head.buffer, first.buffer, 'a take inside a chunk shares its memory');
    const spanning = queue.take(4);
    assert.equal(spanning.toString(), 'o wo');
    assert.equal(queue.length, 3);
    assert.equal(queue.takeAll().toString(), 'rld');
    assert.equal(queue.length, 0);
    assert.equal(queue.take(0).length, 0);
  });

  it('finds a separator that spans chunks at every split of it', () => {
    const bytes = Buffer.from('abc\r\n\r\ndef');
    const needle = Buffer.from('\r\n\r\n');
    for (let a = 0; a <= bytes.length; a += 1) {
      for (let b = a; b <= bytes.length; b += 1) {
        const queue = queueOf(cut(bytes, [a, b]));
        assert.equal(queue.indexOf(needle, 0), 3, `cuts at ${a}, ${b}`);
        assert.equal(queue.indexOf(needle, 4), -1);
        assert.equal(queue.indexOf(Buffer.from('\r\n'), 4), 5);
      }
    }
  });

  it('does not report a match that runs past the queued bytes', () => {
    const queue = queueOf([Buffer.from('ab\r'), Buffer.from('\n\r')]);
    assert.equal(queue.indexOf(Buffer.from('\r\n\r\n'), 0), -1);
    queue.push(Buffer.from('\n'));
    assert.equal(queue.indexOf(Buffer.from('\r\n\r\n'), 0), 2);
  });

  it('resumes a search after more chunks arrive, as readUntil does', () => {
    const queue = new ChunkQueue();
    const needle = Buffer.from('XY');
    let from = 0;
    for (const piece of ['aaa', 'bX', 'c', 'dX']) {
      queue.push(Buffer.from(piece));
      assert.equal(queue.indexOf(needle, from), -1);
      from = queue.length + 1 - needle.length;
    }
    queue.push(Buffer.from('Yz'));
    assert.equal(queue.indexOf(needle, from), 7);
  });

  it('agrees with a Buffer model on random chunks, takes and searches', () => {
    const byte = fc.constantFrom(0x61, 0x62, 0x0d, 0x0a);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }).map((a) => Buffer.from(a)),
        fc.array(fc.nat(64), { maxLength: 10 }),
        fc.array(
          fc.record({
            take: fc.nat(12),
            needle: fc.uint8Array({ minLength: 1, maxLength: 3 }).map((a) => Buffer.from(a)),
            from: fc.nat(8),
          }),
          { maxLength: 10 },
        ),
        fc.array(byte, { minLength: 1, maxLength: 40 }).map((a) => Buffer.from(a)),
        (noise, positions, operations, text) => {
          const bytes = Buffer.concat([text, noise]);
          const queue = queueOf(cut(bytes, positions));
          let model = bytes;
          for (const { take, needle, from } of operations) {
            assert.equal(queue.indexOf(needle, from), model.indexOf(needle, from));
            const n = Math.min(take, model.length);
            assert.deepEqual(queue.take(n), model.subarray(0, n));
            model = model.subarray(n);
            assert.equal(queue.length, model.length);
          }
          assert.deepEqual(queue.takeAll(), model);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('stays linear when a long line arrives one byte at a time', () => {
    const queue = new ChunkQueue();
    const needle = Buffer.from('\n');
    let from = 0;
    const count = 50_000;
    const started = performance.now();
    for (let i = 0; i < count; i += 1) {
      queue.push(Buffer.from('a'));
      assert.equal(queue.indexOf(needle, from), -1);
      from = queue.length;
    }
    queue.push(Buffer.from('\n'));
    assert.equal(queue.indexOf(needle, from), count);
    assert.equal(queue.take(count + 1).length, count + 1);
    // Quadratic rescanning would walk 1.25e9 chunks here; linear work takes milliseconds.
    assert.ok(performance.now() - started < 2000, 'searches resume instead of rescanning');
  });
});
