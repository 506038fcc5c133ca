/**
 * UDP on loopback: datagrams of every size from 0 to 4 KiB and at the IPv4 maximum echoed
 * byte for byte, boundaries kept; the chapter's DatagramMessageProtocol answering each sender;
 * IPv6 (::1) when the machine has it; and a 10,000-datagram ping-pong with zero loss.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createDatagramEndpoint,
  DatagramMessageProtocol,
  type DatagramTransport,
  MAX_DATAGRAM_SIZE_IPV4,
} from '../../src/udp/index.js';
import {
  closeAll,
  grammarViolations,
  loopbackEndpoint,
  RecordingDatagramProtocol,
} from './udp-support.js';

const opened: DatagramTransport[] = [];
after(() => closeAll(opened));

/** A byte pattern that differs per size, so a reply of the wrong datagram shows. */
function payload(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + size) & 0xff;
  return bytes;
}

async function echoPair() {
  const server = await loopbackEndpoint({ echo: true });
  const client = await loopbackEndpoint(
    {},
    { remote: { host: '127.0.0.1', port: server.address.port } },
  );
  opened.push(server.transport, client.transport);
  return { server, client };
}

describe('echo on 127.0.0.1', () => {
  it('echoes every size from 0 to 4096 bytes, one datagram each, in order', async () => {
    const { server, client } = await echoPair();
    const sizes = Array.from({ length: 4097 }, (_, i) => i);
    // A window of datagrams in flight keeps the run short; 8 of 4 KiB stay far under the
    // default receive buffer (about 208 KiB on Linux), past which even loopback drops.
    const WINDOW = 8;
    for (let start = 0; start < sizes.length; start += WINDOW) {
      const batch = sizes.slice(start, start + WINDOW);
      for (const size of batch) client.transport.sendTo(payload(size));
      await client.protocol.datagram(start + batch.length);
    }
    const received = client.protocol.datagrams();
    assert.equal(received.length, sizes.length);
    received.forEach(({ data, address }, i) => {
      assert.equal(data.length, i, `datagram #${i}`);
      assert.ok(data.equals(payload(i)), `datagram #${i} content`);
      assert.deepEqual(address, server.address);
    });
    assert.deepEqual(client.protocol.errors(), []);
    assert.deepEqual(server.errors, []);
  });

  it('echoes a datagram of the IPv4 maximum, 65,507 bytes', async () => {
    const { client } = await echoPair();
    const big = payload(MAX_DATAGRAM_SIZE_IPV4);
    client.transport.sendTo(big);
    const { data } = await client.protocol.datagram(1);
    assert.ok(data.equals(big));
  });

  it('keeps the call grammar through close', async () => {
    const { server, client } = await echoPair();
    client.transport.sendTo(Buffer.from('ping'));
    await client.protocol.datagram(1);
    await closeAll([client.transport, server.transport]);
    assert.deepEqual(grammarViolations(client.protocol.events), []);
    assert.deepEqual(grammarViolations(server.protocol.events), []);
    assert.deepEqual(client.protocol.kinds(), ['made', 'datagram', 'lost']);
  });
});

describe('DatagramMessageProtocol', () => {
  it('answers every datagram of every sender with "Message received"', async () => {
    const lines: string[] = [];
    const [server] = await createDatagramEndpoint(
      () => new DatagramMessageProtocol({ print: (line) => lines.push(line) }),
      { host: '127.0.0.1', port: 0 },
    );
    opened.push(server);
    const port = server.getExtraInfo('sockname')!.port;
    const alice = await loopbackEndpoint({}, { remote: { host: '127.0.0.1', port } });
    const bob = await loopbackEndpoint({}, { remote: { host: '127.0.0.1', port } });
    opened.push(alice.transport, bob.transport);
    alice.transport.sendTo(Buffer.from('hello'));
    bob.transport.sendTo(Buffer.from(''));
    alice.transport.sendTo(Buffer.from('again'));
    await alice.protocol.datagram(2);
    await bob.protocol.datagram(1);
    for (const { data } of [...alice.protocol.datagrams(), ...bob.protocol.datagrams()]) {
      assert.equal(data.toString(), 'Message received');
    }
    assert.deepEqual(lines, ['Data received', 'Data received', 'Data received']);
  });

  it('takes another reply, as bytes or text', async () => {
    const [server] = await createDatagramEndpoint(
      () => new DatagramMessageProtocol({ reply: Uint8Array.of(1, 2, 3) }),
      { host: '127.0.0.1' },
    );
    opened.push(server);
    const client = await loopbackEndpoint(
      {},
      { remote: { host: '127.0.0.1', port: server.getExtraInfo('sockname')!.port } },
    );
    opened.push(client.transport);
    client.transport.sendTo(Buffer.from('x'));
    assert.deepEqual((await client.protocol.datagram(1)).data, Buffer.of(1, 2, 3));
  });
});

describe('IPv6', () => {
  it('echoes over ::1 when the machine has IPv6', async (t) => {
    let server: Awaited<ReturnType<typeof loopbackEndpoint>>;
    try {
      server = await loopbackEndpoint({ echo: true }, { host: '::1' });
    } catch (error) {
      t.skip(`no IPv6 loopback here: ${(error as Error).message}`);
      return;
    }
    opened.push(server.transport);
    assert.equal(server.address.family, 'IPv6');
    assert.equal(server.address.address, '::1');
    const client = await loopbackEndpoint(
      {},
      { host: '::1', remote: { host: '::1', port: server.address.port } },
    );
    opened.push(client.transport);
    client.transport.sendTo(payload(1000));
    const { data, address } = await client.protocol.datagram(1);
    assert.ok(data.equals(payload(1000)));
    assert.deepEqual(address, server.address);
    const peer = server.protocol.datagrams()[0]!.address;
    assert.equal(peer.family, 'IPv6');
    assert.equal(peer.address, '::1');
  });
});

describe('ping-pong', () => {
  it('bounces 10,000 datagrams with zero loss, in order, within seconds', async () => {
    const COUNT = 10_000;
    const server = await loopbackEndpoint({ echo: true });
    opened.push(server.transport);
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    let next = 0;
    const send = (transport: DatagramTransport) => {
      const bytes = Buffer.allocUnsafe(4);
      bytes.writeUInt32BE(next);
      transport.sendTo(bytes);
    };
    const [client, protocol] = await createDatagramEndpoint(
      () =>
        new RecordingDatagramProtocol({
          onMade: (transport) => send(transport),
          onDatagram: (data, _address, transport) => {
            assert.equal(data.readUInt32BE(0), next, 'replies come back in order, none lost');
            next++;
            if (next === COUNT) done();
            else send(transport);
          },
        }),
      { remote: { host: '127.0.0.1', port: server.address.port } },
    );
    opened.push(client);
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      finished,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stalled at ${next}`)), 10_000);
      }),
    ]);
    clearTimeout(timer);
    const elapsed = performance.now() - started;
    assert.equal(next, COUNT);
    assert.equal(protocol.datagrams().length, COUNT);
    assert.deepEqual(protocol.errors(), []);
    assert.ok(elapsed < 10_000, `took ${elapsed.toFixed(0)} ms`);
  });
});
