/**
 * The kit's MemoryTransport: what it records, how it plays the peer (bytes, EOF, reset, a peer
 * that stops reading), and its delivery rules (synchronous, never nested, manual on request).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConnectionResetError,
  InvalidArgumentError,
  ProtocolCallbackError,
} from '../../src/errors.js';
import { StreamTransport, type TransportOwner } from '../../src/stream-transport.js';
import { connectPair, MemoryTransport } from '../../src/testing/index.js';
import {
  FlowRecordingProtocol,
  grammarViolations,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';

const fail = (): never => {
  throw new Error('boom');
};

function open(protocol = new RecordingProtocol(), options = {}) {
  return { protocol, transport: new MemoryTransport(protocol, options).start() };
}

describe('MemoryTransport records', () => {
  it('every byte written, in order, and forgets them on takeWritten', () => {
    const { transport } = open();
    transport.write(Buffer.from('ab'));
    transport.write('cd', 'utf8');
    transport.writeLines([Buffer.from('e'), Buffer.from(''), Buffer.from('f')]);
    assert.equal(transport.written().toString(), 'abcdef');
    assert.equal(transport.takeWritten().toString(), 'abcdef');
    assert.equal(transport.written().length, 0);
    transport.write(Buffer.from('g'));
    assert.equal(transport.takeWritten().toString(), 'g');
  });

  it('a copy: changing the buffer after write() does not change the record', () => {
    const { transport } = open();
    const data = Buffer.from('abc');
    transport.write(data);
    data.fill(0);
    assert.equal(transport.written().toString(), 'abc');
  });

  it('the calls the state machine made into the socket', () => {
    const { transport } = open();
    transport.pauseReading();
    transport.resumeReading();
    transport.writeEof();
    transport.close();
    assert.deepEqual(transport.calls, [
      'pauseReading',
      'resumeReading',
      'writeEof',
      'eofSent',
      'close',
      'lost',
    ]);
  });

  it('the state: closeCalled, aborted, eofWritten, closed', () => {
    const a = open().transport;
    assert.deepEqual(
      [a.closeCalled, a.aborted, a.eofWritten, a.closed],
      [false, false, false, false],
    );
    a.close();
    assert.deepEqual([a.closeCalled, a.aborted, a.eofWritten, a.closed], [true, false, true, true]);
    const b = open().transport;
    b.abort();
    assert.deepEqual(
      [b.closeCalled, b.aborted, b.eofWritten, b.closed],
      [false, true, false, true],
    );
  });

  it('errors reported to the owner, and passes them and the end to a given owner', () => {
    const seen: string[] = [];
    const owner: TransportOwner = {
      reportError: (error: Error, transport: StreamTransport) => {
        seen.push(`error ${(error as ProtocolCallbackError).callback} ${transport === t}`);
      },
      transportLost: (transport: StreamTransport) => {
        seen.push(`lost ${transport === t}`);
      },
    };
    const protocol = new RecordingProtocol({
      onData: () => {
        throw new Error('boom');
      },
    });
    const t = new MemoryTransport(protocol, { owner }).start();
    t.receive('x');
    assert.equal(t.reportedErrors.length, 1);
    assert.ok(t.reportedErrors[0] instanceof ProtocolCallbackError);
    assert.deepEqual(seen, ['error dataReceived true', 'lost true']);
  });

  it('passes an owner object on whole: its methods run on it (private fields and all)', () => {
    class CountingOwner implements TransportOwner {
      readonly #lost: StreamTransport[] = [];
      readonly #errors: Error[] = [];
      reportError(error: Error): void {
        this.#errors.push(error);
      }
      transportLost(transport: StreamTransport): void {
        this.#lost.push(transport);
      }
      get counts(): [number, number] {
        return [this.#errors.length, this.#lost.length];
      }
    }
    const owner = new CountingOwner();
    const t = new MemoryTransport(new RecordingProtocol({ onMade: () => fail() }), { owner });
    t.start();
    assert.deepEqual(owner.counts, [1, 1]);
    assert.equal(t.reportedErrors.length, 1);
  });

  it('addresses: defaults, and the ones given', () => {
    const { transport } = open();
    assert.deepEqual(transport.getExtraInfo('sockname'), {
      family: 'IPv4',
      address: '127.0.0.1',
      port: 7000,
    });
    assert.deepEqual(transport.getExtraInfo('peername'), {
      family: 'IPv4',
      address: '127.0.0.1',
      port: 40000,
    });
    assert.equal(transport.getExtraInfo('socket'), undefined);
    const peername = { family: 'IPv6', address: '::1', port: 1234 } as const;
    assert.deepEqual(open(undefined, { peername }).transport.getExtraInfo('peername'), peername);
  });
});

describe('MemoryTransport plays the peer', () => {
  it('receive: one dataReceived per call, delivered before receive() returns', () => {
    const { protocol, transport } = open();
    transport.receive('hel');
    assert.deepEqual(protocol.kinds(), ['made', 'data']);
    transport.receive(Buffer.from('lo'));
    transport.receive('');
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'data']);
    assert.equal(protocol.received().toString(), 'hello');
  });

  it('receive while paused queues the bytes and EOF behind them, in order', () => {
    const { protocol, transport } = open();
    transport.pauseReading();
    transport.receive('a');
    transport.receive('b');
    transport.receiveEof();
    assert.deepEqual(protocol.kinds(), ['made']);
    transport.resumeReading();
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'data', 'eof', 'lost']);
    assert.equal(protocol.received().toString(), 'ab');
  });

  it('receive after the peer EOF is a mistake in the test; after close it is dropped', () => {
    const { protocol, transport } = open(new RecordingProtocol({ onEof: () => true }));
    transport.receiveEof();
    assert.throws(() => transport.receive('x'), InvalidArgumentError);
    const other = open();
    other.transport.close();
    other.transport.receive('x');
    assert.deepEqual(other.protocol.kinds(), ['made', 'lost']);
    assert.deepEqual(grammarViolations(protocol.events), ['connectionLost never called']);
  });

  it('receive takes bytes or a string only', () => {
    const { transport } = open();
    assert.throws(() => transport.receive(42 as unknown as string), InvalidArgumentError);
  });

  it('reset: connectionLost(ConnectionResetError), queued bytes lost', () => {
    const { protocol, transport } = open();
    transport.pauseReading();
    transport.receive('never delivered');
    transport.reset();
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
    const error = protocol.events.at(-1);
    assert.ok(error?.kind === 'lost' && error.error instanceof ConnectionResetError);
    assert.equal((error.error as ConnectionResetError).errno, 'ECONNRESET');
    transport.reset();
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
  });

  it('closeFromPeer: EOF, then the peer discards what this side still writes', () => {
    const protocol = new RecordingProtocol({
      onEof: (t) => {
        t.write(Buffer.from('bye'));
        return true;
      },
    });
    const { transport } = open(protocol);
    transport.peerStopsReading();
    transport.write(Buffer.from('pending'));
    transport.closeFromPeer();
    assert.equal(transport.getWriteBufferSize(), 0);
    assert.equal(transport.written().toString(), 'pendingbye');
    transport.close();
    assert.deepEqual(protocol.kinds(), ['made', 'eof', 'lost']);
    assert.deepEqual(protocol.events.at(-1), { kind: 'lost', error: undefined });
  });

  it('a peer that stops reading: the buffer grows, peerReads drains it in order', () => {
    const { protocol, transport } = open(new FlowRecordingProtocol());
    transport.setWriteBufferLimits({ high: 4, low: 2 });
    transport.peerStopsReading();
    assert.equal(transport.peerReading, false);
    transport.write(Buffer.from('abc'));
    transport.write(Buffer.from('de'));
    assert.equal(transport.getWriteBufferSize(), 5);
    assert.deepEqual(protocol.kinds(), ['made', 'pause']);
    assert.equal(transport.peerReads(2).toString(), 'ab');
    assert.deepEqual(protocol.kinds(), ['made', 'pause']);
    assert.equal(transport.peerReads(1).toString(), 'c');
    assert.deepEqual(protocol.kinds(), ['made', 'pause', 'resume']);
    transport.peerResumesReading();
    assert.equal(transport.getWriteBufferSize(), 0);
    transport.write(Buffer.from('fghij'));
    assert.equal(transport.getWriteBufferSize(), 0);
    assert.equal(transport.written().toString(), 'abcdefghij');
    assert.throws(() => transport.peerReads(-1), InvalidArgumentError);
    assert.throws(() => transport.peerReads(1.5), InvalidArgumentError);
  });

  it('abort(error): connectionLost gets that error', () => {
    const { protocol, transport } = open();
    const error = new Error('protocol violation');
    transport.abort(error);
    transport.abort(new Error('second'));
    assert.deepEqual(protocol.events.at(-1), { kind: 'lost', error });
  });

  it('close completes when the buffer is flushed; abort drops it', () => {
    const { protocol, transport } = open(undefined, { peerReading: false });
    transport.write(Buffer.from('abc'));
    transport.close();
    assert.equal(transport.closed, false);
    assert.equal(transport.eofWritten, false);
    assert.equal(transport.peerReads(2).toString(), 'ab');
    assert.equal(transport.closed, false);
    assert.equal(transport.peerReads().toString(), 'c');
    assert.equal(transport.closed, true);
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);

    const other = open(undefined, { peerReading: false });
    other.transport.write(Buffer.from('abc'));
    other.transport.abort();
    assert.equal(other.transport.getWriteBufferSize(), 0);
    assert.equal(other.transport.peerReads().length, 0);
    assert.deepEqual(other.protocol.kinds(), ['made', 'lost']);
  });

  it('the peer methods refuse a transport that has a real peer', () => {
    const { client } = connectPair(new RecordingProtocol(), new RecordingProtocol());
    assert.throws(() => client.receive('x'), /plays the peer/);
    assert.throws(() => client.peerReads(), /plays the peer/);
    assert.throws(() => client.reset(), /plays the peer/);
  });
});

describe('MemoryTransport delivers', () => {
  it('every public call that may call the protocol back runs through the delivery loop', () => {
    // A call the kit does not wrap would deliver nested callbacks; a new one must be added.
    const queries = new Set([
      'constructor',
      'canWriteEof',
      'isClosing',
      'isReading',
      'getWriteBufferLimits',
      'getWriteBufferSize',
      'getExtraInfo',
      'getProtocol',
      'setProtocol',
    ]);
    const unwrapped = Object.getOwnPropertyNames(StreamTransport.prototype).filter(
      (name) =>
        !name.startsWith('_') &&
        !queries.has(name) &&
        !Object.hasOwn(MemoryTransport.prototype, name),
    );
    assert.deepEqual(unwrapped, []);
  });

  it('never inside a callback: code after abort() runs before connectionLost', () => {
    const order: string[] = [];
    const protocol = new RecordingProtocol({
      onData: (_data, t) => {
        t.abort();
        order.push('after abort');
        t.write(Buffer.from('dropped'));
      },
      onLost: () => {
        order.push('lost');
      },
    });
    const { transport } = open(protocol);
    transport.receive('x');
    assert.deepEqual(order, ['after abort', 'lost']);
    assert.equal(transport.written().length, 0);
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('bytes received inside a callback wait until it returns', () => {
    const order: string[] = [];
    let transport: MemoryTransport | undefined;
    const protocol = new RecordingProtocol({
      onData: (data) => {
        order.push(`in ${data}`);
        if (data.toString() === '1') transport?.receive('2');
        order.push(`out ${data}`);
      },
    });
    transport = open(protocol).transport;
    transport.receive('1');
    assert.deepEqual(order, ['in 1', 'out 1', 'in 2', 'out 2']);
  });

  it('start() delivers connectionMade once', () => {
    const protocol = new RecordingProtocol();
    const transport = new MemoryTransport(protocol);
    assert.deepEqual(protocol.kinds(), []);
    transport.receive('early');
    transport.start();
    assert.deepEqual(protocol.kinds(), ['made', 'data']);
    assert.throws(() => transport.start(), /already/);
  });

  it('with autoFlush: false, only on flush() (start() itself calls connectionMade)', () => {
    const { protocol, transport } = open(undefined, { autoFlush: false });
    transport.receive('a');
    transport.receiveEof();
    assert.deepEqual(protocol.kinds(), ['made']);
    transport.flush();
    assert.deepEqual(protocol.kinds(), ['made', 'data', 'eof', 'lost']);
  });

  it('a rejected promise fails the connection on its own, without any call of the test', async () => {
    const protocol = new RecordingProtocol({ onData: async () => Promise.reject(new Error('no')) });
    const { transport } = open(protocol);
    transport.receive('x');
    assert.deepEqual(protocol.kinds(), ['made', 'data']);
    const error = await protocol.lost;
    assert.ok(error instanceof ProtocolCallbackError);
    assert.equal(error.callback, 'dataReceived');
    assert.equal(transport.aborted, true);
  });

  it('reading shows the safe-default pause, isReading() does not', () => {
    const { transport } = open(undefined, { peerReading: false });
    transport.setWriteBufferLimits({ high: 1, low: 0 });
    transport.write(Buffer.from('ab'));
    assert.equal(transport.reading, false);
    assert.equal(transport.isReading(), true);
    transport.peerReads();
    assert.equal(transport.reading, true);
  });
});
