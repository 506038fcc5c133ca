/**
 * The native backend's transport: a `StreamTransport` over a socket of the native engine.
 *
 * The hooks map one to one onto engine calls. What the engine reports comes back through the
 * loop (`engine…` methods) and goes on to the base class's `_on…` reports. Two rules keep the
 * call grammar exact:
 * - the socket's end is reported once: when the engine closes it during a call from here (an
 *   abort, a close with nothing to flush, a failed write), `connectionLost` is deferred to the
 *   next tick, as on `net`, so no protocol callback runs inside `close()` or `abort()`;
 * - bytes or an EOF that arrive in the same batch after the protocol paused reading are held,
 *   in order, and delivered on the next tick after it resumes.
 *
 * An idle connection is what a server has most of, so the state is one integer of bits and what
 * few connections need (a Unix path, held deliveries, a linger timer) lives in a record made on
 * first use.
 */
import { CLOSE_LINGER_MS, DEFAULT_READ_SIZE_HINT } from '../constants.js';
import { type AnyProtocol, isBufferedProtocol } from '../protocol.js';
import {
  StreamTransport,
  type StreamTransportOptions,
  type TransportOwner,
} from '../stream-transport.js';
import type { ExtraInfo, SocketAddress } from '../transport.js';
import { EAGAIN, socketError } from './errno.js';
import type { EngineConnection, NativeLoop } from './loop.js';

/** Options of one native transport. */
export interface NativeTransportOptions extends StreamTransportOptions {
  /** The socket is a Unix domain socket. */
  readonly unix?: boolean;
  /** For a Unix socket accepted by a server: the path it listens on (the local name). */
  readonly localPath?: string;
  /** For a Unix socket a client connected: the path it connected to (the peer's name). */
  readonly peerPath?: string;
}

// State bits.
const RELEASED = 1 << 0; // the engine closed the socket: its id now names nothing, or another
const PAUSED = 1 << 1; // reading is off (pauseReading, or the flow-control safe default)
const EOF_DELIVERED = 1 << 2; // the peer's FIN reached eofReceived
const WRITE_SHUT = 1 << 3; // writeEof() sent our FIN (or will, once the queue is flushed)
const IN_PLACE = 1 << 4; // the engine leaves reads to us: a BufferedProtocol's own buffer
const UNIX = 1 << 5;

/** Stands for the peer's FIN in the queue of held deliveries. */
const EOF = Symbol('eof');

/** What only some connections need. */
interface Rare {
  localPath?: string | undefined;
  peerPath?: string | undefined;
  /** Deliveries that arrived while reading was paused, oldest first. */
  held?: (Buffer | typeof EOF)[] | undefined;
  /** Closes the socket if the peer has not sent its FIN in time after our graceful close. */
  linger?: ReturnType<typeof setTimeout> | undefined;
}

export class NativeTransport extends StreamTransport implements EngineConnection {
  /** The engine's generation-tagged id of the socket. */
  readonly id: number;
  readonly #loop: NativeLoop;
  /** Bytes the engine holds in its write queue, as of its last answer. */
  #queued = 0;
  #state: number;
  #rare: Rare | undefined;

  constructor(
    loop: NativeLoop,
    id: number,
    protocol: AnyProtocol,
    owner: TransportOwner,
    options?: NativeTransportOptions,
  ) {
    super(protocol, owner, options);
    this.#loop = loop;
    this.id = id;
    this.#state = options?.unix === true ? UNIX : 0;
    if (options?.localPath !== undefined || options?.peerPath !== undefined) {
      this.#rare = { localPath: options.localPath, peerPath: options.peerPath };
    }
  }

  /** Routes the socket's events here and calls `connectionMade`. */
  start(): void {
    this.#loop.attach(this);
    this.#syncReadMode();
    this._onConnected();
  }

  override setProtocol(protocol: AnyProtocol): void {
    super.setProtocol(protocol);
    this.#syncReadMode();
  }

  // ---- what the engine reports (through the loop) ----

  engineWarm(): number {
    return this.#state + this._warm();
  }

  engineData(data: Buffer): void {
    if ((this.#state & PAUSED) !== 0 || this.#rare?.held !== undefined) this.#hold(data);
    else this._onData(data);
  }

  engineReadable(): void {
    if ((this.#state & (RELEASED | PAUSED)) !== 0 || this.#rare?.held !== undefined) return;
    const buffer = this._getReadBuffer(DEFAULT_READ_SIZE_HINT);
    if (buffer === undefined || (this.#state & RELEASED) !== 0) return;
    const n = this.#loop.binding.readInto(this.id, buffer);
    if (n > 0) this._onBufferFilled(n);
    else if (n === 0) this.#deliverEof();
    else if (n !== EAGAIN) this.#release(socketError(n), true);
  }

  engineEof(): void {
    if ((this.#state & PAUSED) !== 0 || this.#rare?.held !== undefined) this.#hold(EOF);
    else this.#deliverEof();
  }

  engineWritten(queued: number): void {
    this.#queued = queued;
    this._onWriteProgress();
  }

  engineWriteDone(result: number): void {
    if ((this.#state & RELEASED) !== 0) return;
    this.#answer(result);
    if ((this.#state & RELEASED) === 0) this._onWriteQueued();
  }

  engineLost(errno: number): void {
    this.#release(errno === 0 ? undefined : socketError(errno), false);
  }

  // ---- hooks ----

  protected _send(data: Uint8Array): void {
    if ((this.#state & RELEASED) !== 0) return;
    const loop = this.#loop;
    if (loop.deferWrite(this.id, data)) return;
    if (!this.#flushDeferred()) return;
    this.#answer(loop.binding.write(this.id, data));
  }

  protected _sendMany(list: readonly Uint8Array[]): void {
    if ((this.#state & RELEASED) !== 0 || !this.#flushDeferred()) return;
    this.#answer(this.#loop.binding.writev(this.id, list));
  }

  protected _bufferedSize(): number {
    return this.#queued;
  }

  protected _shutdownWrite(): void {
    if ((this.#state & RELEASED) !== 0 || !this.#flushDeferred()) return;
    const result = this.#loop.binding.shutdown(this.id);
    if (result < 0) {
      this.#release(socketError(result), true);
      return;
    }
    this.#state |= WRITE_SHUT;
    if ((this.#state & EOF_DELIVERED) !== 0) this.close();
  }

  protected _closeGracefully(): void {
    if (this.#rare !== undefined) this.#rare.held = undefined;
    if ((this.#state & RELEASED) !== 0 || !this.#flushDeferred()) return;
    const result = this.#loop.binding.close(this.id);
    if (result === 1) this.#release(undefined, true);
    else if (result < 0) this.#release(socketError(result), true);
    else {
      // The engine flushes, sends FIN, waits for the peer's, then reports EV_LOST.
      const linger = setTimeout(closeLingering, CLOSE_LINGER_MS, this);
      linger.unref();
      this.#rareRecord().linger = linger;
    }
  }

  protected _reset(): void {
    // The deferred bytes go first, as they would have had they been written at once.
    if ((this.#state & RELEASED) !== 0 || !this.#flushDeferred()) return;
    this.#loop.binding.abort(this.id);
    this.#release(undefined, true);
  }

  protected _setReading(reading: boolean): void {
    this.#state = reading ? this.#state & ~PAUSED : this.#state | PAUSED;
    if ((this.#state & RELEASED) !== 0) return;
    const result = this.#loop.binding.setReading(this.id, reading ? 1 : 0);
    if (result < 0) {
      this.#release(socketError(result), true);
      return;
    }
    if (reading && this.#rare?.held !== undefined) process.nextTick(deliverHeld, this);
  }

  protected _extraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] {
    const unix = (this.#state & UNIX) !== 0;
    switch (name) {
      case 'peername':
        // Not cached: the engine keeps a TCP peer's address, even for a while after the socket
        // closed (a log line about a lost connection can still name it), at no cost here.
        return (
          unix ? { family: 'unix', path: this.#rare?.peerPath ?? '' } : this.#address(true)
        ) as ExtraInfo[K];
      case 'sockname':
        return (
          unix ? { family: 'unix', path: this.#rare?.localPath ?? '' } : this.#address(false)
        ) as ExtraInfo[K];
      default:
        // 'socket': there is no socket object on this backend, only the engine's id.
        return undefined as ExtraInfo[K];
    }
  }

  // ---- internals ----

  /** Delivers what was held while paused, until it runs out or reading pauses again. */
  deliverHeld(): void {
    const held = this.#rare?.held;
    if (held === undefined) return;
    while (held.length > 0 && (this.#state & (PAUSED | RELEASED)) === 0) {
      const item = held.shift()!;
      if (item === EOF) this.#deliverEof();
      else this._onData(item);
    }
    const rare = this.#rare;
    if (held.length === 0 && rare !== undefined && rare.held === held) rare.held = undefined;
  }

  /** The linger time after a graceful close ran out: close now. */
  closeNow(): void {
    if ((this.#state & RELEASED) !== 0) return;
    const result = this.#loop.binding.close(this.id);
    this.#release(result < 0 ? socketError(result) : undefined, true);
  }

  /** For `reportLost`: `_onLost` is protected. */
  lost(error: Error | undefined): void {
    this._onLost(error);
  }

  /**
   * The peer's FIN reaches `eofReceived`. When it keeps the connection half-open and our side
   * is shut as well, both directions are done: close, as Node does for a `net` socket.
   */
  #deliverEof(): void {
    this._onEof();
    this.#state |= EOF_DELIVERED;
    if ((this.#state & WRITE_SHUT) !== 0) this.close();
  }

  #hold(item: Buffer | typeof EOF): void {
    const rare = this.#rareRecord();
    if (rare.held === undefined) rare.held = [item];
    else rare.held.push(item);
  }

  #rareRecord(): Rare {
    this.#rare ??= {};
    return this.#rare;
  }

  /**
   * Performs the writes deferred in this batch (this connection's among them) before an engine
   * call that must follow them; false when their answers released this connection.
   */
  #flushDeferred(): boolean {
    this.#loop.flushWrites();
    return (this.#state & RELEASED) === 0;
  }

  #answer(result: number): void {
    if (result >= 0) this.#queued = result;
    else this.#release(socketError(result), true);
  }

  #syncReadMode(): void {
    const inPlace = isBufferedProtocol(this.getProtocol());
    if ((this.#state & RELEASED) !== 0 || inPlace === ((this.#state & IN_PLACE) !== 0)) return;
    this.#state ^= IN_PLACE;
    this.#loop.binding.setBuffered(this.id, inPlace ? 1 : 0);
  }

  #address(peer: boolean): SocketAddress | undefined {
    if (!peer && (this.#state & RELEASED) !== 0) return undefined;
    const answer = this.#loop.binding.address(this.id, peer ? 1 : 0);
    if (typeof answer === 'number') return undefined;
    const [family, address, port] = answer;
    return { family: family === 'IPv6' ? 'IPv6' : 'IPv4', address, port };
  }

  /**
   * The engine has closed the socket. `later`: it happened inside a call from here, so the
   * protocol hears of it on the next tick rather than from inside its own call.
   */
  #release(error: Error | undefined, later: boolean): void {
    if ((this.#state & RELEASED) !== 0) return;
    this.#state |= RELEASED;
    this.#queued = 0;
    const rare = this.#rare;
    if (rare !== undefined) {
      clearTimeout(rare.linger);
      rare.held = undefined;
    }
    this.#loop.detach(this);
    if (later) process.nextTick(reportLost, this, error);
    else this._onLost(error);
  }
}

function deliverHeld(transport: NativeTransport): void {
  transport.deliverHeld();
}

function closeLingering(transport: NativeTransport): void {
  transport.closeNow();
}

function reportLost(transport: NativeTransport, error: Error | undefined): void {
  transport.lost(error);
}
