/**
 * `StreamWriter`: the write half of the stream API (asyncio's `StreamWriter`). A thin layer over
 * the transport that adds what a transport cannot give: `drain()`, which waits while the
 * transport's write buffer is over its high-water mark, and `waitClosed()`.
 *
 * Nothing here does I/O: every byte goes through the `Transport` contract.
 */
import { Buffer } from 'node:buffer';
import type { ExtraInfo, Transport } from '../transport.js';
import type { StreamReader } from './reader.js';

/** What a writer needs of its protocol: the write-side flow control and the end of the connection. */
export interface WriterFlow {
  /** Resolves at once unless writing is paused; then when it resumes. Rejects once the connection is lost. */
  drained(): Promise<void>;
  /** Settles when the connection is lost: resolves on a clean close, rejects with the fault. */
  closed(): Promise<void>;
}

export class StreamWriter implements AsyncDisposable {
  readonly #transport: Transport;
  readonly #flow: WriterFlow;
  readonly #reader: StreamReader | undefined;

  /** Made by `StreamReaderProtocol` on `connectionMade`; `startServer` and `openConnection` hand it out. */
  constructor(transport: Transport, flow: WriterFlow, reader?: StreamReader) {
    this.#transport = transport;
    this.#flow = flow;
    this.#reader = reader;
  }

  /** The transport underneath, for what the writer does not wrap (write limits, `abort()`…). */
  get transport(): Transport {
    return this.#transport;
  }

  /**
   * Queue bytes to send; never blocks, so follow a large write with `await drain()`. A string
   * is sent as UTF-8. Bytes written after the connection is gone are dropped silently (the peer
   * may vanish at any moment); `drain()` is where a writer learns of it.
   * @throws WriteAfterEofError after `writeEof()`.
   */
  write(data: Uint8Array | string): void {
    if (typeof data === 'string') this.#transport.write(data, 'utf8');
    else this.#transport.write(data);
  }

  /** Write several buffers (strings as UTF-8) as one operation. */
  writeLines(list: Iterable<Uint8Array | string>): void {
    const buffers: Uint8Array[] = [];
    for (const item of list) buffers.push(typeof item === 'string' ? Buffer.from(item) : item);
    this.#transport.writeLines(buffers);
  }

  /** Flush what is buffered, then half-close: send FIN and keep reading. */
  writeEof(): void {
    this.#transport.writeEof();
  }

  /** Whether `writeEof()` is supported (true for TCP and Unix stream sockets). */
  canWriteEof(): boolean {
    return this.#transport.canWriteEof();
  }

  /**
   * Wait until the transport's write buffer is at or under its low-water mark. Resolves at once
   * when writing is not paused.
   * @throws the connection's fault when it failed (a reset…), and `ConnectionResetError`
   * (`EPIPE`) when it is gone without one: what is still buffered will never be sent.
   */
  async drain(): Promise<void> {
    const fault = this.#reader?.exception();
    if (fault !== undefined) throw fault;
    await this.#flow.drained();
  }

  /** Flush what is buffered, then close (FIN). Idempotent; `waitClosed()` tells when it is done. */
  close(): void {
    this.#transport.close();
  }

  /** True once `close()` was called or the connection is gone. */
  isClosing(): boolean {
    return this.#transport.isClosing();
  }

  /**
   * Resolves once the connection is gone (after `close()`, or when the peer ended it).
   * @throws the connection's fault when it ended with one (a reset…).
   */
  waitClosed(): Promise<void> {
    return this.#flow.closed();
  }

  /** A named fact about the connection (`peername`, `sockname`, …). */
  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] {
    return this.#transport.getExtraInfo(name);
  }

  /**
   * `await using writer = …`: close and wait until the connection is gone. Does not throw the
   * connection's fault: disposal is cleanup, and reads and `drain()` already reported it.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#flow.closed().catch(() => {});
  }
}
