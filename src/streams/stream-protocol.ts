/**
 * `StreamReaderProtocol`: the adapter between the Protocol contract and the stream API (asyncio's
 * `StreamReaderProtocol` with its flow-control mixin). It feeds a `StreamReader`, makes the
 * `StreamWriter` on `connectionMade`, and turns `pauseWriting` / `resumeWriting` into the gate
 * that `drain()` waits on.
 *
 * What the stream API guarantees follows from the call grammar it receives:
 *
 *     connectionMade -> (writer made, onConnected) [-> dataReceived* (feedData)]
 *       [-> eofReceived (feedEof)] -> connectionLost (feedEof, or setException(error))
 */
import { ConnectionResetError } from '../errors.js';
import type { ProtocolCallbacks } from '../protocol.js';
import type { Transport } from '../transport.js';
import { type Deferred, deferred } from './deferred.js';
import type { StreamReader } from './reader.js';
import { StreamWriter, type WriterFlow } from './writer.js';

/** Called once per connection, when the reader and writer are ready. */
export type StreamConnectedCallback = (reader: StreamReader, writer: StreamWriter) => void;

export class StreamReaderProtocol implements ProtocolCallbacks, WriterFlow {
  readonly #reader: StreamReader;
  readonly #onConnected: StreamConnectedCallback | undefined;
  #writer: StreamWriter | undefined;
  /** The transport asked us to stop writing (its buffer is over the high-water mark). */
  #paused = false;
  #lost = false;
  #lostError: Error | undefined;
  #drainWaiters: Deferred<void>[] = [];
  readonly #closed = deferred<void>();

  /**
   * @param reader The reader this protocol feeds.
   * @param onConnected Called from `connectionMade` with the reader and the new writer.
   */
  constructor(reader: StreamReader, onConnected?: StreamConnectedCallback) {
    this.#reader = reader;
    this.#onConnected = onConnected;
    // The close promise may reject with nobody waiting on it; that is no unhandled rejection.
    this.#closed.promise.catch(() => {});
  }

  /** The writer, once the connection is made. */
  get writer(): StreamWriter | undefined {
    return this.#writer;
  }

  connectionMade(transport: Transport): void {
    this.#reader.setTransport(transport);
    const writer = new StreamWriter(transport, this, this.#reader);
    this.#writer = writer;
    this.#onConnected?.(this.#reader, writer);
  }

  dataReceived(data: Buffer): void {
    this.#reader.feedData(data);
  }

  /** Keeps the write side open: the peer's FIN ends reading only; closing is the writer's call. */
  eofReceived(): boolean {
    this.#reader.feedEof();
    return true;
  }

  connectionLost(error?: Error): void {
    this.#lost = true;
    this.#lostError = error;
    if (error === undefined) this.#reader.feedEof();
    else this.#reader.setException(error);
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const waiter of waiters) waiter.reject(this.#lostReason());
    if (error === undefined) this.#closed.resolve();
    else this.#closed.reject(error);
  }

  pauseWriting(): void {
    this.#paused = true;
  }

  resumeWriting(): void {
    this.#paused = false;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  drained(): Promise<void> {
    if (this.#lost) return Promise.reject(this.#lostReason());
    if (!this.#paused) return Promise.resolve();
    const waiter = deferred<void>();
    this.#drainWaiters.push(waiter);
    return waiter.promise;
  }

  closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** Why a drain fails: the fault, or a broken pipe when the connection ended cleanly. */
  #lostReason(): Error {
    return this.#lostError ?? new ConnectionResetError('EPIPE');
  }
}
