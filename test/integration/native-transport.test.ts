/**
 * The native transport on loopback, where it differs from `net` inside: several events of one
 * wake-up handled as one batch, a socket slot reused within a batch, reads straight into a
 * BufferedProtocol's buffer, and the engine's own write queue. The contracts themselves are
 * checked on both backends by core-server.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createConnection } from '../../src/create-connection.js';
import { createServer } from '../../src/create-server.js';
import { ConnectError, ConnectionRefusedError, ConnectionResetError } from '../../src/errors.js';
import { nativeLoop } from '../../src/native/loop.js';
import { NativeTransport } from '../../src/native/native-transport.js';
import type { ServerOptions } from '../../src/options.js';
import type { Transport } from '../../src/transport.js';
import { delay, RawClient, until } from '../helpers/net.js';
import {
  BufferedRecordingProtocol,
  FlowRecordingProtocol,
  grammarViolations,
  RecordingProtocol,
} from '../helpers/recording-protocol.js';
import { nativeSkip } from '../helpers/transports.js';

const REPLY = Buffer.from('Message received');
const SLOT_MASK = (1 << 22) - 1;

async function nativeServer(
  make: (index: number) => RecordingProtocol,
  options: ServerOptions = {},
) {
  const protocols: RecordingProtocol[] = [];
  const server = await createServer(
    () => {
      const protocol = make(protocols.length);
      protocols.push(protocol);
      return protocol;
    },
    { host: '127.0.0.1', port: 0, transport: 'native', onError: () => {}, ...options },
  );
  const port = (server.addresses()[0] as { port: number }).port;
  return { server, protocols, port };
}

describe('native transport', { skip: nativeSkip }, () => {
  it('serves on its own engine: the transport is a NativeTransport with no socket object', async () => {
    const { server, protocols, port } = await nativeServer(() => new RecordingProtocol());
    const client = await RawClient.connect(port);
    await until(() => protocols.length === 1);
    const transport = protocols[0]!.transport!;
    assert.ok(transport instanceof NativeTransport);
    assert.equal(transport.getExtraInfo('socket'), undefined);
    assert.deepEqual(transport.getExtraInfo('sockname'), {
      family: 'IPv4',
      address: '127.0.0.1',
      port,
    });
    client.socket.end();
    await protocols[0]!.lost;
    await server[Symbol.asyncDispose]();
  });

  it('a reset and a new connection in one wake-up: the slot may be reused, ids never are', async () => {
    const { server, protocols, port } = await nativeServer(
      () => new RecordingProtocol({ onData: (_data, t) => t.write(REPLY) }),
    );
    const first = await RawClient.connect(port);
    await until(() => protocols.length === 1);
    const oldId = (protocols[0]!.transport as NativeTransport).id;
    // Both before the server's loop turns: the RST and the new connection land in one wake-up,
    // so the engine frees the reset socket's slot and may hand it to the accepted one.
    first.socket.resetAndDestroy();
    const second = await RawClient.connect(port);
    second.socket.write('x');
    assert.deepEqual(await second.waitFor(16), REPLY);
    assert.ok((await protocols[0]!.lost) instanceof ConnectionResetError);
    const newId = (protocols[1]!.transport as NativeTransport).id;
    assert.notEqual(newId, oldId);
    if ((newId & SLOT_MASK) === (oldId & SLOT_MASK)) {
      assert.notEqual(newId >>> 22, oldId >>> 22, 'same slot, new generation');
    }
    assert.deepEqual(protocols[0]!.kinds(), ['made', 'lost']);
    assert.deepEqual(protocols[1]!.kinds(), ['made', 'data']);
    second.socket.end();
    await protocols[1]!.lost;
    for (const p of protocols) assert.deepEqual(grammarViolations(p.events), []);
    await server[Symbol.asyncDispose]();
  });

  it('a callback that aborts another connection of the same batch', async () => {
    const transports: Transport[] = [];
    const { server, protocols, port } = await nativeServer(
      (index) =>
        new RecordingProtocol({
          onMade: (t) => void transports.push(t),
          onData: (_data, t) => {
            // Whoever reads first aborts every other connection, some of whose reads are
            // already in this batch.
            for (const other of transports) if (other !== t) other.abort();
            t.write(Buffer.from(`winner ${index}`));
          },
        }),
    );
    const clients = await Promise.all([1, 2, 3, 4].map(() => RawClient.connect(port)));
    await until(() => protocols.length === 4);
    for (const client of clients) client.socket.write('go');
    const isLost = (p: RecordingProtocol) => p.kinds().includes('lost');
    await until(() => protocols.filter(isLost).length === 3, 5000, 'three aborted');
    const winners = protocols.filter((p) => p.kinds().includes('data'));
    assert.equal(winners.length, 1, 'exactly one connection read before the rest were aborted');
    for (const p of protocols) {
      if (p !== winners[0]) assert.deepEqual(p.kinds(), ['made', 'lost']);
    }
    const winner = clients[protocols.indexOf(winners[0]!)]!;
    assert.match((await winner.waitFor(8)).toString(), /^winner \d$/);
    winner.socket.end();
    await winners[0]!.lost;
    for (const p of protocols) assert.deepEqual(grammarViolations(p.events), []);
    await server[Symbol.asyncDispose]();
  });

  for (const how of ['close', 'abort'] as const) {
    it(`${how}() inside dataReceived drops the rest of that wake-up's reads`, async () => {
      const { server, protocols, port } = await nativeServer(
        () =>
          new RecordingProtocol({
            onData: (_data, t) => {
              t.write(Buffer.from('bye'));
              t[how]();
            },
          }),
      );
      const client = await RawClient.connect(port);
      // 256 KiB at once: the engine reads it in several 64 KiB reads of one wake-up.
      client.socket.write(Buffer.alloc(256 * 1024, 1));
      const error = await client.closed;
      assert.equal(await protocols[0]!.lost, undefined);
      assert.deepEqual(protocols[0]!.kinds(), ['made', 'data', 'lost']);
      if (how === 'close') {
        assert.equal(error, undefined);
        assert.equal(client.received.toString(), 'bye');
      } else {
        // A reset drops what was in flight; Node's client may report it as an end, as on `net`.
        assert.ok(client.received.length <= 3, `got ${client.received.length} bytes`);
      }
      await server[Symbol.asyncDispose]();
    });
  }

  it('a BufferedProtocol is read straight into its own buffers', async () => {
    const protocols: BufferedRecordingProtocol[] = [];
    const server = await createServer(
      () => {
        const protocol = new BufferedRecordingProtocol({}, [7, 1000]);
        protocols.push(protocol);
        return protocol;
      },
      { host: '127.0.0.1', port: 0, transport: 'native' },
    );
    const port = (server.addresses()[0] as { port: number }).port;
    const client = await RawClient.connect(port);
    const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    client.socket.end(payload);
    await protocols[0]!.lost;
    const protocol = protocols[0]!;
    assert.deepEqual(protocol.received(), payload);
    assert.deepEqual(protocol.bufferProblems, []);
    // In place: one getBuffer per read, with the engine's read size as the hint.
    assert.ok(protocol.sizeHints.every((hint) => hint === 65536));
    assert.deepEqual(grammarViolations(protocol.events), []);
    await server[Symbol.asyncDispose]();
  });

  it('a peer that never reads: the write queue grows past high, pauses, then drains', async () => {
    const big = Buffer.alloc(256 * 1024, 2);
    const { server, protocols, port } = await nativeServer(
      () =>
        new FlowRecordingProtocol({
          onMade: (t) => {
            for (let i = 0; i < 16; i++) t.write(big);
          },
        }),
      { maxWriteBuffer: Number.POSITIVE_INFINITY },
    );
    const client = await RawClient.connect(port);
    client.socket.pause();
    await until(() => protocols[0]?.kinds().includes('pause') === true);
    const transport = protocols[0]!.transport!;
    assert.ok(transport.getWriteBufferSize() > 65536);
    await delay(50);
    client.socket.resume();
    await client.waitFor(16 * big.length, 20_000);
    await until(() => protocols[0]!.kinds().includes('resume'));
    assert.equal(transport.getWriteBufferSize(), 0);
    client.socket.end();
    await protocols[0]!.lost;
    assert.deepEqual(grammarViolations(protocols[0]!.events), []);
    await server[Symbol.asyncDispose]();
  });

  it('the safe default: a protocol without pauseWriting stops reading while the queue is full', async () => {
    // More than loopback's socket buffers absorb, so some of it stays in the engine's queue.
    const big = Buffer.alloc(256 * 1024, 3);
    const { server, protocols, port } = await nativeServer(
      () =>
        new RecordingProtocol({
          onData: (_data, t) => {
            for (let i = 0; i < 16; i++) t.write(big);
          },
        }),
      { maxWriteBuffer: Number.POSITIVE_INFINITY },
    );
    const client = await RawClient.connect(port);
    client.socket.pause();
    client.socket.write('x');
    await until(() => protocols[0]?.transport?.getWriteBufferSize() !== 0);
    // More requests while the reply is stuck: none is delivered, so no more replies pile up.
    for (let i = 0; i < 20; i++) client.socket.write('y');
    await delay(100);
    assert.deepEqual(protocols[0]!.kinds(), ['made', 'data']);
    client.socket.resume();
    await until(() => protocols[0]!.kinds().length > 2, 10_000, 'reading to resume');
    client.socket.destroy();
    await protocols[0]!.lost;
    await server[Symbol.asyncDispose]();
  });

  it('serves IPv6 and Unix sockets', async (t) => {
    const path = `/tmp/aionet-native-${process.pid}-${Date.now()}.sock`;
    const unixProtocols: RecordingProtocol[] = [];
    const unixServer = await createServer(
      () => {
        const protocol = new RecordingProtocol({ onData: (_data, tr) => tr.write(REPLY) });
        unixProtocols.push(protocol);
        return protocol;
      },
      { path, transport: 'native' },
    );
    const socket = net.connect({ path });
    const reply = await new Promise<Buffer>((resolve) => {
      socket.once('data', resolve);
      socket.write('x');
    });
    assert.deepEqual(reply, REPLY);
    socket.destroy();
    await unixProtocols[0]!.lost;
    await unixServer[Symbol.asyncDispose]();
    const v6 = await createServer(() => new RecordingProtocol(), {
      host: '::1',
      port: 0,
      transport: 'native',
    }).catch(() => undefined);
    if (v6 === undefined) {
      t.diagnostic('no ::1 here');
      return;
    }
    const port = (v6.addresses()[0] as { port: number }).port;
    const client = await RawClient.connect(port, '::1');
    client.socket.end();
    await client.closed;
    const [transport, protocol] = await createConnection(() => new RecordingProtocol(), {
      host: '::1',
      port,
      transport: 'native',
    });
    assert.deepEqual(transport.getExtraInfo('peername'), { family: 'IPv6', address: '::1', port });
    transport.close();
    await protocol.lost;
    await v6[Symbol.asyncDispose]();
  });

  it('names the peer after the connection is lost, though nobody asked while it was open', async () => {
    class PeerAtLoss extends RecordingProtocol {
      peerAtLoss: unknown = 'not called';
      override connectionLost(error?: Error): void {
        this.peerAtLoss = this.transport?.getExtraInfo('peername');
        super.connectionLost(error);
      }
    }
    const { server, protocols, port } = await nativeServer(() => new PeerAtLoss());
    // Several connections reset at once: their slots are freed in one batch while others open.
    const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(port)));
    await until(() => protocols.length === 3);
    const ports = clients.map((client) => client.socket.localPort);
    for (const client of clients) client.socket.resetAndDestroy();
    const replacement = await RawClient.connect(port);
    for (const protocol of protocols.slice(0, 3)) {
      assert.ok((await protocol.lost) instanceof ConnectionResetError);
    }
    const peers = protocols.slice(0, 3).map((p) => (p as PeerAtLoss).peerAtLoss);
    assert.deepEqual(
      peers,
      ports.map((peerPort) => ({ family: 'IPv4', address: '127.0.0.1', port: peerPort })),
    );
    replacement.socket.end();
    await server[Symbol.asyncDispose]();
  });

  it('a client connect is cancelled by its AbortSignal, and refused where nothing listens', async () => {
    const { server, port } = await nativeServer(() => new RecordingProtocol());
    const controller = new AbortController();
    controller.abort(new Error('changed my mind'));
    await assert.rejects(
      createConnection(() => new RecordingProtocol(), {
        host: '127.0.0.1',
        port,
        transport: 'native',
        signal: controller.signal,
      }),
      (error: Error) => error instanceof ConnectError && error.errno === 'ABORT_ERR',
    );
    await server[Symbol.asyncDispose]();
    await assert.rejects(
      createConnection(() => new RecordingProtocol(), {
        host: '127.0.0.1',
        port,
        transport: 'native',
      }),
      ConnectionRefusedError,
    );
  });

  it('every socket is closed once its server and connections are gone', async () => {
    const loop = nativeLoop()!;
    await until(() => loop.binding.live() === 0, 5000, 'other tests to finish');
    const { server, protocols, port } = await nativeServer(() => new RecordingProtocol());
    const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(port)));
    await until(() => protocols.length === 20);
    assert.equal(loop.binding.live(), 21);
    for (const client of clients) client.socket.end();
    await server[Symbol.asyncDispose]();
    assert.equal(loop.binding.live(), 0);
  });

  it('replies written in one batch keep their order per connection while the kernel buffer fills', async () => {
    // Every byte a client sends is answered by three 4,000-byte chunks, each stamped with its
    // number: a read of many bytes makes a batch with several writes to one connection, some
    // of which the kernel takes only in part once the client stops reading. Three clients at
    // once, so a batch also mixes connections. The replies must arrive whole and in order.
    const CHUNK = 4000;
    const REQUESTS = 400;
    const chunk = (n: number) => {
      const bytes = Buffer.alloc(CHUNK, n % 251);
      bytes.writeUInt32BE(n, 0);
      return bytes;
    };
    const { server, protocols, port } = await nativeServer(
      () => {
        let next = 0;
        return new RecordingProtocol({
          onData: (data, t) => {
            for (let i = 0; i < data.length * 3; i++) t.write(chunk(next++));
          },
        });
      },
      { maxWriteBuffer: Number.POSITIVE_INFINITY },
    );
    const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(port)));
    await until(() => protocols.length === 3);
    for (const client of clients) client.socket.pause();
    for (let i = 0; i < REQUESTS; i += 50) {
      for (const client of clients) client.socket.write(Buffer.alloc(50, 0x78));
      await delay(2);
    }
    await until(
      () => protocols.every((p) => (p.transport?.getWriteBufferSize() ?? 0) > 0),
      10_000,
      'every reply queue to hold bytes the kernel refused',
    );
    for (const client of clients) client.socket.resume();
    const size = REQUESTS * 3 * CHUNK;
    const replies = await Promise.all(clients.map((client) => client.waitFor(size, 30_000)));
    for (const reply of replies) {
      assert.equal(reply.length, size);
      for (let n = 0; n < REQUESTS * 3; n++) {
        const at = n * CHUNK;
        if (!reply.subarray(at, at + CHUNK).equals(chunk(n))) {
          assert.fail(`chunk ${n} differs (it starts with ${reply.readUInt32BE(at)})`);
        }
      }
    }
    for (const client of clients) client.socket.end();
    await Promise.all(protocols.map((p) => p.lost));
    await server[Symbol.asyncDispose]();
  });

  it('writes from a microtask or the next tick come after the replies their batch handed over', async () => {
    // A batch's replies are performed by the engine when the batch's call returns, after the
    // ticks and microtasks it set off; a write from one of those must go out after them.
    const CLIENTS = 20;
    const ROUNDS = 30;
    const sent: string[] = [];
    const { server, protocols, port } = await nativeServer((index) => {
      sent[index] = '';
      const write = (t: Transport, text: string) => {
        sent[index] += text;
        t.write(Buffer.from(text));
      };
      let n = 0;
      return new RecordingProtocol({
        onData: (data, t) => {
          for (let i = 0; i < data.length; i++, n++) {
            write(t, `a${n}.`);
            const m = n;
            queueMicrotask(() => write(t, `b${m}.`));
            process.nextTick(() => write(t, `c${m}.`));
          }
        },
      });
    });
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, () => RawClient.connect(port)),
    );
    await until(() => protocols.length === CLIENTS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const client of clients) client.socket.write('x');
      await delay(1);
    }
    await until(
      () => sent.every((text) => text.split('.').length - 1 === ROUNDS * 3),
      10_000,
      'every write made',
    );
    try {
      for (const [i, client] of clients.entries()) {
        const index = protocols.findIndex(
          (p) =>
            (p.transport?.getExtraInfo('peername') as { port: number } | undefined)?.port ===
            client.socket.localPort,
        );
        assert.ok(index >= 0, `client ${i}'s connection`);
        const expected = sent[index]!;
        const got = await client.waitFor(Buffer.byteLength(expected), 10_000);
        assert.equal(got.toString(), expected, `client ${i}`);
      }
    } finally {
      for (const client of clients) client.socket.destroy();
      await server[Symbol.asyncDispose]();
    }
  });

  it('batches reads and replies through io_uring where the kernel allows it; AIONET_IO_URING=0 turns it off', () => {
    const loop = nativeLoop()!;
    let disabled = '';
    try {
      disabled = readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim();
    } catch {
      // Kernels before 6.6 have no such switch: no expectation for this process then.
    }
    if (process.env.AIONET_IO_URING === '0') assert.equal(loop.binding.ioUring(), 0);
    else if (disabled === '0') assert.equal(loop.binding.ioUring(), 1);
    // A process started with the switch off answers on one system call per operation.
    const script = `
      import { createServer, Protocol } from './src/index.ts';
      import { nativeLoop } from './src/native/loop.ts';
      import net from 'node:net';
      class Chapter extends Protocol {
        connectionMade(t) { this.t = t; }
        dataReceived() { this.t.write(Buffer.from('Message received')); }
      }
      const server = await createServer(() => new Chapter(), { host: '127.0.0.1', port: 0, transport: 'native' });
      const socket = net.connect(server.addresses()[0].port, '127.0.0.1', () => socket.write('hello'));
      socket.on('error', () => {});
      socket.once('data', (data) => {
        console.log(nativeLoop().binding.ioUring(), data.toString());
        process.exit(0);
      });
    `;
    const output = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { env: { ...process.env, AIONET_IO_URING: '0' }, encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(output.trim(), '0 Message received');
  });
});
