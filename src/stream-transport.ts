/**
 * The backend-neutral half of every stream transport: the call grammar, guarded callbacks, close
 * and abort states, and the flow-control rules. A backend (Node `net`, the in-memory test
 * transport, a native one later) subclasses it and implements a handful of `_` hooks that do the
 * actual I/O; it reports what the socket did through the `_on…` methods.
 *
 * Keeping the rules here means every backend behaves the same, and the in-memory tests exercise
 * the very code that runs on real sockets. Nothing here imports from `node:`.
 */
import { DEFAULT_WRITE_HIGH_WATER, DEFAULT_WRITE_LOW_WATER } from './constants.js';
import {
  FrameInvalidError,
  FrameTooLargeError,
  IdleTimeoutError,
  IncompleteReadError,
  InvalidArgumentError,
  ProtocolCallbackError,
  WriteAfterEofError,
  WriteBufferOverflowError,
  WriteStallError,
} from './errors.js';
import {
  type AnyProtocol,
  type BufferedProtocolCallbacks,
  type CallbackResult,
  isBufferedProtocol,
  type ProtocolCallbacks,
} from './protocol.js';
import type { ExtraInfo, TextEncoding, Transport, WriteBufferLimits } from './transport.js';

/** Who is told about a transport's end and its failures: a server, or a client's settings. */
export interface TransportOwner {
  /** The transport called `connectionLost(reason)`; it is gone. */
  transportLost(transport: StreamTransport, reason?: Error): void;
  /** A failure worth a log line: a callback threw, or `connectionLost` itself threw. */
  reportError(error: Error, transport: StreamTransport): void;
  /** Counters every transport of this owner adds to. @default counters of its own */
  readonly stats?: TransportStats;
  /** Limits every transport of this owner obeys. @default no limits */
  readonly limits?: TransportLimits;
  /**
   * A coarse "now" in milliseconds, refreshed by the owner's deadline sweeper. Transports stamp
   * their activity with it: a field read instead of a clock call per read and write.
   * @default 0 (an owner without deadlines)
   */
  readonly now?: number;
  /**
   * The owner's clock read now, in whole milliseconds, for the rare stamps a deadline is
   * measured from (a write stall's start): `now` may be up to one sweep old, which would
   * bring the deadline forward by as much.
   * @default `now`
   */
  clockNow?(): number;
}

/** An owner with every member present, as transports use it. */
type FullOwner = Required<TransportOwner>;

/** Running totals of what an owner's transports did. Plain numbers: cheap on the hot path. */
export class TransportStats {
  bytesReceived = 0;
  bytesSent = 0;
  /** Deliveries to protocols: `dataReceived` calls and `bufferUpdated` rounds. */
  reads = 0;
  /** Times a write buffer went over its high-water mark. */
  writePauses = 0;
}

/** Per-connection limits; `Infinity` or 0 (deadlines) turns one off. */
export interface TransportLimits {
  /** Bytes the write buffer may hold before the connection is dropped. */
  readonly maxWriteBuffer: number;
  /** Milliseconds without a byte either way before the connection is closed; 0: never. */
  readonly idleTimeout: number;
  /** Milliseconds the write buffer may stay over its high-water mark; 0: forever. */
  readonly writeStallTimeout: number;
}

/** No cap, no deadlines. */
export const NO_LIMITS: TransportLimits = Object.freeze({
  maxWriteBuffer: Number.POSITIVE_INFINITY,
  idleTimeout: 0,
  writeStallTimeout: 0,
});

/** Fills in what a partial owner left out (tests and stand-alone transports give partial ones). */
function completeOwner(owner: TransportOwner): FullOwner {
  if (
    owner.stats !== undefined &&
    owner.limits !== undefined &&
    owner.now !== undefined &&
    owner.clockNow !== undefined
  ) {
    return owner as FullOwner;
  }
  return {
    transportLost: (transport, reason) => owner.transportLost(transport, reason),
    reportError: (error, transport) => owner.reportError(error, transport),
    stats: owner.stats ?? new TransportStats(),
    limits: owner.limits ?? NO_LIMITS,
    get now() {
      return owner.now ?? 0;
    },
    clockNow: () => owner.clockNow?.() ?? owner.now ?? 0,
  };
}

// State bits, kept in one small integer so an idle connection costs a few bytes.
const MADE = 1 << 0; // connectionMade was called
const CLOSING = 1 << 1; // close() or abort() was called; nothing more is delivered
const LOST = 1 << 2; // connectionLost was called
const EOF_WRITTEN = 1 << 3; // writeEof() was called
const EOF_RECEIVED = 1 << 4; // eofReceived was called
const USER_PAUSED = 1 << 5; // pauseReading() by the protocol
const FLOW_PAUSED = 1 << 6; // reading paused by the safe default (no pauseWriting)
const WRITE_PAUSED = 1 << 7; // the buffer is over high; pauseWriting was delivered
const BUFFERED = 1 << 8; // the protocol is a BufferedProtocol
const HALF_OPEN_OK = 1 << 9; // eofReceived() may keep the write side open
const COPYING = 1 << 10; // #feedBuffered is copying a read (its bytes were counted by _onData)

/** Options a backend passes to the base. */
export interface StreamTransportOptions {
  /** Whether `eofReceived()` returning true may keep the write side open. @default true */
  readonly allowHalfOpen?: boolean;
  /** Initial water marks. */
  readonly writeBufferLimits?: { high?: number; low?: number };
}

/** High and low water marks of the write buffer. */
interface WaterMarks {
  readonly high: number;
  readonly low: number;
}

const DEFAULT_MARKS: WaterMarks = Object.freeze({
  high: DEFAULT_WRITE_HIGH_WATER,
  low: DEFAULT_WRITE_LOW_WATER,
});

/** A transport's state that few connections ever need, made on first use. */
interface RareState {
  /** The error `connectionLost` will get when this side caused the end (a failed callback…). */
  fault: Error | undefined;
  /** Bytes of a read a BufferedProtocol has not taken yet because it paused reading. */
  pending: Uint8Array | undefined;
  /** The owner's clock when the write buffer last went over high (write-stall deadline). */
  stalledSince: number;
}

/**
 * The shared state machine. Subclasses implement the protected `_` hooks; they must call
 * `_onLost()` exactly when the underlying socket is fully closed, and `_onWriteProgress()`
 * whenever the buffered byte count went down.
 */
export abstract class StreamTransport implements Transport {
  // Few fields on purpose: a message reads this object's fields with cold caches (with 1,000
  // busy connections the kernel's own data evicts them between two messages), so every cache
  // line the object spans costs. What few connections need lives in `#rare`.
  #protocol: AnyProtocol;
  #owner: FullOwner;
  #flags: number;
  /** The write buffer's water marks: one shared object for the defaults. */
  #marks: WaterMarks = DEFAULT_MARKS;
  /** The owner's `now` at the last byte moved either way (idle deadline). */
  #active: number;
  #rare: RareState | undefined;

  constructor(protocol: AnyProtocol, owner: TransportOwner, options?: StreamTransportOptions) {
    this.#protocol = protocol;
    this.#owner = completeOwner(owner);
    this.#active = this.#owner.now;
    this.#flags =
      (isBufferedProtocol(protocol) ? BUFFERED : 0) |
      (options?.allowHalfOpen === false ? 0 : HALF_OPEN_OK);
    if (options?.writeBufferLimits !== undefined) {
      this.#setLimits(options.writeBufferLimits);
    }
  }

  // ---- hooks a backend implements ----

  /** Hand bytes to the socket. Never called with an empty buffer, nor after close or EOF. */
  protected abstract _send(data: Uint8Array): void;
  /** Hand several buffers to the socket at once. */
  protected abstract _sendMany(list: readonly Uint8Array[]): void;
  /** Bytes handed to `_send` that the kernel has not taken yet. */
  protected abstract _bufferedSize(): number;
  /** After what is buffered is flushed, send FIN and keep reading. */
  protected abstract _shutdownWrite(): void;
  /** Stop delivering, flush, send FIN, then close the socket. Then call `_onLost()`. */
  protected abstract _closeGracefully(): void;
  /** Drop the buffer and close at once with RST. Then call `_onLost()`. */
  protected abstract _reset(): void;
  /** Start or stop reading from the socket. */
  protected abstract _setReading(reading: boolean): void;
  /** A named fact about the socket. */
  protected abstract _extraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K];

  // ---- what a backend reports ----

  /** The connection is up: calls `connectionMade`. */
  protected _onConnected(): void {
    this.#flags |= MADE;
    const protocol = this.#protocol;
    let result: CallbackResult;
    try {
      result = protocol.connectionMade?.(this);
    } catch (error) {
      this.#fail('connectionMade', error);
      return;
    }
    if (result !== undefined) this.#watch(result, 'connectionMade');
  }

  /**
   * Reads what delivering the next read touches (this object's fields, the protocol's
   * `dataReceived`), so a caller can bring many transports into the cache together; returns a
   * number made of them, for the caller to keep.
   */
  protected _warm(): number {
    const receive = (this.#protocol as ProtocolCallbacks).dataReceived;
    return this.#flags + this.#active + (typeof receive === 'function' ? 1 : 0);
  }

  /** Bytes arrived. */
  protected _onData(data: Buffer): void {
    if ((this.#flags & (CLOSING | LOST)) !== 0) return;
    const owner = this.#owner;
    owner.stats.bytesReceived += data.length;
    this.#active = owner.now;
    this.#dispatch(data);
  }

  /** Hands bytes already counted to the protocol, whichever kind it is now. */
  #dispatch(data: Buffer): void {
    if ((this.#flags & BUFFERED) !== 0) {
      this.#feedBuffered(data);
      return;
    }
    this.#owner.stats.reads++;
    let result: CallbackResult;
    try {
      result = (this.#protocol as ProtocolCallbacks).dataReceived?.(data);
    } catch (error) {
      this.#fail('dataReceived', error);
      return;
    }
    if (result !== undefined) this.#watch(result, 'dataReceived');
  }

  /**
   * `nbytes` were read straight into the buffer the BufferedProtocol's `getBuffer` returned
   * (backends that can read in place call this instead of `_onData`).
   */
  protected _onBufferFilled(nbytes: number): void {
    if ((this.#flags & (CLOSING | LOST)) !== 0) return;
    const owner = this.#owner;
    const stats = owner.stats;
    stats.reads++;
    if ((this.#flags & COPYING) === 0) stats.bytesReceived += nbytes;
    this.#active = owner.now;
    let result: CallbackResult;
    try {
      result = (this.#protocol as BufferedProtocolCallbacks).bufferUpdated(nbytes);
    } catch (error) {
      this.#fail('bufferUpdated', error);
      return;
    }
    if (result !== undefined) this.#watch(result, 'bufferUpdated');
  }

  /**
   * Asks a BufferedProtocol for a buffer to read into, for backends that read in place. On a
   * bad buffer or a throw the connection fails and `undefined` comes back.
   */
  protected _getReadBuffer(sizeHint: number): Uint8Array | undefined {
    if ((this.#flags & (CLOSING | LOST)) !== 0) return undefined;
    return this.#getBuffer(sizeHint);
  }

  /** The peer sent FIN. */
  protected _onEof(): void {
    if ((this.#flags & (CLOSING | LOST | EOF_RECEIVED)) !== 0) return;
    this.#flags |= EOF_RECEIVED;
    // biome-ignore lint/suspicious/noConfusingVoidType: what eofReceived may return
    let keepOpen: boolean | undefined | void;
    try {
      keepOpen = this.#protocol.eofReceived?.();
    } catch (error) {
      this.#fail('eofReceived', error);
      return;
    }
    if (keepOpen !== true || (this.#flags & HALF_OPEN_OK) === 0) this.close();
  }

  /** The buffered byte count went down: resume writing (or reading) at the low-water mark. */
  protected _onWriteProgress(): void {
    this.#active = this.#owner.now;
    if ((this.#flags & WRITE_PAUSED) !== 0 && this._bufferedSize() <= this.#marks.low) {
      this.#resumeWriting();
    }
  }

  /**
   * The socket is fully closed. `error` is the fault the backend saw (a reset…), if any; a fault
   * this side caused first (a failed callback) takes precedence. Calls `connectionLost` once.
   */
  protected _onLost(error?: Error): void {
    const flags = this.#flags;
    if ((flags & LOST) !== 0) return;
    this.#flags = (flags | LOST | CLOSING) & ~WRITE_PAUSED;
    const rare = this.#rare;
    if (rare !== undefined) rare.pending = undefined;
    const reason = rare?.fault ?? error;
    if ((flags & MADE) !== 0) {
      try {
        if (reason === undefined) this.#protocol.connectionLost?.();
        else this.#protocol.connectionLost?.(reason);
      } catch (thrown) {
        this.#owner.reportError(new ProtocolCallbackError('connectionLost', thrown), this);
      }
    }
    this.#owner.transportLost(this, reason);
  }

  /** True once the connection is gone (after `connectionLost`). */
  protected get _isLost(): boolean {
    return (this.#flags & LOST) !== 0;
  }

  /** Fails the connection with `error`: it reaches `connectionLost`, and the socket is reset. */
  protected _failWith(error: Error): void {
    if ((this.#flags & LOST) !== 0) return;
    this.#rareState().fault ??= error;
    this.#flags |= CLOSING;
    this._reset();
  }

  // ---- the Transport contract ----

  write(data: Uint8Array | string, encoding?: TextEncoding): void {
    let bytes: Uint8Array;
    if (typeof data === 'string') {
      if (encoding === undefined) {
        throw new InvalidArgumentError(
          'write() takes bytes; to send text, pass its encoding: write(text, "utf8")',
        );
      }
      // Buffer.from would throw a bare TypeError for an unknown name and ignore a non-string.
      if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) {
        throw new InvalidArgumentError(`write() does not know the encoding ${String(encoding)}`);
      }
      bytes = Buffer.from(data, encoding);
    } else if (data instanceof Uint8Array) {
      bytes = data;
    } else {
      throw new InvalidArgumentError(`write() takes a Uint8Array, not ${typeName(data)}`);
    }
    const flags = this.#flags;
    if ((flags & EOF_WRITTEN) !== 0) throw new WriteAfterEofError();
    if ((flags & CLOSING) !== 0 || bytes.length === 0) return;
    this._send(bytes);
    this.#afterWrite(bytes.length, flags);
  }

  writeLines(list: readonly Uint8Array[]): void {
    if (!Array.isArray(list)) throw new InvalidArgumentError('writeLines() takes an array');
    for (const item of list) {
      if (!(item instanceof Uint8Array)) {
        throw new InvalidArgumentError(`writeLines() takes Uint8Arrays, not ${typeName(item)}`);
      }
    }
    const flags = this.#flags;
    if ((flags & EOF_WRITTEN) !== 0) throw new WriteAfterEofError();
    if ((flags & CLOSING) !== 0 || list.length === 0) return;
    this._sendMany(list);
    let total = 0;
    for (const item of list) total += item.length;
    this.#afterWrite(total, flags);
  }

  writeEof(): void {
    const flags = this.#flags;
    if ((flags & (EOF_WRITTEN | CLOSING)) !== 0) return;
    this.#flags = flags | EOF_WRITTEN;
    this._shutdownWrite();
  }

  canWriteEof(): boolean {
    return true;
  }

  close(): void {
    const flags = this.#flags;
    if ((flags & CLOSING) !== 0) return;
    this.#flags = flags | CLOSING;
    if (this.#rare !== undefined) this.#rare.pending = undefined;
    this._closeGracefully();
  }

  abort(error?: Error): void {
    const flags = this.#flags;
    if ((flags & LOST) !== 0) return;
    if (error !== undefined && this.#rare?.fault === undefined) {
      // A fault the protocol names is a connection error like any other: logged once.
      this.#rareState().fault = error;
      this.#owner.reportError(error, this);
    }
    this.#flags = flags | CLOSING;
    if (this.#rare !== undefined) this.#rare.pending = undefined;
    this._reset();
  }

  isClosing(): boolean {
    return (this.#flags & CLOSING) !== 0;
  }

  pauseReading(): void {
    const flags = this.#flags;
    if ((flags & (CLOSING | USER_PAUSED)) !== 0) return;
    this.#flags = flags | USER_PAUSED;
    if ((flags & FLOW_PAUSED) === 0) this._setReading(false);
  }

  resumeReading(): void {
    const flags = this.#flags;
    if ((flags & CLOSING) !== 0 || (flags & USER_PAUSED) === 0) return;
    this.#flags = flags & ~USER_PAUSED;
    if ((flags & FLOW_PAUSED) === 0) this.#restartReading();
  }

  isReading(): boolean {
    return (this.#flags & (USER_PAUSED | CLOSING)) === 0;
  }

  setWriteBufferLimits(limits?: { high?: number; low?: number }): void {
    this.#setLimits(limits ?? {});
    if ((this.#flags & CLOSING) !== 0) return;
    const size = this._bufferedSize();
    if ((this.#flags & WRITE_PAUSED) === 0) {
      if (size > this.#marks.high) this.#pauseWriting();
    } else if (size <= this.#marks.low) {
      this.#resumeWriting();
    }
  }

  getWriteBufferLimits(): WriteBufferLimits {
    return { high: this.#marks.high, low: this.#marks.low };
  }

  getWriteBufferSize(): number {
    return (this.#flags & LOST) !== 0 ? 0 : this._bufferedSize();
  }

  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] {
    return this._extraInfo(name);
  }

  getProtocol(): AnyProtocol {
    return this.#protocol;
  }

  setProtocol(protocol: AnyProtocol): void {
    this.#protocol = protocol;
    if (isBufferedProtocol(protocol)) this.#flags |= BUFFERED;
    else this.#flags &= ~BUFFERED;
  }

  // ---- what an owner calls ----

  /**
   * @internal Enforce the idle and write-stall deadlines at the owner's `now`. An idle
   * connection is closed (FIN) with `IdleTimeoutError`; a stalled one is reset with
   * `WriteStallError` (the peer does not read, so nothing could be flushed).
   */
  checkDeadlines(now: number): void {
    const flags = this.#flags;
    if ((flags & LOST) !== 0) return;
    const limits = this.#owner.limits;
    const stall = limits.writeStallTimeout;
    if (
      stall > 0 &&
      (flags & WRITE_PAUSED) !== 0 &&
      now - (this.#rare?.stalledSince ?? now) >= stall
    ) {
      this._failWith(new WriteStallError(stall, this._bufferedSize()));
      return;
    }
    const idle = limits.idleTimeout;
    if (idle > 0 && (flags & CLOSING) === 0 && now - this.#active >= idle) {
      this.#rareState().fault ??= new IdleTimeoutError(idle);
      this.close();
    }
  }

  /**
   * @internal The server is shutting down: ask the protocol (`shutdownRequested`), and close
   * gracefully unless it asked to finish by itself.
   */
  requestShutdown(): void {
    const flags = this.#flags;
    if ((flags & CLOSING) !== 0) return;
    if ((flags & MADE) === 0) {
      // Still in a server's pre-protocol stage (TLS handshake, PROXY header): the protocol has
      // not started, so it is not asked.
      this.close();
      return;
    }
    // biome-ignore lint/suspicious/noConfusingVoidType: what shutdownRequested may return
    let keepOpen: boolean | undefined | void;
    try {
      keepOpen = this.#protocol.shutdownRequested?.();
    } catch (error) {
      this.#fail('shutdownRequested', error);
      return;
    }
    if (keepOpen !== true) this.close();
  }

  // ---- internals ----

  /**
   * For a backend that hands writes to the kernel later than `_send` (the native one defers the
   * writes of a batch to its end): its buffered count may have grown since, so the cap and the
   * high mark are checked again.
   */
  protected _onWriteQueued(): void {
    const flags = this.#flags;
    if ((flags & LOST) === 0) this.#checkWriteBuffer(flags);
  }

  /** Bookkeeping after bytes were handed to the backend: counters, the cap, the high mark. */
  #afterWrite(length: number, flags: number): void {
    const owner = this.#owner;
    owner.stats.bytesSent += length;
    this.#active = owner.now;
    this.#checkWriteBuffer(flags);
  }

  #checkWriteBuffer(flags: number): void {
    const size = this._bufferedSize();
    const cap = this.#owner.limits.maxWriteBuffer;
    if (size > cap) {
      this._failWith(new WriteBufferOverflowError(cap, size));
      return;
    }
    if ((flags & WRITE_PAUSED) === 0 && size > this.#marks.high) this.#pauseWriting();
  }

  #rareState(): RareState {
    this.#rare ??= { fault: undefined, pending: undefined, stalledSince: 0 };
    return this.#rare;
  }

  #setLimits(limits: { high?: number; low?: number }): void {
    const high =
      limits.high ?? (limits.low !== undefined ? 4 * limits.low : DEFAULT_WRITE_HIGH_WATER);
    const low = limits.low ?? Math.floor(high / 4);
    if (!isSize(high) || !isSize(low) || low > high) {
      throw new InvalidArgumentError(
        `write buffer limits need 0 <= low <= high (whole bytes), got high=${high} low=${low}`,
      );
    }
    this.#marks =
      high === DEFAULT_MARKS.high && low === DEFAULT_MARKS.low ? DEFAULT_MARKS : { high, low };
  }

  #pauseWriting(): void {
    this.#flags |= WRITE_PAUSED;
    const owner = this.#owner;
    owner.stats.writePauses++;
    this.#rareState().stalledSince = owner.clockNow();
    const protocol = this.#protocol;
    if (typeof protocol.pauseWriting !== 'function') {
      // The safe default: a protocol that cannot be told to stop writing is stopped from
      // reading, so a peer that sends but never reads cannot grow this buffer without bound.
      const flags = this.#flags;
      this.#flags = flags | FLOW_PAUSED;
      if ((flags & USER_PAUSED) === 0) this._setReading(false);
      return;
    }
    try {
      protocol.pauseWriting();
    } catch (error) {
      this.#fail('pauseWriting', error);
    }
  }

  #resumeWriting(): void {
    const flags = this.#flags & ~WRITE_PAUSED;
    this.#flags = flags;
    if ((flags & FLOW_PAUSED) !== 0) {
      this.#flags = flags & ~FLOW_PAUSED;
      if ((flags & USER_PAUSED) === 0) this.#restartReading();
      return;
    }
    try {
      this.#protocol.resumeWriting?.();
    } catch (error) {
      this.#fail('resumeWriting', error);
    }
  }

  #restartReading(): void {
    const pending = this.#rare?.pending;
    if (pending !== undefined) {
      this.#rare!.pending = undefined;
      // Not straight to #feedBuffered: the protocol may be a plain one by now (setProtocol).
      this.#dispatch(Buffer.from(pending.buffer, pending.byteOffset, pending.length));
      // The protocol may have paused again while taking the remainder.
      if ((this.#flags & (USER_PAUSED | FLOW_PAUSED | CLOSING)) !== 0) return;
    }
    this._setReading(true);
  }

  #getBuffer(sizeHint: number): Uint8Array | undefined {
    let buffer: Uint8Array;
    try {
      buffer = (this.#protocol as BufferedProtocolCallbacks).getBuffer(sizeHint);
    } catch (error) {
      this.#fail('getBuffer', error);
      return undefined;
    }
    if (!(buffer instanceof Uint8Array) || buffer.length === 0) {
      this.#fail(
        'getBuffer',
        new InvalidArgumentError('getBuffer() must return a non-empty Uint8Array'),
      );
      return undefined;
    }
    return buffer;
  }

  /** Copies a read into the BufferedProtocol's buffers, as many rounds as it takes. */
  #feedBuffered(data: Uint8Array): void {
    this.#flags |= COPYING;
    try {
      this.#copyInto(data);
    } finally {
      this.#flags &= ~COPYING;
    }
  }

  #copyInto(data: Uint8Array): void {
    let offset = 0;
    while (offset < data.length) {
      if ((this.#flags & (USER_PAUSED | FLOW_PAUSED)) !== 0) {
        this.#rareState().pending = data.subarray(offset);
        return;
      }
      if ((this.#flags & BUFFERED) === 0) {
        // setProtocol() handed over to a plain protocol: it gets the rest as one chunk.
        this.#dispatch(Buffer.from(data.buffer, data.byteOffset + offset, data.length - offset));
        return;
      }
      const buffer = this.#getBuffer(data.length - offset);
      if (buffer === undefined) return;
      const n = Math.min(buffer.length, data.length - offset);
      buffer.set(data.subarray(offset, offset + n));
      offset += n;
      this._onBufferFilled(n);
      if ((this.#flags & (CLOSING | LOST)) !== 0) return;
    }
  }

  #watch(result: CallbackResult, callback: string): void {
    if (typeof (result as Promise<void>)?.then !== 'function') return;
    (result as Promise<void>).then(undefined, (error: unknown) => {
      if ((this.#flags & LOST) === 0) this.#fail(callback, error);
      else this.#owner.reportError(new ProtocolCallbackError(callback, error), this);
    });
  }

  #fail(callback: string, cause: unknown): void {
    // A fault the peer caused (a frame over the limit…) or one an adapter already attributed to
    // its own callback is delivered as it is; anything else is wrapped to name the callback.
    const error = isDeliveredAsIs(cause) ? cause : new ProtocolCallbackError(callback, cause);
    this.#owner.reportError(error, this);
    this._failWith(error);
  }
}

function isDeliveredAsIs(cause: unknown): cause is Error {
  return (
    cause instanceof ProtocolCallbackError ||
    cause instanceof FrameTooLargeError ||
    cause instanceof FrameInvalidError ||
    cause instanceof IncompleteReadError
  );
}

function isSize(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
