/**
 * Misuse, in memory: thrown at once with a typed error (bytes are the contract; writing after
 * writeEof); while writes after close, abort or the end are dropped silently, because the peer
 * may vanish at any moment and that is no mistake of the caller.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, WriteAfterEofError } from '../../src/errors.js';
import { MemoryTransport } from '../../src/testing/index.js';
import type { TextEncoding } from '../../src/transport.js';
import { grammarViolations, RecordingProtocol } from '../helpers/recording-protocol.js';

function open() {
  const protocol = new RecordingProtocol();
  return { protocol, transport: new MemoryTransport(protocol).start() };
}

/** Values that are not bytes, as a JavaScript caller might pass them. */
const NOT_BYTES: readonly [string, unknown][] = [
  ['a number', 42],
  ['null', null],
  ['undefined', undefined],
  ['an object', { length: 1 }],
  ['an array of numbers', [1, 2, 3]],
  ['an ArrayBuffer', new ArrayBuffer(4)],
];

describe('misuse is thrown at once', () => {
  it('write of a string without an encoding', () => {
    const { transport } = open();
    assert.throws(
      () => transport.write('text' as unknown as Uint8Array),
      (error: unknown) =>
        error instanceof InvalidArgumentError &&
        error.code === 'ERR_AIONET_INVALID_ARGUMENT' &&
        /encoding/.test(error.message),
    );
    assert.equal(transport.written().length, 0);
  });

  it('write of a string with an encoding Node does not know, or that is not a string', () => {
    const { transport } = open();
    for (const encoding of ['bogus', 42, null]) {
      assert.throws(
        () => transport.write('text', encoding as unknown as TextEncoding),
        InvalidArgumentError,
        String(encoding),
      );
    }
    assert.equal(transport.written().length, 0);
  });

  for (const [name, value] of NOT_BYTES) {
    it(`write of ${name}`, () => {
      const { transport } = open();
      assert.throws(() => transport.write(value as Uint8Array), InvalidArgumentError);
    });
  }

  it('writeLines of something that is not a list of byte arrays', () => {
    const { transport } = open();
    assert.throws(
      () => transport.writeLines('ab' as unknown as Uint8Array[]),
      InvalidArgumentError,
    );
    assert.throws(
      () => transport.writeLines([Buffer.from('a'), 'b' as unknown as Uint8Array]),
      InvalidArgumentError,
    );
    assert.equal(transport.written().length, 0, 'nothing of a refused list is sent');
  });

  it('write and writeLines after writeEof, even once the connection is gone', () => {
    const { transport } = open();
    transport.writeEof();
    assert.throws(() => transport.write(Buffer.from('x')), WriteAfterEofError);
    assert.throws(() => transport.write(Buffer.alloc(0)), WriteAfterEofError);
    assert.throws(() => transport.writeLines([Buffer.from('x')]), WriteAfterEofError);
    transport.close();
    assert.throws(() => transport.write(Buffer.from('x')), WriteAfterEofError);
  });

  it('misuse is refused even after the connection is gone', () => {
    const { transport } = open();
    transport.abort();
    assert.throws(() => transport.write(7 as unknown as Uint8Array), InvalidArgumentError);
    assert.throws(() => transport.write('x' as unknown as Uint8Array), InvalidArgumentError);
  });
});

describe('text and bytes of every kind are written', () => {
  it('strings with an encoding, Buffers, Uint8Arrays and views into larger buffers', () => {
    const { transport } = open();
    transport.write('héllo ', 'utf8');
    transport.write('6869', 'hex' as TextEncoding);
    transport.write(new Uint8Array([0x20]));
    const backing = Buffer.from('xxOKxx');
    transport.write(backing.subarray(2, 4));
    transport.write(Buffer.alloc(0));
    assert.equal(transport.written().toString(), 'héllo hi OK');
  });
});

describe('writes after the end are dropped silently', () => {
  for (const end of ['close', 'abort', 'reset', 'lost'] as const) {
    it(`after ${end}`, () => {
      const { protocol, transport } = open();
      if (end === 'close') transport.close();
      else if (end === 'abort') transport.abort();
      else if (end === 'reset') transport.reset();
      else transport.closeFromPeer();
      transport.write(Buffer.from('dropped'));
      transport.write('dropped', 'utf8');
      transport.writeLines([Buffer.from('dropped')]);
      transport.writeEof();
      transport.pauseReading();
      transport.resumeReading();
      transport.close();
      transport.abort();
      assert.equal(transport.written().length, 0);
      assert.deepEqual(grammarViolations(protocol.events), []);
      assert.equal(protocol.kinds().filter((kind) => kind === 'lost').length, 1);
    });
  }

  it('while a graceful close is still flushing', () => {
    const protocol = new RecordingProtocol();
    const transport = new MemoryTransport(protocol, { peerReading: false }).start();
    transport.write(Buffer.from('kept'));
    transport.close();
    transport.write(Buffer.from('dropped'));
    assert.equal(transport.peerReads().toString(), 'kept');
    assert.equal(transport.closed, true);
  });
});
