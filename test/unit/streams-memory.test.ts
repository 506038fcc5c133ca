/**
 * The stream API on `aionet/testing`'s memory transport, which runs the same state machine as the
 * `net` backend: every split family through the real `dataReceived` path, drain() at the exact
 * high- and low-water edges, a peer reset, reader flow control seen as a socket that stops
 * reading, and a reader/writer pair talking to another in memory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionResetError } from '../../src/errors.js';
import { StreamReader } from '../../src/streams/reader.js';
import { StreamReaderProtocol } from '../../src/streams/stream-protocol.js';
import type { StreamWriter } from '../../src/streams/writer.js';
import { connectPair, everySplit, MemoryTransport } from '../../src/testing/index.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A stream protocol on a started memory transport; the test plays the peer. */
function streamOnMemory(limit?: number) {
  const reader = new StreamReader(limit === undefined ? {} : { limit });
  const protocol = new StreamReaderProtocol(reader);
  const transport = new MemoryTransport(protocol).start();
  const writer = protocol.writer;
  assert.ok(writer !== undefined);
  return { reader, writer, transport };
}

async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await tick();
  return !settled;
}

describe('streams on a memory transport', () => {
  it('reads the same lines for every split family, fed while the read waits', async () => {
    const input = ['PING 1\r\n', 'PING 2\n', '\n', 'tail'];
    for (const split of everySplit(input)) {
      const { reader, transport } = streamOnMemory();
      const collected = (async () => {
        const lines: string[] = [];
        for await (const line of reader.lines({ encoding: 'utf8' })) lines.push(line);
        return lines;
      })();
      for (const chunk of split.chunks) {
        await tick();
        transport.receive(chunk);
      }
      transport.receiveEof();
      assert.deepEqual(await collected, ['PING 1', 'PING 2', '', 'tail'], split.label);
    }
  });

  it('drain() blocks strictly over the high-water mark and releases at the low one', async () => {
    const { writer, transport } = streamOnMemory();
    transport.setWriteBufferLimits({ high: 100, low: 40 });
    transport.peerStopsReading();
    writer.write(Buffer.alloc(100));
    assert.equal(await isPending(writer.drain()), false, 'exactly high: not over it');
    writer.write(Buffer.alloc(1));
    const drained = writer.drain();
    assert.equal(await isPending(drained), true, 'high + 1: drain() waits');
    transport.peerReads(60);
    assert.equal(await isPending(drained), true, '41 bytes left: over the low-water mark');
    transport.peerReads(1);
    assert.equal(await isPending(drained), false, '40 bytes left: resumed');
    await drained;
  });

  it('a peer reset rejects the pending read, drain() and waitClosed()', async () => {
    const { reader, writer, transport } = streamOnMemory();
    transport.setWriteBufferLimits({ high: 10 });
    transport.peerStopsReading();
    writer.write(Buffer.alloc(11));
    const draining = writer.drain();
    const reading = reader.readLine();
    transport.receive('half a line');
    transport.reset();
    await assert.rejects(reading, ConnectionResetError);
    await assert.rejects(draining, ConnectionResetError);
    await assert.rejects(writer.waitClosed(), ConnectionResetError);
  });

  it('stops the socket reading over twice the limit, and restarts it as reads drain', async () => {
    const { reader, transport } = streamOnMemory(4);
    transport.receive('12345678');
    assert.equal(transport.reading, true);
    transport.receive('9');
    assert.equal(transport.reading, false);
    transport.receive('abc');
    assert.equal((await reader.read(5)).toString(), '12345', 'held bytes stay in the socket');
    assert.equal(transport.reading, true, '4 bytes left: reading again');
    assert.equal((await reader.read(100)).toString(), '6789abc');
  });

  it('writer.close() flushes, sends FIN, and waitClosed() resolves', async () => {
    const { writer, transport } = streamOnMemory();
    writer.write('bye\n');
    writer.close();
    await writer.waitClosed();
    assert.equal(transport.written().toString(), 'bye\n');
    assert.equal(transport.eofWritten, true);
  });

  it('connects a reader/writer pair to another, half-close included', async () => {
    let server: [StreamReader, StreamWriter] | undefined;
    const clientReader = new StreamReader();
    const clientProtocol = new StreamReaderProtocol(clientReader);
    connectPair(
      clientProtocol,
      new StreamReaderProtocol(new StreamReader(), (reader, writer) => {
        server = [reader, writer];
      }),
    );
    const clientWriter = clientProtocol.writer;
    assert.ok(server !== undefined && clientWriter !== undefined);
    const [serverReader, serverWriter] = server;

    clientWriter.write('question?');
    clientWriter.writeEof();
    assert.equal((await serverReader.read()).toString(), 'question?');
    serverWriter.write('answer.');
    serverWriter.close();
    assert.equal((await clientReader.read()).toString(), 'answer.');
    clientWriter.close();
    await Promise.all([clientWriter.waitClosed(), serverWriter.waitClosed()]);
  });
});
