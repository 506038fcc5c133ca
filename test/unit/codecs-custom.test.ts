/**
 * Writing your own codec: the fixed-size record codec of docs/codecs.md, verbatim, checked like
 * the built-in ones (round trip under any split, leftovers at EOF, refusals).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ChunkQueue, type Codec } from '../../src/codecs/index.js';
import { FrameInvalidError, IncompleteReadError } from '../../src/errors.js';
import { cut, feed, hexes } from './codecs-support.js';

// --- from docs/codecs.md ---------------------------------------------------------------------
const RECORD_SIZE = 16; // bytes per record, fixed by the protocol

/** Fixed-size records: the size is the framing, so no length limit is needed. */
class RecordCodec implements Codec<Buffer> {
  readonly #queue = new ChunkQueue();
  get bufferedBytes() {
    return this.#queue.length;
  }
  push(chunk: Buffer) {
    this.#queue.push(chunk);
  }
  next() {
    return this.#queue.length >= RECORD_SIZE ? this.#queue.take(RECORD_SIZE) : undefined;
  }
  end() {
    const left = this.#queue.length;
    if (left === 0 || left >= RECORD_SIZE) return this.next();
    throw new IncompleteReadError(this.#queue.take(left), RECORD_SIZE);
  }
  encode(record: Buffer) {
    if (record.length !== RECORD_SIZE) throw new FrameInvalidError('a record is 16 bytes');
    return record;
  }
}
// ---------------------------------------------------------------------------------------------

describe('a codec of your own: fixed-size records', () => {
  it('round-trips records under any split and coalescing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: RECORD_SIZE, maxLength: RECORD_SIZE }), {
          maxLength: 20,
        }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (records, seeds) => {
          const codec = new RecordCodec();
          const stream = Buffer.concat(records.map((record) => codec.encode(Buffer.from(record))));
          const chunks = cut(
            stream,
            seeds.map((seed) => seed % (stream.length + 1)),
          );
          const frames = feed(codec, chunks, { bound: RECORD_SIZE - 1, atEof: true });
          assert.deepEqual(hexes(frames), hexes(records));
        },
      ),
    );
  });

  it('raises IncompleteReadError for a partial record at EOF', () => {
    const codec = new RecordCodec();
    codec.push(Buffer.alloc(RECORD_SIZE + 5, 1));
    assert.equal(codec.end()?.length, RECORD_SIZE);
    assert.throws(
      () => codec.end(),
      (error) => {
        assert.ok(error instanceof IncompleteReadError);
        assert.equal(error.partial.length, 5);
        assert.equal(error.expected, RECORD_SIZE);
        return true;
      },
    );
  });

  it('refuses a record of the wrong size', () => {
    assert.throws(() => new RecordCodec().encode(Buffer.alloc(3)), FrameInvalidError);
  });
});
