/**
 * The smallest tests of the library bugs the reliability scenarios exposed, in memory first and
 * on loopback second, so a fix can be checked in milliseconds.
 *
 * 1. A server whose idle deadline was set, and which had no connection for longer than that
 *    deadline, closed its next connections as idle on the first sweep, however busy they were:
 *    the sweeper stops with the last connection, so the coarse clock transports stamp their
 *    activity with had stopped at that moment (scenario 4 found it: every legitimate client of
 *    the slowloris run was closed).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
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
