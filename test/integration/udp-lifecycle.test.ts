/**
 * A UDP endpoint's life on loopback: close lets queued datagrams leave, then connectionLost
 * exactly once; abort ends it at once; nothing is delivered or sent after either; the signal
 * closes it; getWriteBufferSize counts bytes in flight; getExtraInfo; connected mode (`remote`).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { createDatagramEndpoint, type DatagramTransport } from '../../src/udp/index.js';
import {
  closeAll,
  grammarViolations,
  loopbackEndpoint,
  RecordingDatagramProtocol,
} from './udp-support.js';

const opened: DatagramTransport[] = [];
after(() => closeAll(opened));

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('close and abort', () => {
  it('close: connectionLost once, without an error; close and abort again are no-ops', async () => {
    const { transport, protocol } = await loopbackEndpoint();
    assert.equal(transport.isClosing(), false);
    transport.close();
    assert.equal(transport.isClosing(), true);
    transport.close();
    transport.abort();
    await transport.waitClosed();
    transport.close();
    transport.abort();
    await delay(10);
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
    assert.equal(
      protocol.events.at(-1)?.kind === 'lost' && protocol.events.at(-1),
      protocol.events[1],
    );
    const lost = protocol.events[1];
    assert.ok(lost?.kind === 'lost' && lost.error === undefined);
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('close lets every queued datagram leave first', async () => {
    const sink = await loopbackEndpoint();
    opened.push(sink.transport);
    const { transport, protocol } = await loopbackEndpoint(
      {},
      { remote: { host: '127.0.0.1', port: sink.address.port } },
    );
    for (let i = 0; i < 100; i++) transport.sendTo(Buffer.from(`datagram ${i}`));
    transport.close();
    await transport.waitClosed();
    await sink.protocol.datagram(100);
    assert.deepEqual(
      sink.protocol.datagrams().map(({ data }) => data.toString()),
      Array.from({ length: 100 }, (_, i) => `datagram ${i}`),
    );
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
    assert.equal(transport.getWriteBufferSize(), 0);
  });

  it('abort: connectionLost once, at once, without an error', async () => {
    const { transport, protocol } = await loopbackEndpoint();
    transport.sendTo(Buffer.alloc(1000), { address: '127.0.0.1', port: 9 });
    transport.abort();
    transport.abort();
    await transport.waitClosed();
    await delay(10);
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
    assert.deepEqual(grammarViolations(protocol.events), []);
  });

  it('delivers nothing after close, and drops what is sent after it', async () => {
    const server = await loopbackEndpoint();
    const client = await loopbackEndpoint(
      {},
      { remote: { host: '127.0.0.1', port: server.address.port } },
    );
    opened.push(client.transport);
    server.transport.close();
    client.transport.sendTo(Buffer.from('too late'));
    assert.doesNotThrow(() =>
      server.transport.sendTo(Buffer.from('x'), { address: '127.0.0.1', port: 9 }),
    );
    assert.doesNotThrow(() =>
      server.transport.sendTo(Buffer.alloc(70_000), { address: '127.0.0.1', port: 9 }),
    );
    await server.transport.waitClosed();
    await delay(20);
    assert.deepEqual(server.protocol.kinds(), ['made', 'lost']);
  });

  it('still checks its arguments after close: misuse is misuse', async () => {
    const { transport } = await loopbackEndpoint();
    transport.close();
    assert.throws(() => transport.sendTo(Buffer.from('x')), /needs an address/);
    await transport.waitClosed();
  });

  it('the signal closes the endpoint', async () => {
    const controller = new AbortController();
    const { transport, protocol } = await loopbackEndpoint({}, { signal: controller.signal });
    controller.abort();
    await transport.waitClosed();
    assert.deepEqual(protocol.kinds(), ['made', 'lost']);
  });
});

describe('what the transport tells', () => {
  it('getWriteBufferSize counts bytes handed to sendTo until their send completes', async () => {
    const { transport } = await loopbackEndpoint();
    opened.push(transport);
    assert.equal(transport.getWriteBufferSize(), 0);
    transport.sendTo(Buffer.alloc(1000), { address: '127.0.0.1', port: 9 });
    transport.sendTo(Buffer.alloc(24), { address: '127.0.0.1', port: 9 });
    assert.equal(transport.getWriteBufferSize(), 1024);
    await delay(20);
    assert.equal(transport.getWriteBufferSize(), 0);
  });

  it('getExtraInfo: sockname, peername when connected, the dgram socket', async () => {
    const server = await loopbackEndpoint();
    opened.push(server.transport);
    assert.deepEqual(server.transport.getExtraInfo('sockname'), server.address);
    assert.equal(server.address.family, 'IPv4');
    assert.equal(server.address.address, '127.0.0.1');
    assert.ok(server.address.port > 0);
    assert.equal(server.transport.getExtraInfo('peername'), undefined);
    assert.ok(server.transport.getExtraInfo('socket') instanceof dgram.Socket);
    const client = await loopbackEndpoint(
      {},
      { remote: { host: '127.0.0.1', port: server.address.port } },
    );
    opened.push(client.transport);
    assert.deepEqual(client.transport.getExtraInfo('peername'), server.address);
    assert.equal(client.transport.getProtocol(), client.protocol);
  });

  it('binds every IPv4 interface by default, and a host name to its first address', async () => {
    const [any] = await createDatagramEndpoint(() => new RecordingDatagramProtocol());
    opened.push(any);
    assert.equal(any.getExtraInfo('sockname')?.address, '0.0.0.0');
    const [named] = await createDatagramEndpoint(() => new RecordingDatagramProtocol(), {
      host: 'localhost',
    });
    opened.push(named);
    assert.ok(['127.0.0.1', '::1'].includes(named.getExtraInfo('sockname')?.address ?? ''));
  });

  it('keeps sockname after close', async () => {
    const { transport, address } = await loopbackEndpoint();
    transport.close();
    await transport.waitClosed();
    assert.deepEqual(transport.getExtraInfo('sockname'), address);
  });
});

describe('connected mode (remote)', () => {
  it('sends without an address, or with the remote given as its address or its name', async () => {
    const server = await loopbackEndpoint({ echo: true });
    opened.push(server.transport);
    const [client, protocol] = await createDatagramEndpoint(() => new RecordingDatagramProtocol(), {
      remote: { host: 'localhost', port: server.address.port },
      host: '127.0.0.1',
    });
    opened.push(client);
    client.sendTo(Buffer.from('1'));
    client.sendTo(Buffer.from('2'), { address: '127.0.0.1', port: server.address.port });
    client.sendTo(Buffer.from('3'), { address: 'localhost', port: server.address.port });
    await protocol.datagram(3);
    assert.deepEqual(
      protocol.datagrams().map(({ data }) => data.toString()),
      ['1', '2', '3'],
    );
  });

  it('binds the remote’s family when no host is given; sockname is the route’s address', async () => {
    const server = await loopbackEndpoint({ echo: true });
    opened.push(server.transport);
    const client = await createDatagramEndpoint(() => new RecordingDatagramProtocol(), {
      remote: { host: '127.0.0.1', port: server.address.port },
    });
    opened.push(client[0]);
    // Bound to 0.0.0.0, then connect() fixed the local address to the one routing to the peer.
    const sockname = client[0].getExtraInfo('sockname');
    assert.equal(sockname?.family, 'IPv4');
    assert.equal(sockname?.address, '127.0.0.1');
  });

  it('hears only its peer', async () => {
    const server = await loopbackEndpoint();
    opened.push(server.transport);
    const client = await loopbackEndpoint(
      {},
      { remote: { host: '127.0.0.1', port: server.address.port } },
    );
    opened.push(client.transport);
    const stranger = await loopbackEndpoint();
    opened.push(stranger.transport);
    stranger.transport.sendTo(Buffer.from('not for you'), client.address);
    server.transport.sendTo(Buffer.from('for you'), client.address);
    const { data } = await client.protocol.datagram(1);
    assert.equal(data.toString(), 'for you');
    await delay(20);
    assert.equal(client.protocol.datagrams().length, 1);
  });
});
