/**
 * `MemoryTransport`: a `StreamTransport` over a simulated socket, for testing protocols in
 * memory (Twisted's `StringTransport`, Netty's `EmbeddedChannel`). Because it subclasses the very
 * state machine the `net` backend uses, a protocol tested on it gets the same call grammar,
 * callback guards and flow-control rules as in production.
 *
 * The test plays the peer:
 * - `receive(bytes)` sends bytes: one `dataReceived` per `receive`, delivered while this side
 *   reads (a paused transport queues them, like a socket's receive buffer).
 * - `receiveEof()` sends FIN; `closeFromPeer()` sends FIN and discards all it gets from then on;
 *   `reset()` sends RST: `connectionLost(ConnectionResetError)`, undelivered bytes are lost.
 * - The peer reads at once by default: a write leaves the buffer as it is made (size 0). After
 *   `peerStopsReading()` writes pile up, so `pauseWriting` comes strictly over the high-water
 *   mark; `peerReads(n)` drains, and `resumeWriting` comes at or under the low one. `close()`
 *   completes once that buffer is flushed, as on a socket; `abort()` drops it.
 *
 * Delivery is synchronous and deterministic: every call into the protocol is made by a delivery
 * loop when the outermost call (the test's, or a protocol callback's) returns. The test sees the
 * effects as soon as its call returns, and callbacks never nest: `connectionLost` in particular
 * always comes after the callback that called `close()` or `abort()` has returned, as with a
 * real socket. Pass `autoFlush: false` to deliver only on `flush()`.
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError } from '../errors.js';
import type { AnyProtocol } from '../protocol.js';
import {
  StreamTransport,
  type StreamTransportOptions,
  type TransportOwner,
} from '../stream-transport.js';
import type { ExtraInfo, SocketAddress, TextEncoding } from '../transport.js';
import { DeliveryLoop } from './delivery-loop.js';
import { type MemoryCall, MemorySocket } from './memory-socket.js';

export type { MemoryCall } from './memory-socket.js';

/** Options of a `MemoryTransport`. */
export interface MemoryTransportOptions extends StreamTransportOptions {
  /** Also told about reported errors and the end, as a server's registry would be. */
  readonly owner?: TransportOwner;
  /** This end's address. @default 127.0.0.1:7000 */
  readonly sockname?: SocketAddress;
  /** The peer's address. @default 127.0.0.1:40000 */
  readonly peername?: SocketAddress;
  /** Deliver as soon as the outermost call returns; `false`: only on `flush()`. @default true */
  readonly autoFlush?: boolean;
  /** Whether the simulated peer starts out reading. @default true */
  readonly peerReading?: boolean;
}

/** The address a lone memory transport, and the server end of a pair, says it has. */
export const MEMORY_SERVER_ADDRESS: SocketAddress = {
  family: 'IPv4',
  address: '127.0.0.1',
  port: 7000,
};

/** The simulated peer's address, and the client end's of a pair (an ephemeral port). */
export const MEMORY_CLIENT_ADDRESS: SocketAddress = {
  family: 'IPv4',
  address: '127.0.0.1',
  port: 40000,
};

let socketOf: (transport: MemoryTransport) => MemorySocket;

/** An in-memory transport. Call `start()` to deliver `connectionMade`. */
export class MemoryTransport extends StreamTransport {
  readonly #socket: MemorySocket;
  readonly #errors: Error[];
  readonly #sockname: SocketAddress;
  readonly #peername: SocketAddress;
  #started = false;

  static {
    socketOf = (transport) => transport.#socket;
  }

  constructor(protocol: AnyProtocol, options: MemoryTransportOptions = {}) {
    const errors: Error[] = [];
    super(protocol, recordingOwner(errors, options.owner), options);
    this.#errors = errors;
    this.#sockname = options.sockname ?? MEMORY_SERVER_ADDRESS;
    this.#peername = options.peername ?? MEMORY_CLIENT_ADDRESS;
    this.#socket = new MemorySocket(
      {
        data: (bytes) => this._onData(bytes),
        eof: () => this._onEof(),
        drain: () => this._onWriteProgress(),
        close: (error) => this._onLost(error),
      },
      new DeliveryLoop(options.autoFlush ?? true),
      options.peerReading ?? true,
    );
  }

  /**
   * Deliver `connectionMade` (at once, whatever `autoFlush` says); returns `this`. Call once.
   * @throws Error when called twice.
   */
  start(): this {
    if (this.#started) throw new Error('MemoryTransport.start() was already called');
    this.#started = true;
    this.#run(() => {
      this.#socket.start();
      this._onConnected();
    });
    return this;
  }

  // ---- the test plays the peer ----

  /**
   * The peer sends bytes (a string goes as UTF-8). Dropped once this side is closing or gone,
   * as a socket would drop them.
   * @throws InvalidArgumentError after the peer's EOF, or for a value that is not bytes.
   */
  receive(data: Uint8Array | string): void {
    const socket = this.#simulatedPeer('receive');
    let bytes: Buffer;
    if (typeof data === 'string') bytes = Buffer.from(data, 'utf8');
    else if (data instanceof Uint8Array) bytes = Buffer.from(data);
    else throw new InvalidArgumentError('receive() takes a Uint8Array or a string');
    if (socket.eofReceived) throw new InvalidArgumentError('receive() after the peer sent EOF');
    this.#run(() => socket.receive(bytes));
  }

  /** The peer half-closes (FIN): `eofReceived` comes after the bytes sent before. Idempotent. */
  receiveEof(): void {
    const socket = this.#simulatedPeer('receiveEof');
    this.#run(() => socket.receiveEof());
  }

  /** The peer closes its socket: FIN, and from then on it discards whatever it gets. */
  closeFromPeer(): void {
    const socket = this.#simulatedPeer('closeFromPeer');
    this.#run(() => socket.closeFromPeer());
  }

  /**
   * The peer resets the connection (RST): undelivered bytes are lost, the write buffer is
   * dropped, and `connectionLost` gets a `ConnectionResetError`. No-op once the end is decided.
   */
  reset(): void {
    const socket = this.#simulatedPeer('reset');
    this.#run(() => socket.resetFromPeer());
  }

  /** The peer stops reading: from now on writes pile up in the simulated write buffer. */
  peerStopsReading(): void {
    const socket = this.#simulatedPeer('peerStopsReading');
    socket.setPeerReading(false);
  }

  /** The peer reads again: it takes the whole buffer now, and every later write at once. */
  peerResumesReading(): void {
    const socket = this.#simulatedPeer('peerResumesReading');
    this.#run(() => socket.setPeerReading(true));
  }

  /**
   * The peer reads up to `n` bytes (all by default) of the simulated write buffer and returns
   * them. Writing resumes once the buffer is at the low-water mark or under.
   * @throws InvalidArgumentError unless `n` is a whole number `>= 0`.
   */
  peerReads(n = Number.POSITIVE_INFINITY): Buffer {
    const socket = this.#simulatedPeer('peerReads');
    if (!(n === Number.POSITIVE_INFINITY || (Number.isSafeInteger(n) && n >= 0))) {
      throw new InvalidArgumentError(`peerReads() takes a whole number of bytes, got ${n}`);
    }
    return this.#run(() => socket.peerReads(n));
  }

  // ---- what a test observes ----

  /** Every byte the protocol wrote (since the last `takeWritten()`), whether read or not. */
  written(): Buffer {
    return Buffer.concat(this.#socket.written);
  }

  /** Returns what `written()` would, and forgets it. */
  takeWritten(): Buffer {
    const bytes = this.written();
    this.#socket.forgetWritten();
    return bytes;
  }

  /** The calls the state machine made into the socket, in order. */
  get calls(): readonly MemoryCall[] {
    return this.#socket.calls;
  }

  /** Errors reported to the owner: failed callbacks, a `connectionLost` that threw. */
  get reportedErrors(): readonly Error[] {
    return this.#errors;
  }

  /** `close()` reached the socket (also when `eofReceived` returned falsy). */
  get closeCalled(): boolean {
    return this.#socket.closeCalled;
  }

  /** The connection was reset from this side: `abort()`, or a failed callback. */
  get aborted(): boolean {
    return this.#socket.aborted;
  }

  /** The FIN left: after `writeEof()` or `close()`, once the write buffer was flushed. */
  get eofWritten(): boolean {
    return this.#socket.eofWritten;
  }

  /** The connection is gone: `connectionLost` was delivered. */
  get closed(): boolean {
    return this.#socket.lost;
  }

  /**
   * Whether the socket reads. Unlike `isReading()` this also shows the safe-default pause
   * (a protocol without `pauseWriting` while the write buffer is over the high-water mark).
   */
  get reading(): boolean {
    return this.#socket.reading;
  }

  /** Whether the simulated peer takes writes at once. */
  get peerReading(): boolean {
    return this.#socket.peerReading;
  }

  /** Deliver everything due; needed only with `autoFlush: false`. No-op inside a callback. */
  flush(): void {
    this.#socket.loop.flush();
  }

  // ---- the Transport contract: the same calls, run through the delivery loop ----

  override write(data: Uint8Array | string, encoding?: TextEncoding): void {
    this.#run(() => super.write(data, encoding));
  }

  override writeLines(list: readonly Uint8Array[]): void {
    this.#run(() => super.writeLines(list));
  }

  override writeEof(): void {
    this.#run(() => super.writeEof());
  }

  override close(): void {
    this.#run(() => super.close());
  }

  override abort(error?: Error): void {
    this.#run(() => super.abort(error));
  }

  override pauseReading(): void {
    this.#run(() => super.pauseReading());
  }

  override resumeReading(): void {
    this.#run(() => super.resumeReading());
  }

  override setWriteBufferLimits(limits?: { high?: number; low?: number }): void {
    this.#run(() => super.setWriteBufferLimits(limits));
  }

  override checkDeadlines(now: number): void {
    this.#run(() => super.checkDeadlines(now));
  }

  override requestShutdown(): void {
    this.#run(() => super.requestShutdown());
  }

  // ---- the backend hooks ----

  protected _send(data: Uint8Array): void {
    this.#socket.write(data);
  }

  protected _sendMany(list: readonly Uint8Array[]): void {
    const bytes = Buffer.concat(list);
    if (bytes.length > 0) this.#socket.write(bytes);
  }

  protected _bufferedSize(): number {
    return this.#socket.bufferedSize;
  }

  protected _shutdownWrite(): void {
    this.#socket.shutdownWrite();
    this.#socket.loop.kick();
  }

  protected _closeGracefully(): void {
    this.#socket.close();
    this.#socket.loop.kick();
  }

  protected _reset(): void {
    // Also reached outside any call of ours: a callback's promise rejected, so kick the loop.
    this.#socket.reset();
    this.#socket.loop.kick();
  }

  protected _setReading(reading: boolean): void {
    this.#socket.setReading(reading);
    this.#socket.loop.kick();
  }

  protected _extraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] {
    switch (name) {
      case 'peername':
        return this.#peername as ExtraInfo[K];
      case 'sockname':
        return this.#sockname as ExtraInfo[K];
      default:
        return undefined as ExtraInfo[K];
    }
  }

  // ---- internals ----

  #run<T>(fn: () => T): T {
    return this.#socket.loop.run(fn);
  }

  #simulatedPeer(method: string): MemorySocket {
    const socket = this.#socket;
    if (socket.hasPeer) {
      throw new Error(`${method}() plays the peer, but this transport has one (connectPair)`);
    }
    return socket;
  }
}

/**
 * The owner the state machine talks to: records reported errors, and passes everything on to
 * the caller's owner when there is one — through a proxy, so whatever else an owner offers
 * (limits, counters, a clock) reaches the state machine unchanged.
 */
function recordingOwner(errors: Error[], owner: TransportOwner | undefined): TransportOwner {
  const record = (error: Error) => {
    errors.push(error);
  };
  if (owner === undefined) return { reportError: record, transportLost: () => {} };
  return new Proxy(owner, {
    get(target, key) {
      if (key === 'reportError') {
        return (error: Error, transport: StreamTransport) => {
          record(error);
          target.reportError(error, transport);
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** @internal For `connectPair`: wires two fresh transports to each other on one loop. */
export function linkTransports(a: MemoryTransport, b: MemoryTransport, loop: DeliveryLoop): void {
  MemorySocket.link(socketOf(a), socketOf(b), loop);
}
