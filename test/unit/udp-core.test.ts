/**
 * The backend-neutral datagram endpoint core, in memory: a fake backend whose sends complete
 * when the test says, so the rules are checked exactly — close waits for queued sends, abort
 * does not and silences their errors, nothing is delivered after close, bytes in flight are
 * counted to the byte, connectionLost comes once — and a fast-check run of random operation
 * sequences that must always keep the call grammar.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolCallbackError, SocketError } from '../../src/errors.js';
import {
  type DatagramCoreSettings,
  DatagramEndpointCore,
} from '../../src/udp/datagram-endpoint-core.js';
import type { DatagramProtocolCallbacks } from '../../src/udp/datagram-protocol.js';
import type {
  DatagramAddress,
  DatagramDestination,
  DatagramExtraInfo,
} from '../../src/udp/datagram-transport.js';
import {
  grammarViolations,
  RecordingDatagramProtocol,
} from '../helpers/recording-datagram-protocol.js';

const PEER: DatagramAddress = { family: 'IPv4', address: '192.0.2.1', port: 5000 };

/** A backend that does nothing by itself: the test completes sends and closes the socket. */
class FakeBackend extends DatagramEndpointCore {
  readonly sends: {
    data: Uint8Array;
    address: DatagramDestination | undefined;
    done: (error?: Error) => void;
  }[] = [];
  closeCalls = 0;

  constructor(protocol: DatagramProtocolCallbacks, settings: Partial<DatagramCoreSettings> = {}) {
    super(protocol, {
      maxDatagramSize: 100,
      remote: undefined,
      onError: () => {},
      ...settings,
    });
  }

  ready(): void {
    this._onReady();
  }
  receive(data: string): void {
    this._onDatagram(Buffer.from(data), PEER);
  }
  socketError(error: Error): void {
    this._onError(error);
  }
  socketClosed(): void {
    this._onClosed();
  }

  protected _send(
    data: Uint8Array,
    address: DatagramDestination | undefined,
    done: (error?: Error) => void,
  ): void {
    this.sends.push({ data, address, done });
  }
  protected _close(): void {
    this.closeCalls++;
  }
  protected _extraInfo<K extends keyof DatagramExtraInfo>(_name: K): DatagramExtraInfo[K] {
    return undefined as DatagramExtraInfo[K];
  }
}

function setup(settings: Partial<DatagramCoreSettings> = {}) {
  const protocol = new RecordingDatagramProtocol();
  const backend = new FakeBackend(protocol, settings);
  backend.ready();
  return { protocol, backend };
}

describe('DatagramEndpointCore', () => {
  it('close waits for queued sends, then closes the socket once', () => {
    const { protocol, backend } = setup();
    backend.sendTo(Buffer.alloc(10), PEER);
    backend.sendTo(Buffer.alloc(20), PEER);
    backend.close();
    assert.equal(backend.closeCalls, 0);
    assert.equal(backend.getWriteBufferSize(), 30);
    backend.sends[0]!.done();
    assert.equal(backend.closeCalls, 0);
    backend.sends[1]!.done(new Error('EAGAIN'));
    assert.equal(backend.closeCalls, 1);
    assert.equal(backend.getWriteBufferSize(), 0);
    backend.socketClosed();
    assert.deepEqual(
      protocol.kinds(),
      ['made', 'error', 'lost'],
      'a failed send while closing is still told',
    );
  });

  it('abort closes at once and silences the errors of cancelled sends', () => {
    const { protocol, backend } = setup();
    backend.sendTo(Buffer.alloc(10), PEER);
    backend.abort();
    assert.equal(backend.closeCalls, 1);
    backend.sends[0]!.done(new Error('ECANCELED'));
    backend.socketError(new Error('late'));
    backend.socketClosed();
    backend.socketClosed();
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
    assert.equal(backend.closeCalls, 1);
  });

  it('delivers no datagram before connectionMade or after close', () => {
    const protocol = new RecordingDatagramProtocol();
    const backend = new FakeBackend(protocol);
    backend.receive('early');
    backend.ready();
    backend.receive('one');
    backend.close();
    backend.receive('late');
    backend.socketClosed();
    backend.receive('later');
    assert.deepEqual(protocol.kinds(), ['made', 'datagram', 'lost']);
  });

  it('sends the remote no address, and counts bytes in flight exactly', () => {
    const remote = PEER;
    const { backend } = setup({ remote });
    backend.sendTo(Buffer.alloc(7));
    backend.sendTo(Buffer.alloc(0), { address: PEER.address, port: PEER.port });
    assert.deepEqual(
      backend.sends.map((send) => [send.data.length, send.address]),
      [
        [7, undefined],
        [0, undefined],
      ],
    );
    assert.equal(backend.getWriteBufferSize(), 7);
    backend.sends[0]!.done();
    backend.sends[0]!.done(); // a second completion is ignored
    assert.equal(backend.getWriteBufferSize(), 0);
  });

  it('reports a datagram over the maximum without sending it', async () => {
    const { protocol, backend } = setup();
    backend.sendTo(Buffer.alloc(101), PEER);
    backend.sendTo(Buffer.alloc(100), PEER);
    assert.equal(backend.sends.length, 1);
    await Promise.resolve();
    assert.deepEqual(protocol.kinds(), ['made', 'error']);
  });

  it('hands socket errors to errorReceived and keeps going', () => {
    const { protocol, backend } = setup();
    backend.socketError(new SocketError('ENOBUFS', 'no buffer space'));
    backend.receive('after');
    assert.deepEqual(protocol.kinds(), ['made', 'error', 'datagram']);
  });

  it('a socket closed under it (not asked) still ends the grammar once', () => {
    const { protocol, backend } = setup();
    backend.socketClosed();
    assert.equal(backend.isClosing(), true);
    backend.close();
    assert.equal(backend.closeCalls, 0);
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
  });

  it('connectionMade throwing ends the endpoint with that error, reported once', () => {
    const reported: Error[] = [];
    const protocol = new RecordingDatagramProtocol({
      onMade: () => {
        throw new Error('setup');
      },
    });
    const backend = new FakeBackend(protocol, { onError: (error) => reported.push(error) });
    backend.ready();
    assert.equal(backend.closeCalls, 1);
    backend.socketClosed();
    const lost = protocol.events.at(-1);
    assert.ok(lost?.kind === 'lost' && lost.error instanceof ProtocolCallbackError);
    assert.equal(reported.length, 1);
  });

  it('keeps the grammar under any sequence of operations', async () => {
    const operation = fc.oneof(
      fc.constant('receive' as const),
      fc.constant('send' as const),
      fc.constant('sendBig' as const),
      fc.constant('complete' as const),
      fc.constant('fail' as const),
      fc.constant('socketError' as const),
      fc.constant('close' as const),
      fc.constant('abort' as const),
      fc.constant('socketClosed' as const),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
        const { protocol, backend } = setup();
        let completed = 0;
        let closedAt = -1;
        operations.forEach((op, i) => {
          switch (op) {
            case 'receive':
              backend.receive(`#${i}`);
              break;
            case 'send':
              backend.sendTo(Buffer.alloc(i), PEER);
              break;
            case 'sendBig':
              backend.sendTo(Buffer.alloc(1000), PEER);
              break;
            case 'complete':
            case 'fail': {
              const send = backend.sends[completed];
              if (send === undefined) break;
              completed++;
              send.done(op === 'fail' ? new Error('send failed') : undefined);
              break;
            }
            case 'socketError':
              backend.socketError(new Error('icmp'));
              break;
            case 'close':
              backend.close();
              break;
            case 'abort':
              backend.abort();
              break;
            case 'socketClosed':
              // The socket closes only once the backend asked it to (or under it, once).
              if (closedAt < 0) {
                closedAt = protocol.events.length;
                backend.socketClosed();
              }
              break;
          }
          assert.ok(backend.closeCalls <= 1, 'the socket is closed once');
          assert.ok(backend.getWriteBufferSize() >= 0);
        });
        await Promise.resolve();
        const closed = closedAt >= 0;
        assert.deepEqual(grammarViolations(protocol.events, closed), []);
        if (closed) assert.equal(backend.getWriteBufferSize(), 0);
        if (backend.isClosing() && !closed) {
          // Closing without pending sends (or aborted) means the socket was asked to close.
          const pending = backend.sends.length - completed;
          if (pending === 0) assert.equal(backend.closeCalls, 1);
        }
      }),
      { numRuns: 500 },
    );
  });
});
