/**
 * What an owner gives its transports, in memory: counters that count each byte once (pauses
 * and protocol hand-overs included), the write-buffer cap, the idle and write-stall deadlines
 * at the owner's `now`, and a shutdown request the protocol may answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionRegistry } from '../../src/connection-registry.js';
import {
  IdleTimeoutError,
  ProtocolCallbackError,
  WriteBufferOverflowError,
  WriteStallError,
} from '../../src/errors.js';
import type { ProtocolCallbacks } from '../../src/protocol.js';
import {
  NO_LIMITS,
  type StreamTransport,
  type TransportLimits,
  type TransportOwner,
  TransportStats,
} from '../../src/stream-transport.js';
import { MemoryTransport, TestClock } from '../../src/testing/index.js';
import {
  BufferedRecordingProtocol,
  FlowRecordingProtocol,
  grammarViolations,
  type ProtocolEvent,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';

/** An owner whose clock the test sets by hand, as a server's sweeper would. */
class TestOwner implements TransportOwner {
  readonly stats = new TransportStats();
  readonly limits: TransportLimits;
  now = 0;
  readonly ended: (Error | undefined)[] = [];
  constructor(limits: Partial<TransportLimits> = {}) {
    this.limits = { ...NO_LIMITS, ...limits };
  }
  reportError(): void {}
  transportLost(_transport: StreamTransport, reason?: Error): void {
    this.ended.push(reason);
  }
}

function lostWith(events: readonly ProtocolEvent[]): Error | undefined | 'not lost' {
  const last = events.at(-1);
  return last?.kind === 'lost' ? last.error : 'not lost';
}

describe('owner counters', () => {
  it('count every byte once, however a BufferedProtocol pauses', () => {
    const owner = new TestOwner();
    const protocol = new BufferedRecordingProtocol({ onData: (_data, t) => t.pauseReading() }, [2]);
    const transport = new MemoryTransport(protocol, { owner }).start();
    transport.receive('abcdef');
    transport.receive('gh');
    for (let i = 0; i < 5; i++) transport.resumeReading();
    assert.equal(protocol.received().toString(), 'abcdefgh');
    assert.equal(owner.stats.bytesReceived, 8);
    assert.equal(owner.stats.reads, 4);
  });

  it('count every byte once when a BufferedProtocol hands over to a plain one', () => {
    const owner = new TestOwner();
    const next: ProtocolCallbacks = { dataReceived: () => {} };
    const protocol = new BufferedRecordingProtocol(
      {
        onData: (_data, t) => {
          t.pauseReading();
          t.setProtocol(next);
        },
      },
      [2],
    );
    const transport = new MemoryTransport(protocol, { owner }).start();
    transport.receive('abcdef');
    transport.resumeReading();
    assert.equal(owner.stats.bytesReceived, 6);
    assert.equal(owner.stats.reads, 2);
  });

  it('count bytes sent and write pauses', () => {
    const owner = new TestOwner();
    const transport = new MemoryTransport(new FlowRecordingProtocol(), {
      owner,
      peerReading: false,
      writeBufferLimits: { high: 2, low: 0 },
    }).start();
    transport.write(Buffer.from('abc'));
    transport.writeLines([Buffer.from('de'), Buffer.from('f')]);
    transport.peerReads();
    transport.write(Buffer.from('ghi'));
    assert.equal(owner.stats.bytesSent, 9);
    assert.equal(owner.stats.writePauses, 2);
  });
});

describe('the write-buffer cap', () => {
  it('allows exactly the cap, drops the connection one byte over it', () => {
    const owner = new TestOwner({ maxWriteBuffer: 10 });
    const protocol = new FlowRecordingProtocol();
    const transport = new MemoryTransport(protocol, { owner, peerReading: false }).start();
    transport.write(Buffer.alloc(10));
    assert.equal(transport.closed, false);
    transport.write(Buffer.alloc(1));
    const error = lostWith(protocol.events);
    assert.ok(error instanceof WriteBufferOverflowError);
    assert.equal(error.limit, 10);
    assert.equal(error.size, 11);
    assert.equal(transport.aborted, true);
    assert.equal(owner.ended[0], error);
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('counts what the peer reads: a draining peer never trips it', () => {
    const owner = new TestOwner({ maxWriteBuffer: 4 });
    const transport = new MemoryTransport(new FlowRecordingProtocol(), { owner }).start();
    for (let i = 0; i < 10; i++) transport.write(Buffer.alloc(4));
    assert.equal(transport.closed, false);
  });
});

describe('the idle deadline', () => {
  it('closes gracefully with IdleTimeoutError once nothing moved for idleTimeout', () => {
    const owner = new TestOwner({ idleTimeout: 100 });
    const protocol = new RecordingProtocol();
    const transport = new MemoryTransport(protocol, { owner }).start();
    owner.now = 99;
    transport.checkDeadlines(owner.now);
    assert.equal(transport.isClosing(), false);
    owner.now = 100;
    transport.checkDeadlines(owner.now);
    assert.equal(transport.closeCalled, true, 'a FIN, not a reset');
    assert.ok(lostWith(protocol.events) instanceof IdleTimeoutError);
  });

  it('counts bytes either way as activity', () => {
    const owner = new TestOwner({ idleTimeout: 100 });
    const protocol = new RecordingProtocol();
    const transport = new MemoryTransport(protocol, { owner }).start();
    owner.now = 80;
    transport.receive('x');
    owner.now = 150;
    transport.write(Buffer.from('y'));
    owner.now = 249;
    transport.checkDeadlines(owner.now);
    assert.equal(transport.isClosing(), false);
    owner.now = 250;
    transport.checkDeadlines(owner.now);
    assert.equal(transport.closed, true);
  });
});

describe('the write-stall deadline', () => {
  it('resets with WriteStallError when the buffer stays over high for writeStallTimeout', () => {
    const owner = new TestOwner({ writeStallTimeout: 50 });
    const protocol = new FlowRecordingProtocol();
    const transport = new MemoryTransport(protocol, {
      owner,
      peerReading: false,
      writeBufferLimits: { high: 2, low: 0 },
    }).start();
    owner.now = 10;
    transport.write(Buffer.alloc(3));
    owner.now = 59;
    transport.checkDeadlines(owner.now);
    assert.equal(transport.closed, false);
    owner.now = 60;
    transport.checkDeadlines(owner.now);
    const error = lostWith(protocol.events);
    assert.ok(error instanceof WriteStallError);
    assert.equal(error.buffered, 3);
    assert.equal(transport.aborted, true);
  });

  it('does not fire once the buffer drained under the low-water mark', () => {
    const owner = new TestOwner({ writeStallTimeout: 50 });
    const transport = new MemoryTransport(new FlowRecordingProtocol(), {
      owner,
      peerReading: false,
      writeBufferLimits: { high: 2, low: 0 },
    }).start();
    transport.write(Buffer.alloc(3));
    transport.peerReads();
    owner.now = 1000;
    transport.checkDeadlines(owner.now);
    assert.equal(transport.closed, false);
  });
});

describe('a shutdown request', () => {
  it('closes gracefully unless shutdownRequested returns true', () => {
    for (const [answer, closes] of [
      [undefined, true],
      [false, true],
      [true, false],
    ] as const) {
      const protocol = new RecordingProtocol();
      Object.assign(protocol, { shutdownRequested: () => answer });
      const transport = new MemoryTransport(protocol).start();
      transport.requestShutdown();
      assert.equal(transport.closed, closes, `answer ${answer}`);
      assert.equal(lostWith(protocol.events), closes ? undefined : 'not lost');
    }
  });

  it('a protocol that closes inside shutdownRequested gets connectionLost after it returns', () => {
    const order: string[] = [];
    const protocol = new RecordingProtocol({ onLost: () => order.push('lost') });
    Object.assign(protocol, {
      shutdownRequested: () => {
        protocol.transport?.write(Buffer.from('bye'));
        protocol.transport?.close();
        order.push('returned');
        return true;
      },
    });
    const transport = new MemoryTransport(protocol).start();
    transport.requestShutdown();
    assert.deepEqual(order, ['returned', 'lost']);
    assert.equal(transport.written().toString(), 'bye');
  });

  it('a shutdownRequested that throws fails the connection as any callback does', () => {
    const protocol = new RecordingProtocol();
    Object.assign(protocol, {
      shutdownRequested: () => {
        throw new Error('boom');
      },
    });
    const transport = new MemoryTransport(protocol).start();
    transport.requestShutdown();
    const error = lostWith(protocol.events);
    assert.ok(error instanceof ProtocolCallbackError);
    assert.equal(error.callback, 'shutdownRequested');
  });
});

describe('deadlines swept by a ConnectionRegistry on a TestClock', () => {
  function served(limits: Partial<TransportLimits>, options = {}) {
    const clock = new TestClock();
    const registry = new ConnectionRegistry({
      onError: () => {},
      limits: { ...NO_LIMITS, ...limits },
      clock,
    });
    const protocol = new FlowRecordingProtocol();
    const transport = new MemoryTransport(protocol, { owner: registry, ...options }).start();
    registry.add(transport);
    return { clock, registry, protocol, transport };
  }

  it('an idle connection is closed on the first sweep at or after idleTimeout, never before', () => {
    // 1000 ms deadline: sweeps every 250 ms, so 1000 is a sweep.
    const { clock, registry, protocol, transport } = served({ idleTimeout: 1000 });
    clock.advance(999);
    assert.equal(transport.closed, false);
    clock.advance(1);
    assert.ok(lostWith(protocol.events) instanceof IdleTimeoutError);
    assert.equal(registry.size, 0);
    assert.equal(registry.stats.closed.idle_timeout, 1);
    assert.equal(clock.pendingTimers(), 0, 'the sweeper stops with the last connection');
  });

  it('activity seen by a sweep pushes the deadline back', () => {
    const { clock, transport } = served({ idleTimeout: 1000 });
    clock.advance(750);
    transport.receive('ping'); // stamped with the sweeper's now: 750
    clock.advance(999);
    assert.equal(transport.closed, false);
    clock.advance(1);
    assert.equal(transport.closed, true);
  });

  it('a stall that begins between two sweeps is timed from its start, not from the last sweep', () => {
    const { clock, protocol, transport } = served(
      { writeStallTimeout: 400 },
      { peerReading: false, writeBufferLimits: { high: 4, low: 0 } },
    );
    // Sweeps every 100 ms; the stall starts at 150, half a sweep after the sweeper's `now`.
    clock.advance(150);
    transport.write(Buffer.alloc(5));
    clock.advance(350); // the sweep at 500: 350 ms into the stall
    assert.equal(transport.closed, false, 'not cut off before the deadline');
    clock.advance(100); // the sweep at 600: 450 ms
    assert.ok(lostWith(protocol.events) instanceof WriteStallError);
  });

  it('a peer that stops reading is cut off by the write-stall deadline', () => {
    const { clock, registry, protocol, transport } = served(
      { writeStallTimeout: 400 },
      { peerReading: false, writeBufferLimits: { high: 4, low: 0 } },
    );
    transport.write(Buffer.alloc(5));
    clock.advance(399);
    assert.equal(transport.closed, false);
    clock.advance(100);
    assert.ok(lostWith(protocol.events) instanceof WriteStallError);
    assert.equal(registry.stats.closed.write_stall, 1);
  });
});
