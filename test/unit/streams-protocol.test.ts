/**
 * StreamReaderProtocol and StreamWriter over a fake transport: reader-side flow control at its
 * exact edges, drain() gated by pauseWriting / resumeWriting, the end of the connection reaching
 * reads, drain() and waitClosed(), and the writer's pass-throughs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionResetError, IncompleteReadError, WriteAfterEofError } from '../../src/errors.js';
import type { AnyProtocol, ProtocolCallbacks } from '../../src/protocol.js';
import { StreamReader } from '../../src/streams/reader.js';
import { StreamReaderProtocol } from '../../src/streams/stream-protocol.js';
import type { StreamWriter } from '../../src/streams/writer.js';
import type { ExtraInfo, TextEncoding, Transport, WriteBufferLimits } from '../../src/transport.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A transport that records what the protocol asks of it, and lets the test play the connection's
 * side of the grammar: connect, deliver, eof, lose, and the write-buffer pause / resume.
 */
class FakeTransport implements Transport {
  readonly written: Buffer[] = [];
  readonly calls: string[] = [];
  #protocol: ProtocolCallbacks;
  #reading = true;
  #closing = false;
  #eofWritten = false;

  constructor(protocol: ProtocolCallbacks) {
    this.#protocol = protocol;
  }

  // ---- the connection's side ----
  connect(): void {
    this.#protocol.connectionMade?.(this);
  }
  deliver(text: string): void {
    assert.ok(this.#reading, 'the fake delivers only while reading');
    this.#protocol.dataReceived?.(Buffer.from(text));
  }
  eof(): boolean {
    return this.#protocol.eofReceived?.() === true;
  }
  lose(error?: Error): void {
    this.#closing = true;
    if (error === undefined) this.#protocol.connectionLost?.();
    else this.#protocol.connectionLost?.(error);
  }
  pauseWriting(): void {
    this.#protocol.pauseWriting?.();
  }
  resumeWriting(): void {
    this.#protocol.resumeWriting?.();
  }

  // ---- the Transport contract ----
  write(data: Uint8Array): void;
  write(data: string, encoding: TextEncoding): void;
  write(data: Uint8Array | string, encoding?: TextEncoding): void {
    if (this.#eofWritten) throw new WriteAfterEofError();
    if (this.#closing) return;
    this.written.push(typeof data === 'string' ? Buffer.from(data, encoding) : Buffer.from(data));
  }
  writeLines(list: readonly Uint8Array[]): void {
    this.calls.push(`writeLines(${list.length})`);
    for (const item of list) this.write(item);
  }
  writeEof(): void {
    this.calls.push('writeEof');
    this.#eofWritten = true;
  }
  canWriteEof(): boolean {
    return true;
  }
  close(): void {
    this.calls.push('close');
    this.#closing = true;
  }
  abort(): void {
    this.calls.push('abort');
    this.#closing = true;
  }
  isClosing(): boolean {
    return this.#closing;
  }
  pauseReading(): void {
    this.calls.push('pauseReading');
    this.#reading = false;
  }
  resumeReading(): void {
    this.calls.push('resumeReading');
    this.#reading = true;
  }
  isReading(): boolean {
    return this.#reading;
  }
  setWriteBufferLimits(): void {}
  getWriteBufferLimits(): WriteBufferLimits {
    return { high: 65536, low: 16384 };
  }
  getWriteBufferSize(): number {
    return 0;
  }
  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] {
    const info: ExtraInfo = {
      peername: { family: 'IPv4', address: '192.0.2.1', port: 4242 },
      sockname: undefined,
      socket: undefined,
    };
    return info[name];
  }
  getProtocol(): AnyProtocol {
    return this.#protocol;
  }
  setProtocol(protocol: AnyProtocol): void {
    this.#protocol = protocol as ProtocolCallbacks;
  }

  get writtenText(): string {
    return Buffer.concat(this.written).toString();
  }
}

function connected(limit?: number) {
  const reader = new StreamReader(limit === undefined ? {} : { limit });
  let handed: [StreamReader, StreamWriter] | undefined;
  const protocol = new StreamReaderProtocol(reader, (r, w) => {
    handed = [r, w];
  });
  const transport = new FakeTransport(protocol);
  transport.connect();
  assert.ok(handed !== undefined, 'onConnected ran from connectionMade');
  assert.equal(handed[0], reader);
  assert.equal(protocol.writer, handed[1]);
  return { reader, writer: handed[1], transport, protocol };
}

/** Resolves with 'settled' or 'pending' after a turn of the event loop. */
async function state(promise: Promise<unknown>): Promise<'settled' | 'pending'> {
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
  return settled ? 'settled' : 'pending';
}

describe('StreamReaderProtocol: reader-side flow control', () => {
  it('pauses strictly over twice the limit and resumes at the limit or under', async () => {
    const { reader, transport } = connected(4);
    transport.deliver('12345678');
    assert.deepEqual(transport.calls, [], '8 bytes = 2 x limit: not over it yet');
    transport.deliver('9');
    assert.deepEqual(transport.calls, ['pauseReading']);
    await reader.read(4);
    assert.deepEqual(transport.calls, ['pauseReading'], '5 bytes left: still over the limit');
    await reader.read(1);
    assert.deepEqual(transport.calls, ['pauseReading', 'resumeReading'], '4 bytes left: resume');
  });

  it('resumes reading when a read must wait for more than flow control lets in', async () => {
    const { reader, transport } = connected(4);
    const big = reader.readExactly(20);
    transport.deliver('0123456789');
    assert.deepEqual(transport.calls, ['pauseReading']);
    await tick();
    assert.deepEqual(transport.calls, ['pauseReading', 'resumeReading']);
    transport.deliver('abcdefghij');
    assert.equal((await big).toString(), '0123456789abcdefghij');
  });

  it('keeps the write side open on EOF and ends the reader', async () => {
    const { reader, transport } = connected();
    transport.deliver('tail');
    assert.equal(transport.eof(), true);
    assert.equal((await reader.read()).toString(), 'tail');
    assert.equal(reader.atEof(), true);
  });
});

describe('StreamReaderProtocol: the end of the connection', () => {
  it('a fault rejects the pending read, drain() and waitClosed() with that error', async () => {
    const { reader, writer, transport } = connected();
    const pending = reader.readLine();
    transport.pauseWriting();
    const draining = writer.drain();
    const reset = new ConnectionResetError('ECONNRESET');
    transport.lose(reset);
    await assert.rejects(pending, (error) => error === reset);
    await assert.rejects(draining, (error) => error === reset);
    await assert.rejects(writer.waitClosed(), (error) => error === reset);
    await assert.rejects(writer.drain(), (error) => error === reset);
  });

  it('a clean end gives the reader EOF, resolves waitClosed() and fails drain() with EPIPE', async () => {
    const { reader, writer, transport } = connected();
    const pending = reader.readExactly(4);
    transport.deliver('ab');
    transport.pauseWriting();
    const draining = writer.drain();
    transport.lose();
    const incomplete = await pending.catch((error: unknown) => error);
    assert.ok(incomplete instanceof IncompleteReadError);
    assert.equal(incomplete.partial.toString(), 'ab');
    await assert.rejects(draining, (error) => {
      assert.ok(error instanceof ConnectionResetError);
      assert.equal(error.errno, 'EPIPE');
      return true;
    });
    await writer.waitClosed();
  });

  it('a fault with nobody waiting on waitClosed() is no unhandled rejection', async () => {
    const { transport } = connected();
    transport.lose(new ConnectionResetError('ECONNRESET'));
    await tick();
    await tick();
  });
});

describe('StreamWriter', () => {
  it('drain() resolves at once when not paused', async () => {
    const { writer } = connected();
    assert.equal(await state(writer.drain()), 'settled');
  });

  it('drain() waits while writing is paused and every waiter resumes with resumeWriting', async () => {
    const { writer, transport } = connected();
    transport.pauseWriting();
    const first = writer.drain();
    const second = writer.drain();
    assert.equal(await state(first), 'pending');
    assert.equal(await state(second), 'pending');
    transport.resumeWriting();
    await first;
    await second;
    assert.equal(await state(writer.drain()), 'settled');
  });

  it('drain() rejects with the reader fault even when writing is not paused', async () => {
    const { reader, writer } = connected();
    const reset = new ConnectionResetError('ECONNRESET');
    reader.setException(reset);
    await assert.rejects(writer.drain(), (error) => error === reset);
  });

  it('writes bytes and strings (as UTF-8), and lists of both as one operation', () => {
    const { writer, transport } = connected();
    writer.write(Buffer.from('a'));
    writer.write('é');
    writer.writeLines(['x', Buffer.from('y'), 'z\n']);
    assert.equal(transport.writtenText, 'aéxyz\n');
    assert.deepEqual(transport.calls, ['writeLines(3)']);
  });

  it('passes writeEof, canWriteEof, getExtraInfo and the transport through', () => {
    const { writer, transport } = connected();
    assert.equal(writer.canWriteEof(), true);
    writer.writeEof();
    assert.throws(() => writer.write('late'), WriteAfterEofError);
    assert.deepEqual(writer.getExtraInfo('peername'), {
      family: 'IPv4',
      address: '192.0.2.1',
      port: 4242,
    });
    assert.equal(writer.transport, transport);
  });

  it('close() closes the transport; waitClosed() resolves when the connection is gone', async () => {
    const { writer, transport } = connected();
    assert.equal(writer.isClosing(), false);
    writer.close();
    writer.close();
    assert.equal(writer.isClosing(), true);
    const closed = writer.waitClosed();
    assert.equal(await state(closed), 'pending');
    transport.lose();
    await closed;
    assert.deepEqual(transport.calls, ['close', 'close']);
  });

  it('await using closes the writer, and a fault at the end does not throw out of it', async () => {
    const { writer, transport } = connected();
    {
      await using _writer = writer;
      setImmediate(() => transport.lose(new ConnectionResetError('ECONNRESET')));
    }
    assert.deepEqual(transport.calls, ['close']);
  });
});
