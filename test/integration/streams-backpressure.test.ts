/**
 * drain() under a peer that stops reading, on real loopback sockets: the server writes until
 * drain() blocks; drain() stays pending while the peer does not read and resolves once it does,
 * and every byte arrives in order. Both ways of stopping: the client pausing its transport, and
 * the client's StreamReader pausing it by itself once its buffer is over twice its limit.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Server } from '../../src/server.js';
import { openConnection } from '../../src/streams/open-connection.js';
import { startServer } from '../../src/streams/start-server.js';
import type { StreamWriter } from '../../src/streams/writer.js';

/** Bytes per write: a quarter of the default high-water mark, so several writes pass first. */
const CHUNK_SIZE = 16 * 1024;
/** How long a drain() must stay pending to count as blocked, in ms. */
const BLOCKED_MS = 100;
/** How long it must then stay blocked while the peer still does not read, in ms. */
const STILL_BLOCKED_MS = 300;
/** Give up writing after this many bytes: the kernel buffers on loopback are far smaller. */
const MAX_BYTES = 64 * 1024 * 1024;

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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Byte `i` of the stream: a pattern whose period (251) is prime to the chunk size. */
function chunkAt(offset: number): Buffer {
  const chunk = Buffer.allocUnsafe(CHUNK_SIZE);
  for (let i = 0; i < CHUNK_SIZE; i += 1) chunk[i] = (offset + i) % 251;
  return chunk;
}

interface Writing {
  /** Resolves with the bytes written when a drain() has been pending for BLOCKED_MS. */
  readonly blocked: Promise<number>;
  /** Resolves when that drain() resolves. */
  readonly drained: Promise<void>;
  /** Whether that drain() has resolved. */
  readonly isDrained: () => boolean;
  /** Bytes buffered in the server's transport when the drain blocked. */
  readonly bufferedWhenBlocked: () => number;
  readonly highWaterMark: () => number;
}

/** A server that writes until drain() blocks, then waits for it, then closes. */
async function blockingWriter(): Promise<{ port: number; writing: Writing }> {
  let reportBlocked!: (written: number) => void;
  let neverBlocked!: (error: Error) => void;
  let reportDrained!: () => void;
  const blocked = new Promise<number>((resolve, reject) => {
    reportBlocked = resolve;
    neverBlocked = reject;
  });
  const drained = new Promise<void>((resolve) => {
    reportDrained = resolve;
  });
  let isDrained = false;
  let buffered = 0;
  let high = 0;
  const server = await startServer(
    async (_reader, writer) => {
      high = writer.transport.getWriteBufferLimits().high;
      let written = 0;
      while (written < MAX_BYTES) {
        writer.write(chunkAt(written));
        written += CHUNK_SIZE;
        const drain = writer.drain();
        const first = await Promise.race([drain.then(() => 'drained'), sleep(BLOCKED_MS)]);
        if (first === 'drained') continue;
        buffered = writer.transport.getWriteBufferSize();
        reportBlocked(written);
        await drain;
        isDrained = true;
        reportDrained();
        return;
      }
      neverBlocked(new Error(`drain() never blocked in ${MAX_BYTES} bytes`));
    },
    { host: '127.0.0.1', port: 0 },
  );
  servers.push(server);
  const address = server.addresses()[0];
  assert.ok(address !== undefined && address.family !== 'unix');
  return {
    port: address.port,
    writing: {
      blocked,
      drained,
      isDrained: () => isDrained,
      bufferedWhenBlocked: () => buffered,
      highWaterMark: () => high,
    },
  };
}

/** Reads exactly `total` bytes and checks the pattern. */
async function readPattern(read: (n: number) => Promise<Buffer>, total: number): Promise<void> {
  let offset = 0;
  while (offset < total) {
    const part = await read(Math.min(64 * 1024, total - offset));
    assert.ok(part.length > 0, `EOF after ${offset} of ${total} bytes`);
    for (let i = 0; i < part.length; i += 1) {
      if (part[i] !== (offset + i) % 251) assert.fail(`byte ${offset + i} is wrong`);
    }
    offset += part.length;
  }
}

describe('drain() under a peer that stops reading', () => {
  it('stays pending while the client pauses reading, and resolves once it reads', async () => {
    const { port, writing } = await blockingWriter();
    const [reader, writer] = await openConnection({ host: '127.0.0.1', port });
    writers.push(writer);
    writer.transport.pauseReading();

    const written = await writing.blocked;
    assert.ok(
      writing.bufferedWhenBlocked() > writing.highWaterMark(),
      'blocked because the buffer is over the high-water mark',
    );
    await sleep(STILL_BLOCKED_MS);
    assert.equal(writing.isDrained(), false, 'drain() waits while the peer does not read');

    writer.transport.resumeReading();
    await readPattern((n) => reader.read(n), written);
    await writing.drained;
    assert.equal((await reader.read()).length, 0, 'the handler returned: EOF');
    writer.close();
    await writer.waitClosed();
  });

  it("is held back by the client reader's own flow control, and released by its reads", async () => {
    const { port, writing } = await blockingWriter();
    const limit = 1024;
    const [reader, writer] = await openConnection({ host: '127.0.0.1', port, limit });
    writers.push(writer);

    const written = await writing.blocked;
    await sleep(STILL_BLOCKED_MS);
    assert.equal(writing.isDrained(), false, 'drain() waits while the reader does not read');
    assert.equal(writer.transport.isReading(), false, 'the reader paused its transport');

    await readPattern((n) => reader.read(n), written);
    await writing.drained;
    writer.close();
    await writer.waitClosed();
  });
});
