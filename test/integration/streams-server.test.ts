/**
 * startServer and openConnection on real loopback sockets: the echo server of docs/streams.md,
 * lines sent one byte per segment, EOF in the middle of a read, a peer reset reaching a pending
 * read, the limit option, half-close, and a throwing handler that costs only its own connection.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import {
  ConnectionRefusedError,
  ConnectionResetError,
  IncompleteReadError,
  LimitOverrunError,
  ProtocolCallbackError,
} from '../../src/errors.js';
import type { ErrorContext, Server } from '../../src/server.js';
import { openConnection } from '../../src/streams/open-connection.js';
import type { StreamReader } from '../../src/streams/reader.js';
import {
  type StartServerOptions,
  type StreamHandler,
  startServer,
} from '../../src/streams/start-server.js';
import type { StreamWriter } from '../../src/streams/writer.js';

const servers: Server[] = [];
const writers: StreamWriter[] = [];

after(async () => {
  for (const writer of writers) writer.transport.abort();
  for (const server of servers) {
    server.close();
    server.abortClients();
    await server.waitClosed();
  }
});

/** A server on 127.0.0.1, port 0, whose reported errors are collected. */
async function serve(handler: StreamHandler, options: StartServerOptions = {}) {
  const errors: { error: Error; context: ErrorContext }[] = [];
  const server = await startServer(handler, {
    host: '127.0.0.1',
    port: 0,
    onError: (error, context) => errors.push({ error, context }),
    ...options,
  });
  servers.push(server);
  const address = server.addresses()[0];
  assert.ok(address !== undefined && address.family !== 'unix');
  return { server, errors, port: address.port };
}

async function connect(port: number, limit?: number): Promise<[StreamReader, StreamWriter]> {
  const pair = await openConnection({ host: '127.0.0.1', port, ...(limit ? { limit } : {}) });
  writers.push(pair[1]);
  return pair;
}

/** A raw socket client: the peer does not share the code under test. */
function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A promise and its resolver, for handlers to report what they saw. */
function signal<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// The example of docs/streams.md, verbatim.
const echo: StreamHandler = async (reader, writer) => {
  for await (const line of reader.lines({ encoding: 'utf8' })) {
    writer.write(`${line}\n`);
    await writer.drain();
  }
};

describe('streams on loopback', () => {
  it('echoes lines, and closes the connection when the handler returns', async () => {
    const { port, errors } = await serve(echo);
    const [reader, writer] = await connect(port);
    writer.write('hello\r\nwörld\n');
    assert.equal((await reader.readLine()).toString(), 'hello\n');
    assert.equal((await reader.readLine()).toString(), 'wörld\n');
    writer.writeEof();
    assert.equal((await reader.read()).length, 0, "the server's FIN after the handler returned");
    assert.equal(reader.atEof(), true);
    writer.close();
    await writer.waitClosed();
    assert.deepEqual(errors, []);
  });

  it('reads lines sent one byte per segment', async () => {
    const lines = signal<string[]>();
    const { port } = await serve(async (reader) => {
      const seen: string[] = [];
      for await (const line of reader.lines({ encoding: 'utf8' })) seen.push(line);
      lines.resolve(seen);
    });
    const socket = await rawConnect(port);
    for (const byte of Buffer.from('one\r\ntwo\n\nlast')) {
      socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    socket.end();
    assert.deepEqual(await lines.promise, ['one', 'two', '', 'last']);
    socket.destroy();
  });

  it('fails readExactly with the partial bytes when the peer half-closes mid-read', async () => {
    const outcome = signal<unknown>();
    const { port } = await serve(async (reader, writer) => {
      outcome.resolve(await reader.readExactly(10).catch((error: unknown) => error));
      writer.write('still writable after the peer FIN\n');
    });
    const [reader, writer] = await connect(port);
    writer.write('12345');
    writer.writeEof();
    const error = await outcome.promise;
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.partial.toString(), '12345');
    assert.equal(error.expected, 10);
    assert.equal((await reader.read()).toString(), 'still writable after the peer FIN\n');
  });

  it('rejects a pending read with ConnectionResetError when the peer resets', async () => {
    const outcome = signal<unknown>();
    const { port, errors } = await serve(async (reader) => {
      outcome.resolve(await reader.readLine().catch((error: unknown) => error));
    });
    const [, writer] = await connect(port);
    writer.write('no newline yet');
    await new Promise((resolve) => setTimeout(resolve, 20));
    writer.transport.abort();
    const error = await outcome.promise;
    assert.ok(error instanceof ConnectionResetError, `got ${String(error)}`);
    assert.deepEqual(errors, [], 'the handler caught it: nothing to report');
  });

  it('applies the limit option: LimitOverrunError past it, the bytes still readable', async () => {
    const outcome = signal<{ error: unknown; rest: string }>();
    const { port } = await serve(
      async (reader) => {
        const error = await reader.readLine().catch((e: unknown) => e);
        const rest = (await reader.read()).toString();
        outcome.resolve({ error, rest });
      },
      { limit: 16 },
    );
    const [, writer] = await connect(port);
    writer.write(`${'x'.repeat(17)}\n`);
    writer.writeEof();
    const { error, rest } = await outcome.promise;
    assert.ok(error instanceof LimitOverrunError);
    assert.equal(error.limit, 16);
    assert.equal(rest, `${'x'.repeat(17)}\n`);
  });

  it('serves a half-closed exchange: read to EOF, then reply', async () => {
    const { port } = await serve(async (reader, writer) => {
      const request = await reader.read();
      writer.write(`got ${request.length} bytes`);
    });
    const [reader, writer] = await connect(port);
    writer.writeLines(['abc', Buffer.from('def')]);
    writer.writeEof();
    assert.equal((await reader.read()).toString(), 'got 6 bytes');
    assert.equal(reader.atEof(), true);
  });

  it('gives the same addresses from both ends through getExtraInfo', async () => {
    const peer = signal<unknown>();
    const { port } = await serve((_reader, writer) => {
      peer.resolve(writer.getExtraInfo('peername'));
    });
    const [, writer] = await connect(port);
    assert.deepEqual(await peer.promise, writer.getExtraInfo('sockname'));
  });

  it('aborts only the connection whose handler throws, reports it, and keeps serving', async () => {
    const { port, errors } = await serve(async (reader, writer) => {
      const line = (await reader.readLine()).toString();
      if (line === 'boom\n') throw new Error('boom');
      writer.write(`ok ${line}`);
      await reader.read();
    });
    const [calmReader, calmWriter] = await connect(port);
    const [badReader, badWriter] = await connect(port);
    badWriter.write('boom\n');
    await assert.rejects(badReader.read(), ConnectionResetError);
    await assert.rejects(badWriter.waitClosed(), ConnectionResetError);

    assert.equal(errors.length, 1);
    const [reported] = errors;
    assert.ok(reported?.error instanceof ProtocolCallbackError);
    assert.equal(reported.error.callback, 'handler');
    assert.equal((reported.error.cause as Error).message, 'boom');
    assert.ok(reported.context.transport !== undefined);

    calmWriter.write('still here\n');
    assert.equal((await calmReader.readLine()).toString(), 'ok still here\n');
    const [newReader, newWriter] = await connect(port);
    newWriter.write('new\n');
    assert.equal((await newReader.readLine()).toString(), 'ok new\n');
  });

  it('treats a synchronous throw like a rejection', async () => {
    const { port, errors } = await serve(() => {
      throw new Error('sync boom');
    });
    // A raw socket: the reset may come before the client's connect event is handled.
    const socket = net.connect({ host: '127.0.0.1', port });
    const closedWith = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      let failure: NodeJS.ErrnoException | undefined;
      socket.on('error', (error) => {
        failure = error;
      });
      socket.on('close', () => resolve(failure));
    });
    assert.equal(closedWith?.code, 'ECONNRESET');
    assert.equal(errors.length, 1);
    const [reported] = errors;
    assert.ok(reported?.error instanceof ProtocolCallbackError);
    assert.equal((reported.error.cause as Error).message, 'sync boom');
  });

  it('ends pending reads with EOF when the server closes its clients', async () => {
    const lines = signal<Buffer>();
    const { server, port } = await serve(async (reader) => {
      lines.resolve(await reader.readLine());
    });
    const [reader] = await connect(port);
    await new Promise((resolve) => setTimeout(resolve, 20));
    server.close();
    server.closeClients();
    assert.equal((await lines.promise).length, 0);
    assert.equal((await reader.read()).length, 0);
    await server.waitClosed();
  });

  it('rejects openConnection with ConnectionRefusedError where nothing listens', async () => {
    const { server, port } = await serve(() => {});
    await server.close();
    await assert.rejects(openConnection({ host: '127.0.0.1', port }), ConnectionRefusedError);
  });
});
