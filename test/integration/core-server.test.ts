/**
 * The core on real loopback sockets: the chapter's exchange, the call grammar, close and abort,
 * half-close both ways, guarded callbacks, waitClosed, misuse, listening options.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createConnection as connectWith } from '../../src/create-connection.js';
import { createServer as serveWith } from '../../src/create-server.js';
import {
  ConnectionRefusedError,
  ConnectionResetError,
  InvalidArgumentError,
  ListenError,
  ProtocolCallbackError,
  WriteAfterEofError,
} from '../../src/errors.js';
import type { ErrorContext } from '../../src/server.js';
import { delay, RawClient, until } from '../helpers/net.js';
import {
  grammarViolations,
  type RecordingBehaviour,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';
import { transports } from '../helpers/transports.js';

for (const backend of transports) {
  describe(`on ${backend}`, () => {
    const createServer: typeof serveWith = (factory, options = {}) =>
      serveWith(factory, { transport: backend, ...options });
    const createConnection: typeof connectWith = (factory, options) =>
      connectWith(factory, { transport: backend, ...options });

    const REPLY = Buffer.from('Message received');

    /** A server whose protocols record their calls; returns the server and the protocols made. */
    async function recordingServer(behaviour: RecordingBehaviour = {}, extra: object = {}) {
      const protocols: RecordingProtocol[] = [];
      const errors: { error: Error; context: ErrorContext }[] = [];
      const server = await createServer(
        () => {
          const protocol = new RecordingProtocol(behaviour);
          protocols.push(protocol);
          return protocol;
        },
        {
          host: '127.0.0.1',
          port: 0,
          onError: (error, context) => errors.push({ error, context }),
          ...extra,
        },
      );
      const address = server.addresses()[0];
      assert.ok(address !== undefined && address.family !== 'unix');
      return { server, protocols, errors, port: address.port };
    }

    const chapter: RecordingBehaviour = {
      onData: (_data, transport) => transport.write(REPLY),
    };

    describe('the chapter exchange on loopback', () => {
      it('answers a message with exactly "Message received" and keeps the grammar', async () => {
        const { server, protocols, port } = await recordingServer(chapter);
        const client = await RawClient.connect(port);
        client.socket.write('hello\n');
        assert.deepEqual(await client.waitFor(16), REPLY);
        client.socket.end();
        assert.equal(await protocols[0]!.lost, undefined);
        await client.closed;
        assert.deepEqual(protocols[0]!.kinds(), ['made', 'data', 'eof', 'lost']);
        assert.deepEqual(grammarViolations(protocols[0]!.events), []);
        assert.equal(client.ended, true);
        server.close();
        await server.waitClosed();
      });

      it('serves many connections at once, each its own protocol', async () => {
        const { server, protocols, port } = await recordingServer(chapter);
        const clients = await Promise.all(
          Array.from({ length: 50 }, () => RawClient.connect(port)),
        );
        for (const client of clients) client.socket.write('x');
        for (const client of clients) assert.deepEqual(await client.waitFor(16), REPLY);
        assert.equal(server.connectionCount(), 50);
        for (const client of clients) client.socket.end();
        await Promise.all(protocols.map((p) => p.lost));
        for (const p of protocols) assert.deepEqual(grammarViolations(p.events), []);
        await server.close();
        await server.waitClosed();
      });
    });

    describe('close, abort and EOF', () => {
      it('close() flushes what is buffered, then sends FIN; connectionLost has no error', async () => {
        const payload = Buffer.alloc(1024 * 1024, 7);
        const { server, protocols, port } = await recordingServer({
          onMade: (transport) => {
            transport.write(payload);
            transport.close();
            assert.equal(transport.isClosing(), true);
            transport.write(Buffer.from('dropped after close'));
          },
        });
        const client = await RawClient.connect(port);
        await client.closed;
        assert.equal(client.ended, true);
        assert.deepEqual(client.received, payload);
        assert.equal(await protocols[0]!.lost, undefined);
        assert.deepEqual(protocols[0]!.kinds(), ['made', 'lost']);
        await server[Symbol.asyncDispose]();
      });

      it('abort() resets: the peer sees ECONNRESET', async () => {
        const { server, protocols, port } = await recordingServer({
          onData: (_data, transport) => {
            transport.abort();
            transport.abort();
            assert.equal(transport.isClosing(), true);
          },
        });
        const client = await RawClient.connect(port);
        client.socket.write('go');
        const error = await client.closed;
        assert.equal((error as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET');
        assert.equal(await protocols[0]!.lost, undefined);
        assert.deepEqual(grammarViolations(protocols[0]!.events), []);
        await server[Symbol.asyncDispose]();
      });

      it('abort() drops what is buffered', async () => {
        const size = 4 * 1024 * 1024;
        const { server, protocols, port } = await recordingServer(
          {
            onData: (_data, transport) => {
              transport.write(Buffer.alloc(size));
              assert.ok(transport.getWriteBufferSize() > 0);
              transport.abort();
              assert.equal(transport.getWriteBufferSize() <= size, true);
            },
          },
          { maxWriteBuffer: Number.POSITIVE_INFINITY },
        );
        const client = await RawClient.connect(port);
        client.socket.write('go');
        await client.closed;
        // On a reset the peer reads whatever was in flight, then the error (libuv may report it as
        // an end of stream): either way, the 4 MiB never arrive.
        assert.ok(client.received.length < size, `got ${client.received.length}`);
        assert.equal(await protocols[0]!.lost, undefined);
        await server[Symbol.asyncDispose]();
      });

      it('a peer reset reaches connectionLost as ConnectionResetError', async () => {
        const { server, protocols, port } = await recordingServer(chapter);
        const client = await RawClient.connect(port);
        client.socket.write('x');
        await client.waitFor(16);
        client.socket.resetAndDestroy();
        const error = await protocols[0]!.lost;
        assert.ok(error instanceof ConnectionResetError, `got ${error}`);
        assert.equal(error.code, 'ERR_AIONET_CONNECTION_RESET');
        assert.deepEqual(grammarViolations(protocols[0]!.events), []);
        await server[Symbol.asyncDispose]();
      });

      it('eofReceived returning true keeps the write side open (half-close)', async () => {
        const { server, protocols, port } = await recordingServer({
          onEof: (transport) => {
            setTimeout(() => {
              transport.write(Buffer.from('after your FIN'));
              transport.close();
            }, 20);
            return true;
          },
        });
        const client = await RawClient.connect(port);
        client.socket.end('bye');
        await client.closed;
        await protocols[0]!.lost;
        assert.equal(client.received.toString(), 'after your FIN');
        assert.deepEqual(protocols[0]!.kinds(), ['made', 'data', 'eof', 'lost']);
        await server[Symbol.asyncDispose]();
      });

      it('writeEof() half-closes our side; reading goes on until the peer closes', async () => {
        const { server, protocols, port } = await recordingServer({
          onMade: (transport) => {
            transport.write(Buffer.from('all I have'));
            transport.writeEof();
            assert.throws(() => transport.write(Buffer.from('x')), WriteAfterEofError);
          },
        });
        const client = await RawClient.connect(port, '127.0.0.1', true);
        await until(() => client.ended, 5000, 'FIN from the server');
        assert.equal(client.received.toString(), 'all I have');
        client.socket.end('late data');
        await protocols[0]!.lost;
        assert.equal(protocols[0]!.received().toString(), 'late data');
        assert.deepEqual(protocols[0]!.kinds(), ['made', 'data', 'eof', 'lost']);
        await server[Symbol.asyncDispose]();
      });

      it('half-open, then writeEof(): with both FINs sent the connection ends cleanly', async () => {
        const { server, protocols, port } = await recordingServer({
          onEof: (transport) => {
            transport.write(Buffer.from('last words'));
            transport.writeEof();
            return true;
          },
        });
        const client = await RawClient.connect(port, '127.0.0.1', true);
        client.socket.end('bye');
        assert.equal(await protocols[0]!.lost, undefined);
        await client.closed;
        assert.equal(client.received.toString(), 'last words');
        assert.deepEqual(protocols[0]!.kinds(), ['made', 'data', 'eof', 'lost']);
        await server[Symbol.asyncDispose]();
      });

      it('allowHalfOpen: false closes after eofReceived even when it returns true', async () => {
        const { server, protocols, port } = await recordingServer(
          { onEof: () => true },
          { allowHalfOpen: false },
        );
        const client = await RawClient.connect(port);
        client.socket.end();
        await client.closed;
        assert.equal(client.ended, true);
        assert.deepEqual(protocols[0]!.kinds(), ['made', 'eof', 'lost']);
        await server[Symbol.asyncDispose]();
      });
    });

    describe('guarded callbacks', () => {
      for (const position of ['connectionMade', 'dataReceived', 'eofReceived'] as const) {
        for (const style of ['throws', 'rejects'] as const) {
          if (position === 'eofReceived' && style === 'rejects') continue;
          it(`${position} that ${style} fails that connection alone`, async () => {
            const boom = new Error(`boom in ${position}`);
            const fail = (): undefined | Promise<void> => {
              if (style === 'throws') throw boom;
              return Promise.reject(boom);
            };
            const { server, protocols, errors, port } = await recordingServer({
              onMade: (_transport, protocol) =>
                position === 'connectionMade' && protocols.indexOf(protocol) === 0
                  ? fail()
                  : undefined,
              onData: (_data, transport, protocol) => {
                if (position === 'dataReceived' && protocols.indexOf(protocol) === 0) return fail();
                transport.write(REPLY);
                return undefined;
              },
              onEof: (_transport, protocol) => {
                if (position === 'eofReceived' && protocols.indexOf(protocol) === 0) fail();
                return undefined;
              },
            });
            // The server may reset the victim before its connect completes: use a bare socket.
            const victim = net.connect({ port, host: '127.0.0.1' });
            const victimClosed = new Promise((resolve) => victim.on('close', resolve));
            victim.on('error', () => {});
            await until(() => protocols.length === 1, 5000, 'first connection');
            const healthy = await RawClient.connect(port);
            victim.write('x');
            if (position === 'eofReceived') victim.end();
            const error = await protocols[0]!.lost;
            assert.ok(error instanceof ProtocolCallbackError, `got ${error}`);
            assert.equal(error.callback, position);
            assert.equal(error.cause, boom);
            assert.equal(errors.length, 1);
            assert.equal(errors[0]!.error, error);
            assert.equal(errors[0]!.context.transport, protocols[0]!.transport);
            assert.deepEqual(grammarViolations(protocols[0]!.events), []);
            await victimClosed;
            // The other connection is untouched.
            healthy.socket.write('y');
            assert.deepEqual(await healthy.waitFor(16), REPLY);
            assert.equal(healthy.socket.destroyed, false);
            healthy.socket.end();
            await protocols[1]!.lost;
            await server[Symbol.asyncDispose]();
          });
        }
      }

      it('connectionLost that throws is reported, once', async () => {
        const { server, protocols, errors, port } = await recordingServer({
          onLost: () => {
            throw new Error('lost boom');
          },
        });
        const client = await RawClient.connect(port);
        client.socket.end();
        await protocols[0]!.lost;
        await until(() => server.connectionCount() === 0);
        assert.equal(errors.length, 1);
        const error = errors[0]!.error;
        assert.ok(error instanceof ProtocolCallbackError);
        assert.equal(error.callback, 'connectionLost');
        await server[Symbol.asyncDispose]();
      });

      it('a throwing protocol factory drops that connection and is reported', async () => {
        const errors: Error[] = [];
        let calls = 0;
        const server = await createServer(
          () => {
            calls++;
            if (calls === 1) throw new Error('factory boom');
            return new RecordingProtocol(chapter);
          },
          { host: '127.0.0.1', port: 0, onError: (error) => errors.push(error) },
        );
        const port = (server.addresses()[0] as { port: number }).port;
        const first = await RawClient.connect(port);
        await first.closed;
        const second = await RawClient.connect(port);
        second.socket.write('x');
        assert.deepEqual(await second.waitFor(16), REPLY);
        assert.equal(errors[0]?.message, 'protocol factory failed: factory boom');
        second.socket.end();
        await server[Symbol.asyncDispose]();
      });
    });

    describe('server lifecycle', () => {
      it('waitClosed resolves only after close() and the last connection is gone', async () => {
        const { server, port } = await recordingServer(chapter);
        const client = await RawClient.connect(port);
        await until(() => server.connectionCount() === 1);
        let done = false;
        const waiting = server.waitClosed().then(() => {
          done = true;
        });
        await delay(30);
        assert.equal(done, false, 'not before close()');
        await server.close();
        assert.equal(server.isServing(), false);
        await delay(30);
        assert.equal(done, false, 'not while a connection is live');
        await assert.rejects(RawClient.connect(port));
        client.socket.end();
        await waiting;
        assert.equal(done, true);
        assert.equal(server.connectionCount(), 0);
        await server.close();
      });

      it('closeClients() closes gracefully, abortClients() resets', async () => {
        const { server, port } = await recordingServer(chapter);
        const gentle = await RawClient.connect(port);
        await until(() => server.connectionCount() === 1);
        server.closeClients();
        assert.equal(await gentle.closed, undefined);
        assert.equal(gentle.ended, true);
        const rough = await RawClient.connect(port);
        await until(() => server.connectionCount() === 1);
        server.abortClients();
        assert.equal(
          ((await rough.closed) as NodeJS.ErrnoException | undefined)?.code,
          'ECONNRESET',
        );
        await server[Symbol.asyncDispose]();
      });

      it('an AbortSignal closes the server and its connections', async () => {
        const controller = new AbortController();
        const { server, port } = await recordingServer(chapter, { signal: controller.signal });
        const client = await RawClient.connect(port);
        await until(() => server.connectionCount() === 1);
        const serving = server.serveForever();
        controller.abort();
        await serving;
        assert.equal(server.isServing(), false);
        await client.closed;
      });

      it('port 0 with several hosts listens on one port for all', async (t) => {
        const hasV6 = await new Promise<boolean>((resolve) => {
          const probe = net.createServer().listen(0, '::1', () => probe.close(() => resolve(true)));
          probe.on('error', () => resolve(false));
        });
        if (!hasV6) {
          t.skip('no ::1 on this machine');
          return;
        }
        const server = await createServer(() => new RecordingProtocol(chapter), {
          host: ['127.0.0.1', '::1'],
          port: 0,
        });
        const [v4, v6] = server.addresses();
        assert.ok(v4?.family === 'IPv4' && v6?.family === 'IPv6');
        assert.equal(v4.port, v6.port);
        const client = await RawClient.connect(v6.port, '::1');
        client.socket.write('x');
        assert.deepEqual(await client.waitFor(16), REPLY);
        client.socket.end();
        await server[Symbol.asyncDispose]();
      });

      it('a port in use is a ListenError with a clear message', async () => {
        const { server, port } = await recordingServer();
        await assert.rejects(
          createServer(() => new RecordingProtocol(), { host: '127.0.0.1', port }),
          (error) => {
            assert.ok(error instanceof ListenError);
            assert.equal(error.errno, 'EADDRINUSE');
            assert.equal(
              error.message,
              `cannot listen on 127.0.0.1:${port}: address already in use`,
            );
            return true;
          },
        );
        await server[Symbol.asyncDispose]();
      });

      it('bad options throw InvalidArgumentError at once', async () => {
        const factory = () => new RecordingProtocol();
        await assert.rejects(createServer(factory, { port: 70000 }), InvalidArgumentError);
        await assert.rejects(createServer(factory, { port: -1 }), InvalidArgumentError);
        await assert.rejects(
          createServer(factory, { path: '/tmp/x', port: 1 }),
          InvalidArgumentError,
        );
        await assert.rejects(createServer(factory, { host: [], port: 0 }), InvalidArgumentError);
        await assert.rejects(createServer(factory, { backlog: 0, port: 0 }), InvalidArgumentError);
        await assert.rejects(
          createServer('nope' as unknown as () => RecordingProtocol, { port: 0 }),
          InvalidArgumentError,
        );
      });

      it('serves a Unix domain socket', async () => {
        const path = `/tmp/aionet-test-${process.pid}-${Date.now()}.sock`;
        const protocols: RecordingProtocol[] = [];
        const server = await createServer(
          () => {
            const p = new RecordingProtocol(chapter);
            protocols.push(p);
            return p;
          },
          { path },
        );
        assert.deepEqual(server.addresses(), [{ family: 'unix', path }]);
        const [transport, protocol] = await createConnection(() => new RecordingProtocol(), {
          path,
        });
        transport.write(Buffer.from('hi'));
        await until(() => protocol.received().length >= 16);
        assert.deepEqual(protocol.received(), REPLY);
        assert.deepEqual(protocols[0]!.transport!.getExtraInfo('sockname'), {
          family: 'unix',
          path,
        });
        transport.abort();
        await protocol.lost;
        await server[Symbol.asyncDispose]();
      });
    });

    describe('misuse throws at once', () => {
      it('write of a string without encoding, of a non-buffer; writeLines of junk', async () => {
        const seen: unknown[] = [];
        const { server, protocols, port } = await recordingServer({
          onMade: (transport) => {
            for (const attempt of [
              () => (transport.write as (data: unknown) => void)('text'),
              () => (transport.write as (data: unknown) => void)(42),
              () => (transport.writeLines as (data: unknown) => void)(['a']),
              () => transport.setWriteBufferLimits({ high: 10, low: 20 }),
              () => transport.setWriteBufferLimits({ high: -1 }),
            ]) {
              try {
                attempt();
                seen.push('no throw');
              } catch (error) {
                seen.push(error);
              }
            }
            transport.write('text', 'utf8');
            transport.close();
          },
        });
        const client = await RawClient.connect(port);
        await client.closed;
        assert.equal(client.received.toString(), 'text');
        assert.equal(seen.length, 5);
        for (const error of seen) assert.ok(error instanceof InvalidArgumentError, String(error));
        await protocols[0]!.lost;
        await server[Symbol.asyncDispose]();
      });
    });

    describe('createConnection', () => {
      it('resolves [transport, protocol] after connectionMade, with addresses', async () => {
        const { server, port } = await recordingServer(chapter);
        const [transport, protocol] = await createConnection(() => new RecordingProtocol(), {
          host: '127.0.0.1',
          port,
        });
        assert.deepEqual(protocol.kinds(), ['made']);
        assert.equal(protocol.transport, transport);
        assert.deepEqual(transport.getExtraInfo('peername'), {
          family: 'IPv4',
          address: '127.0.0.1',
          port,
        });
        const local = transport.getExtraInfo('sockname');
        assert.ok(local?.family === 'IPv4' && local.port > 0);
        if (backend === 'net') assert.ok(transport.getExtraInfo('socket') instanceof net.Socket);
        transport.write(Buffer.from('hi'));
        await until(() => protocol.received().length >= 16);
        transport.close();
        assert.equal(await protocol.lost, undefined);
        await server[Symbol.asyncDispose]();
      });

      it('a refused connect is a ConnectionRefusedError', async () => {
        const probe = net.createServer();
        const port = await new Promise<number>((resolve) =>
          probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port)),
        );
        await new Promise((resolve) => probe.close(resolve));
        await assert.rejects(
          createConnection(() => new RecordingProtocol(), { host: '127.0.0.1', port }),
          ConnectionRefusedError,
        );
      });
    });
  });
}
