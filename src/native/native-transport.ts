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

/** Stands for the peer's FIN in the queue of held deliveries. */
const EOF = Symbol('eof');

export class NativeTransport extends StreamTransport implements EngineConnection {
  /** The engine's generation-tagged id of the socket. */
  readonly id: number;
  readonly #loop: NativeLoop;
  /** Bytes the engine holds in its write queue, as of its last answer. */
  #queued = 0;
  /** The engine closed the socket (its id now names nothing, or someone else). */
  #released = false;
  #reading = true;
  /** The peer's FIN was delivered, and our own was asked for (`writeEof`): see #afterEof. */
  #eofDelivered = false;
  #writeShut = false;
  /** The engine leaves reads to us (a BufferedProtocol reads into its own buffer). */
  #readsInPlace = false;
  /** Deliveries that arrived while reading was paused, oldest first. */
  #held: (Buffer | typeof EOF)[] | undefined;
  readonly #unix: boolean;
  readonly #localPath: string | undefined;
  readonly #peerPath: string | undefined;
  #peername: SocketAddress | undefined;
  /** Closes the socket if the peer has not sent its FIN in time after our graceful close. */
  #linger: ReturnType<typeof setTimeout> | undefined;

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
    this.#unix = options?.unix === true;
    this.#localPath = options?.localPath;
    this.#peerPath = options?.peerPath;
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

  engineData(data: Buffer): void {
    if (this.#held !== undefined || !this.#reading) this.#hold(data);
    else this._onData(data);
  }

  engineReadable(): void {
    if (this.#released || !this.#reading || this.#held !== undefined) return;
    const buffer = this._getReadBuffer(DEFAULT_READ_SIZE_HINT);
    if (buffer === undefined || this.#released) return;
    const n = this.#loop.binding.readInto(this.id, buffer);
    if (n > 0) this._onBufferFilled(n);
    else if (n === 0) this.#deliverEof();
    else if (n !== EAGAIN) this.#release(socketError(n), true);
  }

  engineEof(): void {
    if (this.#held !== undefined || !this.#reading) this.#hold(EOF);
    else this.#deliverEof();
  }

  engineWritten(queued: number): void {
    this.#queued = queued;
    this._onWriteProgress();
  }

  engineLost(errno: number): void {
    this.#release(errno === 0 ? undefined : socketError(errno), false);
  }

  // ---- hooks ----

  protected _send(data: Uint8Array): void {
    if (this.#released) return;
    this.#answer(this.#loop.binding.write(this.id, data));
  }

  protected _sendMany(list: readonly Uint8Array[]): void {
    if (this.#released) return;
    this.#answer(this.#loop.binding.writev(this.id, list));
  }

  protected _bufferedSize(): number {
    return this.#queued;
  }

  protected _shutdownWrite(): void {
    if (this.#released) return;
    const result = this.#loop.binding.shutdown(this.id);
    if (result < 0) {
      this.#release(socketError(result), true);
      return;
    }
    this.#writeShut = true;
    if (this.#eofDelivered) this.close();
  }

  protected _closeGracefully(): void {
    this.#held = undefined;
    if (this.#released) return;
    const result = this.#loop.binding.close(this.id);
    if (result === 1) this.#release(undefined, true);
    else if (result < 0) this.#release(socketError(result), true);
    else {
      // The engine flushes, sends FIN, waits for the peer's, then reports EV_LOST.
      this.#linger = setTimeout(closeLingering, CLOSE_LINGER_MS, this);
      this.#linger.unref();
    }
  }

  protected _reset(): void {
    if (this.#released) return;
    this.#loop.binding.abort(this.id);
    this.#release(undefined, true);
  }

  protected _setReading(reading: boolean): void {
    this.#reading = reading;
    if (this.#released) return;
    const result = this.#loop.binding.setReading(this.id, reading ? 1 : 0);
    if (result < 0) {
      this.#release(socketError(result), true);
      return;
    }
    if (reading && this.#held !== undefined) process.nextTick(deliverHeld, this);
  }

  protected _extraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] {
    switch (name) {
      case 'peername':
        this.#peername ??= this.#unix
          ? { family: 'unix', path: this.#peerPath ?? '' }
          : this.#address(true);
        return this.#peername as ExtraInfo[K];
      case 'sockname':
        return (
          this.#unix ? { family: 'unix', path: this.#localPath ?? '' } : this.#address(false)
        ) as ExtraInfo[K];
      default:
        // 'socket': there is no socket object on this backend, only the engine's id.
        return undefined as ExtraInfo[K];
    }
  }

  // ---- internals ----

  /** Delivers what was held while paused, until it runs out or reading pauses again. */
  deliverHeld(): void {
    const held = this.#held;
    if (held === undefined) return;
    while (held.length > 0 && this.#reading && !this.#released) {
      const item = held.shift()!;
      if (item === EOF) this.#deliverEof();
      else this._onData(item);
    }
    if (held.length === 0 && this.#held === held) this.#held = undefined;
  }

  /**
   * The peer's FIN reaches `eofReceived`. When it keeps the connection half-open and our side
   * is shut as well, both directions are done: close, as Node does for a `net` socket.
   */
  #deliverEof(): void {
    this._onEof();
    this.#eofDelivered = true;
    if (this.#writeShut) this.close();
  }

  #hold(item: Buffer | typeof EOF): void {
    if (this.#held === undefined) this.#held = [item];
    else this.#held.push(item);
  }

  #answer(result: number): void {
    if (result >= 0) this.#queued = result;
    else this.#release(socketError(result), true);
  }

  #syncReadMode(): void {
    const inPlace = isBufferedProtocol(this.getProtocol());
    if (this.#released || inPlace === this.#readsInPlace) return;
    this.#readsInPlace = inPlace;
    this.#loop.binding.setBuffered(this.id, inPlace ? 1 : 0);
  }

  #address(peer: boolean): SocketAddress | undefined {
    if (this.#released) return undefined;
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
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#linger);
    this.#queued = 0;
    this.#held = undefined;
    this.#loop.detach(this);
    if (later) process.nextTick(reportLost, this, error);
    else this._onLost(error);
  }

  /** The linger time after a graceful close ran out: close now. */
  closeNow(): void {
    if (this.#released) return;
    const result = this.#loop.binding.close(this.id);
    this.#release(result < 0 ? socketError(result) : undefined, true);
  }

  /** For `reportLost`: `_onLost` is protected. */
  lost(error: Error | undefined): void {
    this._onLost(error);
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
