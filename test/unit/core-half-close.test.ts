/**
 * Half-close, in memory, both ways: the peer's FIN with `eofReceived` keeping the write side
 * open or not, our `writeEof` before or after theirs, FIN after the buffered bytes, and
 * `allowHalfOpen: false`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTransport } from '../../src/testing/index.js';
import {
  grammarViolations,
  type RecordingBehaviour,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';

function open(behaviour: RecordingBehaviour, options = {}) {
  const protocol = new RecordingProtocol(behaviour);
  const transport = new MemoryTransport(protocol, options).start();
  return { protocol, transport };
}

function assertCleanEnd(protocol: RecordingProtocol): void {
  assert.deepEqual(grammarViolations(protocol.events), []);
  assert.deepEqual(protocol.events.at(-1), { kind: 'lost', error: undefined });
}

describe('the peer half-closes', () => {
  it('eofReceived returning true keeps writing possible until we close', () => {
    const { protocol, transport } = open({ onEof: () => true });
    transport.receive('request');
    transport.receiveEof();
    assert.equal(transport.isClosing(), false);
    transport.write(Buffer.from('reply'));
    assert.equal(transport.written().toString(), 'reply');
    assert.equal(transport.closed, false);
    transport.close();
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'eof', 'lost']);
    assertCleanEnd(protocol);
  });

  it('eofReceived returning true, then our writeEof: both ways shut, the connection ends', () => {
    const { protocol, transport } = open({ onEof: () => true });
    transport.receiveEof();
    transport.write(Buffer.from('last'));
    transport.writeEof();
    assert.equal(transport.eofWritten, true);
    assert.equal(transport.closeCalled, false);
    assert.deepEqual(protocol.kinds(), ['made', 'eof', 'lost']);
    assertCleanEnd(protocol);
  });

  for (const [name, value] of [
    ['undefined', undefined],
    ['false', false],
    ['a truthy non-true value', 1],
  ] as const) {
    it(`eofReceived returning ${name} closes, after flushing what is buffered`, () => {
      const { protocol, transport } = open(
        { onEof: () => value as boolean | undefined },
        { peerReading: false },
      );
      transport.write(Buffer.from('flush me'));
      transport.receiveEof();
      assert.equal(transport.closeCalled, true);
      assert.equal(transport.isClosing(), true);
      assert.equal(transport.closed, false, 'still flushing');
      transport.write(Buffer.from('dropped'));
      assert.equal(transport.peerReads().toString(), 'flush me');
      assert.equal(transport.eofWritten, true);
      assert.deepEqual(protocol.kinds(), ['made', 'eof', 'lost']);
      assertCleanEnd(protocol);
    });
  }

  it('with allowHalfOpen: false, eofReceived returning true still closes', () => {
    const { protocol, transport } = open({ onEof: () => true }, { allowHalfOpen: false });
    transport.receiveEof();
    assert.equal(transport.closeCalled, true);
    assertCleanEnd(protocol);
  });

  it('EOF comes once, after every byte sent before it', () => {
    const { protocol, transport } = open({ onEof: () => true });
    transport.pauseReading();
    transport.receive('a');
    transport.receiveEof();
    transport.receiveEof();
    transport.resumeReading();
    transport.receiveEof();
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'eof']);
    transport.close();
    assertCleanEnd(protocol);
  });
});

describe('we half-close', () => {
  it('writeEof sends FIN after the buffered bytes, and we keep reading', () => {
    const { protocol, transport } = open({}, { peerReading: false });
    transport.write(Buffer.from('body'));
    transport.writeEof();
    assert.equal(transport.eofWritten, false);
    assert.deepEqual(transport.calls, ['writeEof']);
    transport.receive('still reading');
    assert.equal(protocol.received().toString(), 'still reading');
    transport.peerReads();
    assert.equal(transport.eofWritten, true);
    assert.deepEqual(transport.calls, ['writeEof', 'eofSent']);
    assert.equal(transport.closed, false);
  });

  for (const keepOpen of [true, undefined]) {
    it(`writeEof then the peer's EOF ends the connection (eofReceived: ${keepOpen})`, () => {
      const { protocol, transport } = open({ onEof: () => keepOpen });
      transport.writeEof();
      transport.receive('answer');
      transport.receiveEof();
      assert.deepEqual(protocol.kinds(), ['made', 'data', 'eof', 'lost']);
      assert.equal(transport.closed, true);
      assertCleanEnd(protocol);
    });
  }

  it('writeEof is idempotent, a no-op after close, and supported', () => {
    const { transport } = open({});
    assert.equal(transport.canWriteEof(), true);
    transport.writeEof();
    transport.writeEof();
    assert.deepEqual(transport.calls, ['writeEof', 'eofSent']);
    const other = open({}).transport;
    other.close();
    other.writeEof();
    assert.deepEqual(other.calls, ['close', 'eofSent', 'lost']);
  });
});
