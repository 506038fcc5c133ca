/**
 * Limits and deadlines on loopback: the connection limit, the idle deadline, the write-stall
 * deadline, the write-buffer cap, graceful shutdown, and the counters behind the metrics.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createServer as serveWith } from '../../src/create-server.js';
import {
  ConnectionLimitError,
  IdleTimeoutError,
  WriteBufferOverflowError,
  WriteStallError,
} from '../../src/errors.js';
import type { ServerOptions } from '../../src/options.js';
import { delay, RawClient, until } from '../helpers/net.js';
import { type RecordingBehaviour, RecordingProtocol } from '../helpers/recording-protocol.js';
import { transports } from '../helpers/transports.js';

for (const backend of transports) {
  describe(`on ${backend}`, () => {
    const createServer: typeof serveWith = (factory, options = {}) =>
      serveWith(factory, { transport: backend, ...options });

    const REPLY = Buffer.from('Message received');
    const chapter: RecordingBehaviour = { onData: (_data, transport) => transport.write(REPLY) };

    async function start(behaviour: RecordingBehaviour, options: ServerOptions = {}) {
      const protocols: RecordingProtocol[] = [];
      const errors: Error[] = [];
      const server = await createServer(
        () => {
          const protocol = new RecordingProtocol(behaviour);
          protocols.push(protocol);
          return protocol;
        },
        { host: '127.0.0.1', port: 0, onError: (error) => errors.push(error), ...options },
      );
      const port = (server.addresses()[0] as { port: number }).port;
      return { server, protocols, errors, port };
    }

    /** A client that never reads (its receive window fills up). */
    async function stuckClient(port: number): Promise<net.Socket> {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      socket.pause();
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    }

    describe('maxConnections', () => {
      it('serves the limit, turns the rest away with the goodbye and FIN, counts and reports once', async () => {
        const { server, errors, port } = await start(chapter, {
          maxConnections: 3,
          rejectMessage: 'busy\n',
        });
        const served = await Promise.all([1, 2, 3].map(() => RawClient.connect(port)));
        await until(() => server.connectionCount() === 3);
        const turnedAway = await Promise.all([1, 2].map(() => RawClient.connect(port)));
        for (const client of turnedAway) {
          assert.equal(await client.closed, undefined);
          assert.equal(client.received.toString(), 'busy\n');
          assert.equal(client.ended, true);
        }
        for (const client of served) {
          client.socket.write('x');
          assert.deepEqual(await client.waitFor(16), REPLY);
        }
        assert.equal(server.stats.rejected, 2);
        assert.equal(server.stats.accepted, 3);
        assert.equal(errors.length, 1, 'reported once within a second');
        assert.ok(errors[0] instanceof ConnectionLimitError);
        for (const client of served) client.socket.end();
        await server[Symbol.asyncDispose]();
      });
    });

    describe('idleTimeout', () => {
      it('closes a silent connection with FIN and IdleTimeoutError; a chatty one stays', async () => {
        const { server, protocols, port } = await start(chapter, { idleTimeout: 200 });
        const started = Date.now();
        const silent = await RawClient.connect(port);
        const chatty = await RawClient.connect(port);
        const ticker = setInterval(() => chatty.socket.write('x'), 40);
        assert.equal(await silent.closed, undefined, 'FIN, not reset');
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= 200 && elapsed < 600, `closed after ${elapsed} ms`);
        await until(() => protocols[0]!.events.at(-1)?.kind === 'lost');
        const error = await protocols[0]!.lost;
        assert.ok(error instanceof IdleTimeoutError, String(error));
        assert.equal(error.timeoutMs, 200);
        await delay(300);
        clearInterval(ticker);
        assert.equal(chatty.socket.destroyed, false, 'active connection kept');
        assert.equal(server.stats.closed.idle_timeout, 1);
        chatty.socket.end();
        await server[Symbol.asyncDispose]();
      });
    });

    describe('writeStallTimeout and maxWriteBuffer', () => {
      it('drops a peer that does not drain within the deadline', async () => {
        const big = Buffer.alloc(512 * 1024, 1);
        const { server, protocols, port } = await start(
          {
            onData: (_data, transport) => {
              // 16 MiB per read: more than the kernel's socket buffers hold, however reads coalesce.
              for (let i = 0; i < 32; i++) transport.write(big);
            },
          },
          { writeStallTimeout: 300, maxWriteBuffer: 64 * 1024 * 1024 },
        );
        const healthy = await RawClient.connect(port);
        const stuck = await stuckClient(port);
        const started = Date.now();
        stuck.write('more');
        await until(
          () => protocols[1]?.events.at(-1)?.kind === 'lost',
          5000,
          'the stalled peer dropped',
        );
        const elapsed = Date.now() - started;
        const error = await protocols[1]!.lost;
        assert.ok(error instanceof WriteStallError, String(error));
        assert.ok(elapsed >= 300 && elapsed < 1500, `dropped after ${elapsed} ms`);
        healthy.socket.write('x');
        assert.ok((await healthy.waitFor(big.length * 32)).length >= big.length * 32);
        assert.equal(server.stats.closed.write_stall, 1);
        stuck.destroy();
        healthy.socket.end();
        await server[Symbol.asyncDispose]();
      });

      it('drops a connection whose buffer goes past the cap', async () => {
        const { server, protocols, port } = await start(
          { onData: (_data, transport) => transport.write(Buffer.alloc(8 * 1024 * 1024)) },
          { maxWriteBuffer: 1024 * 1024 },
        );
        const stuck = await stuckClient(port);
        stuck.write('go');
        const error = await (async () => {
          await until(() => protocols.length === 1);
          return protocols[0]!.lost;
        })();
        assert.ok(error instanceof WriteBufferOverflowError, String(error));
        assert.equal(error.limit, 1024 * 1024);
        assert.equal(server.stats.closed.write_overflow, 1);
        stuck.destroy();
        await server[Symbol.asyncDispose]();
      });
    });

    describe('shutdown', () => {
      it('stops accepting, closes idle connections with FIN, waits for busy ones', async () => {
        let finishBusy: (() => void) | undefined;
        const { server, port } = await start(chapter);
        const idle = await RawClient.connect(port);
        await until(() => server.connectionCount() === 1);
        // A second server-side protocol that says it is busy and closes by itself later.
        const busyServer = await createServer(
          () =>
            Object.assign(new RecordingProtocol(chapter), {
              shutdownRequested(this: RecordingProtocol) {
                this.transport!.write(Buffer.from('goodbye'));
                finishBusy = () => this.transport!.close();
                return true;
              },
            }),
          { host: '127.0.0.1', port: 0 },
        );
        const busyPort = (busyServer.addresses()[0] as { port: number }).port;
        const busy = await RawClient.connect(busyPort);
        await until(() => busyServer.connectionCount() === 1);

        const summary = server.shutdown({ drainTimeout: 5000 });
        assert.equal(server.isDraining(), true);
        assert.equal(server.isServing(), false);
        assert.deepEqual(await summary, { drained: 1, aborted: 0 });
        assert.equal(await idle.closed, undefined);
        assert.equal(idle.ended, true);
        await assert.rejects(RawClient.connect(port), 'no longer accepting');

        const busySummary = busyServer.shutdown({ drainTimeout: 5000 });
        await busy.waitFor(7);
        assert.equal(busy.received.toString(), 'goodbye');
        await delay(50);
        assert.equal(busy.socket.destroyed, false, 'the busy one is left to finish');
        finishBusy!();
        assert.deepEqual(await busySummary, { drained: 1, aborted: 0 });
        assert.equal(await busy.closed, undefined);
      });

      it('resets what is still open at the drain timeout', async () => {
        const { server } = await start({ ...chapter });
        const stubborn = await createServer(
          () => Object.assign(new RecordingProtocol(chapter), { shutdownRequested: () => true }),
          { host: '127.0.0.1', port: 0 },
        );
        const stubbornPort = (stubborn.addresses()[0] as { port: number }).port;
        const client = await RawClient.connect(stubbornPort);
        await until(() => stubborn.connectionCount() === 1);
        const started = Date.now();
        assert.deepEqual(await stubborn.shutdown({ drainTimeout: 150 }), {
          drained: 0,
          aborted: 1,
        });
        assert.ok(Date.now() - started >= 140);
        assert.equal(
          ((await client.closed) as NodeJS.ErrnoException | undefined)?.code,
          'ECONNRESET',
        );
        await server[Symbol.asyncDispose]();
      });

      it('counts bytes and connections for the metrics', async () => {
        const { server, port } = await start(chapter);
        const client = await RawClient.connect(port);
        client.socket.write('hello\n');
        await client.waitFor(16);
        client.socket.end();
        await client.closed;
        await until(() => server.connectionCount() === 0);
        assert.equal(server.stats.accepted, 1);
        assert.equal(server.stats.bytesReceived, 6);
        assert.equal(server.stats.bytesSent, 16);
        assert.equal(server.stats.reads, 1);
        assert.equal(server.stats.closed.normal, 1);
        await server[Symbol.asyncDispose]();
      });
    });
  });
}
