/**
 * FramedProtocol on the memory transport: one frameReceived per frame under every split of the
 * stream, replies in the same framing, frame errors failing the connection alone with the
 * codec's typed error, pausing at frame boundaries, EOF with and without a partial frame.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramedProtocol } from '../../src/codecs/framed-protocol.js';
import { LengthPrefixedCodec } from '../../src/codecs/length-prefixed-codec.js';
import { LineCodec } from '../../src/codecs/line-codec.js';
import {
  FrameTooLargeError,
  IncompleteReadError,
  ProtocolCallbackError,
} from '../../src/errors.js';
import type { CallbackResult } from '../../src/protocol.js';
import { MemoryTransport } from '../../src/testing/memory-transport.js';
import { everySplit } from '../../src/testing/splits.js';

/** Records frames and answers each with `ack:<frame>`. */
class AckLines extends FramedProtocol<Buffer, Uint8Array | string> {
  readonly frames: string[] = [];
  ended = 0;
  lostWith: Error | undefined | 'not yet' = 'not yet';
  behaviour: (frame: string, self: AckLines) => CallbackResult = () => {};

  constructor(maxLength?: number) {
    super(new LineCodec(maxLength === undefined ? {} : { maxLength }));
  }

  override frameReceived(frame: Buffer): CallbackResult {
    const text = frame.toString();
    this.frames.push(text);
    this.sendFrame(`ack:${text}`);
    return this.behaviour(text, this);
  }

  override framesEnded(): boolean | undefined {
    this.ended++;
    return undefined;
  }

  override connectionLost(error?: Error): void {
    this.lostWith = error;
  }
}

function start(protocol: AckLines): MemoryTransport {
  return new MemoryTransport(protocol).start();
}

describe('FramedProtocol', () => {
  it('delivers one frame per line under every split and coalescing', () => {
    const messages = ['alpha\n', 'b\r\n', '\n', 'gamma delta\n', 'z\n'];
    const expected = ['alpha', 'b', '', 'gamma delta', 'z'];
    let cases = 0;
    for (const split of everySplit(messages)) {
      const protocol = new AckLines();
      const transport = start(protocol);
      for (const chunk of split.chunks) transport.receive(chunk);
      assert.deepEqual(protocol.frames, expected, split.label);
      assert.equal(
        transport.written().toString(),
        expected.map((line) => `ack:${line}\n`).join(''),
        split.label,
      );
      cases++;
    }
    assert.ok(cases > 50, `only ${cases} splits`);
  });

  it('length-prefixed frames round-trip through sendFrame', () => {
    class Echo extends FramedProtocol<Buffer, Uint8Array> {
      override frameReceived(frame: Buffer): void {
        this.sendFrame(frame);
      }
    }
    const codec = new LengthPrefixedCodec({ lengthFieldSize: 2 });
    const input = Buffer.concat([codec.encode(Buffer.from('hi')), codec.encode(Buffer.alloc(0))]);
    for (const split of everySplit(input)) {
      const transport = new MemoryTransport(
        new Echo(new LengthPrefixedCodec({ lengthFieldSize: 2 })),
      ).start();
      for (const chunk of split.chunks) transport.receive(chunk);
      assert.deepEqual(transport.written(), input, split.label);
    }
  });

  it('an oversized frame fails that connection with FrameTooLargeError, nothing more delivered', () => {
    const protocol = new AckLines(12);
    const transport = start(protocol);
    transport.receive('short\nthis line is far too long\nafter\n');
    assert.deepEqual(protocol.frames, ['short']);
    assert.ok(protocol.lostWith instanceof FrameTooLargeError, String(protocol.lostWith));
    assert.equal(protocol.lostWith.limit, 12);
    assert.equal(transport.aborted, true);
    assert.equal(transport.reportedErrors[0], protocol.lostWith);
  });

  it('a throwing frameReceived is a ProtocolCallbackError naming frameReceived', () => {
    const protocol = new AckLines();
    const boom = new Error('boom');
    protocol.behaviour = (frame) => {
      if (frame === 'bad') throw boom;
    };
    const transport = start(protocol);
    transport.receive('ok\nbad\nnever\n');
    assert.deepEqual(protocol.frames, ['ok', 'bad']);
    assert.ok(protocol.lostWith instanceof ProtocolCallbackError);
    assert.equal(protocol.lostWith.callback, 'frameReceived');
    assert.equal(protocol.lostWith.cause, boom);
  });

  it('a rejecting frameReceived fails the connection too', async () => {
    const protocol = new AckLines();
    protocol.behaviour = (frame) =>
      frame === 'bad' ? Promise.reject(new Error('later')) : undefined;
    const transport = start(protocol);
    transport.receive('bad\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(protocol.lostWith instanceof ProtocolCallbackError);
    assert.equal(protocol.lostWith.callback, 'frameReceived');
    assert.equal(transport.aborted, true);
  });

  it('pauseReading stops at a frame boundary; resumeReading delivers the rest in order', () => {
    const protocol = new AckLines();
    protocol.behaviour = (frame, self) => {
      if (frame === 'two') self.pauseReading();
    };
    const transport = start(protocol);
    transport.receive('one\ntwo\nthree\nfour\n');
    assert.deepEqual(protocol.frames, ['one', 'two']);
    assert.equal(transport.isReading(), false);
    protocol.behaviour = () => {};
    protocol.resumeReading();
    assert.deepEqual(protocol.frames, ['one', 'two', 'three', 'four']);
    assert.equal(transport.isReading(), true);
  });

  it('EOF while paused waits for resume, then ends and closes', () => {
    const protocol = new AckLines();
    protocol.behaviour = (frame, self) => {
      if (frame === 'one') self.pauseReading();
    };
    const transport = start(protocol);
    transport.receive('one\ntwo\n');
    transport.receiveEof();
    assert.equal(protocol.ended, 0);
    assert.equal(transport.closeCalled, false);
    protocol.behaviour = () => {};
    protocol.resumeReading();
    assert.deepEqual(protocol.frames, ['one', 'two']);
    assert.equal(protocol.ended, 1);
    assert.equal(transport.closeCalled, true);
  });

  it('EOF in the middle of a frame fails with IncompleteReadError carrying the partial bytes', () => {
    const protocol = new AckLines();
    const transport = start(protocol);
    transport.receive('whole\npart');
    transport.receiveEof();
    assert.deepEqual(protocol.frames, ['whole']);
    assert.ok(protocol.lostWith instanceof IncompleteReadError);
    assert.equal(protocol.lostWith.partial.toString(), 'part');
    assert.equal(protocol.ended, 0);
  });

  it('a clean EOF calls framesEnded once and closes after flushing', () => {
    const protocol = new AckLines();
    const transport = start(protocol);
    transport.receive('last\n');
    transport.receiveEof();
    assert.equal(protocol.ended, 1);
    assert.equal(transport.closeCalled, true);
    assert.equal(protocol.lostWith, undefined);
    assert.equal(transport.written().toString(), 'ack:last\n');
  });
});
