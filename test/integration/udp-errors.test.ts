/**
 * Failures on a UDP endpoint, on loopback: oversized datagrams and failed sends reach
 * errorReceived as typed errors and the endpoint keeps working; throwing or rejecting callbacks
 * are reported to onError naming the callback while the endpoint keeps serving (asyncio's rule
 * for datagram endpoints); a failing connectionMade ends the endpoint; misuse throws at once;
 * bind and option failures reject createDatagramEndpoint with typed errors.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  ConnectionRefusedError,
  FrameTooLargeError,
  InvalidArgumentError,
  ListenError,
  ProtocolCallbackError,
  ProtocolFactoryError,
  SocketError,
} from '../../src/errors.js';
import {
  createDatagramEndpoint,
  DatagramProtocolBase,
  type DatagramProtocolFactory,
  type DatagramTransport,
  MAX_DATAGRAM_SIZE_IPV4,
} from '../../src/udp/index.js';
import {
  closeAll,
  errorSink,
  grammarViolations,
  loopbackEndpoint,
  RecordingDatagramProtocol,
} from './udp-support.js';

const opened: DatagramTransport[] = [];
after(() => closeAll(opened));

async function pair(
  serverBehaviour: ConstructorParameters<typeof RecordingDatagramProtocol>[0] = {},
) {
  const server = await loopbackEndpoint({ echo: true, ...serverBehaviour });
  const client = await loopbackEndpoint(
    {},
    { remote: { host: '127.0.0.1', port: server.address.port } },
  );
  opened.push(server.transport, client.transport);
  return { server, client };
}

/** The error `fn` throws; fails when it does not throw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected a throw');
}

describe('errors delivered to errorReceived', () => {
  it('a 70,000-byte datagram: FrameTooLargeError, and the endpoint still works', async () => {
    const { client } = await pair();
    client.transport.sendTo(Buffer.alloc(70_000));
    const error = await client.protocol.error(1);
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.limit, MAX_DATAGRAM_SIZE_IPV4);
    assert.equal(error.size, 70_000);
    assert.equal(client.transport.isClosing(), false);
    client.transport.sendTo(Buffer.from('still here'));
    assert.equal((await client.protocol.datagram(1)).data.toString(), 'still here');
    assert.deepEqual(grammarViolations(client.protocol.events, false), []);
  });

  it('draws the line exactly at 65,507 bytes', async () => {
    const { client } = await pair();
    client.transport.sendTo(Buffer.alloc(MAX_DATAGRAM_SIZE_IPV4 + 1));
    client.transport.sendTo(Buffer.alloc(MAX_DATAGRAM_SIZE_IPV4));
    assert.equal((await client.protocol.datagram(1)).data.length, MAX_DATAGRAM_SIZE_IPV4);
    assert.equal(client.protocol.errors().length, 1);
  });

  it('reports an oversized send after the call returns, not inside it', async () => {
    const { client } = await pair();
    client.transport.sendTo(Buffer.alloc(70_000));
    assert.equal(client.protocol.errors().length, 0);
    await client.protocol.error(1);
  });

  it('a send the OS refuses: SocketError with its errno', async () => {
    const { transport, protocol } = await loopbackEndpoint();
    opened.push(transport);
    transport.sendTo(Buffer.from('x'), { address: '::1', port: 9 }); // IPv6 from an IPv4 socket
    const error = await protocol.error(1);
    assert.ok(error instanceof SocketError, String(error));
    assert.equal(typeof error.errno, 'string');
    assert.equal(transport.isClosing(), false);
  });

  it('a connected endpoint whose peer is not listening: ConnectionRefusedError', async () => {
    const closed = await loopbackEndpoint();
    const port = closed.address.port;
    await closeAll([closed.transport]);
    const client = await loopbackEndpoint({}, { remote: { host: '127.0.0.1', port } });
    opened.push(client.transport);
    client.transport.sendTo(Buffer.from('anyone?'));
    const error = await client.protocol.error(1);
    assert.ok(error instanceof ConnectionRefusedError, String(error));
    assert.match(error.address, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.equal(client.transport.isClosing(), false);
  });

  it('a protocol without errorReceived: the error goes to onError', async () => {
    const sink = errorSink();
    const [transport] = await createDatagramEndpoint(() => ({}), {
      host: '127.0.0.1',
      onError: sink.onError,
    });
    opened.push(transport);
    transport.sendTo(Buffer.alloc(70_000), { address: '127.0.0.1', port: 9 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(sink.errors.length, 1);
    assert.ok(sink.errors[0]!.error instanceof FrameTooLargeError);
    assert.equal(sink.errors[0]!.context.operation, 'errorReceived');
    assert.equal(sink.errors[0]!.context.transport, transport);
  });

  it('DatagramProtocolBase ignores errors, as asyncio does', async () => {
    const sink = errorSink();
    const [transport] = await createDatagramEndpoint(() => new DatagramProtocolBase(), {
      host: '127.0.0.1',
      onError: sink.onError,
    });
    opened.push(transport);
    transport.sendTo(Buffer.alloc(70_000), { address: '127.0.0.1', port: 9 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(sink.errors, []);
  });
});

describe('guarded callbacks', () => {
  it('datagramReceived throws: reported to onError, the next datagram is served', async () => {
    let calls = 0;
    const { server, client } = await pair({
      onDatagram: () => {
        calls++;
        if (calls === 1) throw new Error('bad datagram');
      },
    });
    client.transport.sendTo(Buffer.from('one'));
    client.transport.sendTo(Buffer.from('two'));
    await client.protocol.datagram(2);
    assert.equal(server.errors.length, 1);
    const { error, context } = server.errors[0]!;
    assert.ok(error instanceof ProtocolCallbackError);
    assert.equal(error.callback, 'datagramReceived');
    assert.equal((error.cause as Error).message, 'bad datagram');
    assert.equal(context.operation, 'datagramReceived');
    assert.equal(server.transport.isClosing(), false);
  });

  it('datagramReceived rejects: reported, serving goes on', async () => {
    const { server, client } = await pair({ onDatagram: () => Promise.reject(new Error('later')) });
    client.transport.sendTo(Buffer.from('a'));
    client.transport.sendTo(Buffer.from('b'));
    await client.protocol.datagram(2);
    await server.protocol.until(() => server.errors.length === 2);
    for (const { error } of server.errors) {
      assert.ok(error instanceof ProtocolCallbackError && error.callback === 'datagramReceived');
    }
  });

  it('errorReceived throws: reported as errorReceived, the endpoint stays', async () => {
    const sink = errorSink();
    const [transport, protocol] = await createDatagramEndpoint(
      () =>
        new RecordingDatagramProtocol({
          onError: () => {
            throw new Error('oops');
          },
        }),
      { host: '127.0.0.1', onError: sink.onError },
    );
    opened.push(transport);
    transport.sendTo(Buffer.alloc(70_000), { address: '127.0.0.1', port: 9 });
    await protocol.error(1);
    assert.equal(sink.errors.length, 1);
    assert.ok(sink.errors[0]!.error instanceof ProtocolCallbackError);
    assert.equal((sink.errors[0]!.error as ProtocolCallbackError).callback, 'errorReceived');
    assert.equal(transport.isClosing(), false);
  });

  it('connectionLost throws: reported, and the endpoint is still closed once', async () => {
    const sink = errorSink();
    let lost = 0;
    const [transport] = await createDatagramEndpoint(
      () =>
        new RecordingDatagramProtocol({
          onLost: () => {
            lost++;
            throw new Error('in lost');
          },
        }),
      { host: '127.0.0.1', onError: sink.onError },
    );
    transport.close();
    transport.close();
    await transport.waitClosed();
    assert.equal(lost, 1);
    assert.equal((sink.errors[0]!.error as ProtocolCallbackError).callback, 'connectionLost');
  });

  it('connectionMade throws: the endpoint ends, connectionLost gets the error', async () => {
    const sink = errorSink();
    const [transport, protocol] = await createDatagramEndpoint(
      () =>
        new RecordingDatagramProtocol({
          onMade: () => {
            throw new Error('no setup');
          },
        }),
      { host: '127.0.0.1', onError: sink.onError },
    );
    assert.equal(transport.isClosing(), true);
    await transport.waitClosed();
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
    const last = protocol.events.at(-1);
    assert.ok(last?.kind === 'lost' && last.error instanceof ProtocolCallbackError);
    assert.equal((last.error as ProtocolCallbackError).callback, 'connectionMade');
    assert.equal(sink.errors.length, 1);
  });

  it('connectionMade rejects: the endpoint ends the same way', async () => {
    const [transport, protocol] = await createDatagramEndpoint(
      () => new RecordingDatagramProtocol({ onMade: () => Promise.reject(new Error('async')) }),
      { host: '127.0.0.1', onError: () => {} },
    );
    await transport.waitClosed();
    const last = protocol.events.at(-1);
    assert.ok(last?.kind === 'lost' && last.error instanceof ProtocolCallbackError);
  });

  it('a throwing onError does not take the endpoint down', async () => {
    const server = await loopbackEndpoint(
      {
        echo: true,
        onDatagram: () => {
          throw new Error('x');
        },
      },
      {
        onError: () => {
          throw new Error('hook');
        },
      },
    );
    opened.push(server.transport);
    const client = await loopbackEndpoint(
      {},
      { remote: { host: '127.0.0.1', port: server.address.port } },
    );
    opened.push(client.transport);
    client.transport.sendTo(Buffer.from('1'));
    client.transport.sendTo(Buffer.from('2'));
    await client.protocol.datagram(2);
  });
});

describe('misuse, thrown at once', () => {
  it('sendTo: not bytes, no address, a bad port, another peer than remote', async () => {
    const { transport } = await loopbackEndpoint();
    opened.push(transport);
    const bad: [unknown, unknown][] = [
      ['text', { address: '127.0.0.1', port: 9 }],
      [Buffer.from('x'), undefined],
      [Buffer.from('x'), { address: '127.0.0.1', port: 0 }],
      [Buffer.from('x'), { address: '127.0.0.1', port: 65536 }],
      [Buffer.from('x'), { address: '', port: 9 }],
      [Buffer.from('x'), 'localhost:9'],
    ];
    for (const [data, address] of bad) {
      const error = thrown(() =>
        transport.sendTo(data as Uint8Array, address as { address: string; port: number }),
      );
      assert.ok(
        error instanceof InvalidArgumentError,
        `${String(data)} ${JSON.stringify(address)}`,
      );
    }
    const { client, server } = await pair();
    const other = { address: '127.0.0.1', port: server.address.port + 1 };
    assert.ok(
      thrown(() => client.transport.sendTo(Buffer.from('x'), other)) instanceof
        InvalidArgumentError,
    );
  });

  it('createDatagramEndpoint: bad factory, bad options', async () => {
    const factory = () => new DatagramProtocolBase();
    await assert.rejects(
      createDatagramEndpoint(undefined as unknown as DatagramProtocolFactory),
      InvalidArgumentError,
    );
    for (const options of [
      { port: -1 },
      { port: 70_000 },
      { host: '' },
      { remote: { host: '127.0.0.1', port: 0 } },
      { remote: { host: '', port: 9 } },
    ]) {
      await assert.rejects(
        createDatagramEndpoint(factory, options as object),
        InvalidArgumentError,
      );
    }
    await assert.rejects(
      createDatagramEndpoint(factory, { host: '127.0.0.1', remote: { host: '::1', port: 9 } }),
      InvalidArgumentError,
    );
  });

  it('a factory that throws: ProtocolFactoryError', async () => {
    await assert.rejects(
      createDatagramEndpoint(() => {
        throw new Error('factory');
      }),
      ProtocolFactoryError,
    );
  });
});

describe('binding', () => {
  it('a port in use: ListenError EADDRINUSE; with reuseAddr on both, both bind', async () => {
    const first = await loopbackEndpoint();
    opened.push(first.transport);
    const error = await createDatagramEndpoint(() => new DatagramProtocolBase(), {
      host: '127.0.0.1',
      port: first.address.port,
    }).then(
      () => assert.fail('bound twice'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ListenError);
    assert.equal(error.errno, 'EADDRINUSE');
    assert.equal(error.address, `127.0.0.1:${first.address.port}`);

    const shared = await loopbackEndpoint({}, { reuseAddr: true });
    opened.push(shared.transport);
    const again = await loopbackEndpoint({}, { reuseAddr: true, port: shared.address.port });
    opened.push(again.transport);
    assert.equal(again.address.port, shared.address.port);
  });

  it('broadcast: a broadcast send is refused (EACCES) without it, allowed with it', async () => {
    const everywhere = { address: '255.255.255.255', port: 9 };
    for (const broadcast of [false, true]) {
      const [transport, protocol] = await createDatagramEndpoint(
        () => new RecordingDatagramProtocol(),
        { broadcast },
      );
      opened.push(transport);
      transport.sendTo(Buffer.from('anyone?'), everywhere);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = protocol
        .errors()
        .filter((error) => error instanceof SocketError && error.errno === 'EACCES');
      // With broadcast on, a host without a route may still say ENETUNREACH: only EACCES counts.
      assert.equal(refused.length, broadcast ? 0 : 1, `broadcast: ${broadcast}`);
    }
  });

  it('an aborted signal cancels the creation', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await createDatagramEndpoint(() => new DatagramProtocolBase(), {
      host: '127.0.0.1',
      signal: controller.signal,
    }).then(
      () => assert.fail('created'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ListenError && error.errno === 'ABORT_ERR');
  });
});
