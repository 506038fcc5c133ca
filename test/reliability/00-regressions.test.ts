/**
 * The smallest tests of the library bugs the reliability scenarios exposed, in memory first and
 * on loopback second, so a fix can be checked in milliseconds.
 *
 * 1. A server whose idle deadline was set, and which had no connection for longer than that
 *    deadline, closed its next connections as idle on the first sweep, however busy they were:
 *    the sweeper stops with the last connection, so the coarse clock transports stamp their
 *    activity with had stopped at that moment (scenario 4 found it: every legitimate client of
 *    the slowloris run was closed). Fixed in ConnectionRegistry.admit().
 * 2. A frame that FramedProtocol delivers from `resumeReading()` — outside any transport
 *    callback — and whose `frameReceived` throws or rejects failed its connection with
 *    `transport.abort(error)`, which did not reach the server's `onError`: the failure was
 *    counted (`stats.closed.callback_error`) but never reported (scenario 8, async handler).
 *    Fixed: `abort(error)` reports the error once.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { FramedProtocol } from '../../src/codecs/framed-protocol.js';
import { LineCodec } from '../../src/codecs/line-codec.js';
import { ConnectionRegistry } from '../../src/connection-registry.js';
import { createServer } from '../../src/create-server.js';
import { Protocol } from '../../src/protocol.js';
import { NO_LIMITS } from '../../src/stream-transport.js';
import { MemoryTransport, TestClock } from '../../src/testing/index.js';
import { transports } from './fixture-process.js';

describe('idle deadline after a quiet spell', () => {
  it('in memory: a busy connection accepted after the server sat idle stays open', () => {
    const clock = new TestClock();
    const registry = new ConnectionRegistry({
      onError: () => {},
      limits: { ...NO_LIMITS, idleTimeout: 1000 },
      clock,
    });
    clock.advance(5000); // nobody connected yet: no sweep runs
    assert.equal(registry.admit(), true); // what a backend does before it makes the transport
    const transport = new MemoryTransport(new Protocol(), { owner: registry }).start();
    registry.add(transport);
    for (let i = 0; i < 8; i++) {
      clock.advance(125);
      transport.receive('ping');
    }
    assert.equal(transport.closed, false, 'closed as idle although it sent every 125 ms');
  });

  for (const transport of transports()) {
    it(`on loopback (${transport}): a client sending every 100 ms is not closed as idle`, async () => {
      const server = await createServer(() => new Protocol(), {
        host: '127.0.0.1',
        port: 0,
        idleTimeout: 600,
        transport,
      });
      try {
        const port = (server.addresses()[0] as { port: number }).port;
        await new Promise((resolve) => setTimeout(resolve, 700)); // longer than the deadline
        const socket = net.connect({ port, host: '127.0.0.1' });
        socket.on('error', () => {});
        const ticker = setInterval(() => socket.write('x'), 100);
        const ended = await new Promise<boolean>((resolve) => {
          socket.once('end', () => resolve(true));
          setTimeout(() => resolve(false), 1000);
        });
        clearInterval(ticker);
        socket.destroy();
        assert.equal(ended, false, 'closed as idle although it sent every 100 ms');
      } finally {
        await server.close();
        server.abortClients();
      }
    });
  }
});

describe('failures of frames delivered by FramedProtocol.resumeReading()', () => {
  /** Pauses at `pause`, throws at `boom`. */
  class Pausing extends FramedProtocol<Buffer, Uint8Array> {
    frameReceived(frame: Buffer): void {
      const text = frame.toString();
      if (text === 'pause') this.pauseReading();
      if (text === 'boom') throw new Error('boom');
    }
  }

  it('reach the onError hook, as every other callback failure does', {}, () => {
    const errors: Error[] = [];
    const registry = new ConnectionRegistry({
      onError: (error) => errors.push(error),
      limits: NO_LIMITS,
    });
    const protocol = new Pausing(new LineCodec());
    assert.equal(registry.admit(), true);
    const transport = new MemoryTransport(protocol, { owner: registry }).start();
    registry.add(transport);
    transport.receive('pause\nboom\n');
    protocol.resumeReading();
    assert.equal(registry.stats.closed.callback_error, 1, 'the connection failed');
    assert.equal(errors.length, 1, 'and onError heard of it');
  });
});
