/**
 * The `net` backend's transport: a `StreamTransport` over a Node `net.Socket`, or a `TLSSocket`
 * (a `net.Socket` too) — from the start, or after `startTls` switched sockets in place.
 *
 * Listeners are module-level functions that find their transport through one property on the
 * socket, instead of four closures per connection: an idle connection is what the chapter's
 * server has most of, and each closure costs it memory.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CLOSE_LINGER_MS } from '../constants.js';
import { ConnectionResetError, InvalidArgumentError, SocketError } from '../errors.js';
import type { AnyProtocol } from '../protocol.js';
import type { ProxyHeader } from '../proxy/header.js';
import {
  StreamTransport,
  type StreamTransportOptions,
  type TransportOwner,
} from '../stream-transport.js';
import { isTlsInfoName, tlsExtraInfo } from '../tls/extra-info.js';
import type { StartTlsOptions } from '../tls/options.js';
import { startTls } from '../tls/start-tls.js';
import type { ExtraInfo, SocketAddress, Transport } from '../transport.js';

const kTransport = Symbol('aionet.transport');
const EMPTY = Buffer.alloc(0);

type OwnedSocket = Socket & { [kTransport]?: SocketTransport };

/** Options of one `net` transport. */
export interface SocketTransportOptions extends StreamTransportOptions {
  /** The socket is a Unix domain socket (no RST on abort: only TCP has one). */
  readonly unix?: boolean;
  /** For a Unix socket accepted by a server: the path it listens on (the local name). */
  readonly localPath?: string;
  /** For a Unix socket a client connected: the path it connected to (the peer's name). */
  readonly peerPath?: string;
  /** For a `TLSSocket` made over a socket: that socket, which carries resets (RST). */
  readonly underlying?: Socket;
}

/** A transport that can upgrade itself to TLS in place (the `net` backend's). */
export interface TlsUpgradableTransport extends Transport {
  /**
   * Upgrade the connection to TLS in place (asyncio's `loop.start_tls`), for STARTTLS-style
   * protocols; resolves once the handshake completed. See docs/tls.md for what happens to
   * bytes already received and to writes made meanwhile.
   */
  startTls(options: StartTlsOptions): Promise<void>;
}

/** True for a transport that offers `startTls` (the `net` backend's, not yet upgraded or not). */
export function canStartTls(transport: Transport): transport is TlsUpgradableTransport {
  return transport instanceof SocketTransport;
}

export class SocketTransport extends StreamTransport implements TlsUpgradableTransport {
  #socket: OwnedSocket;
  /** Called when a queued write completes; made on the first write the kernel did not take. */
  #progress: (() => void) | undefined;
  /** The fault the socket reported before it closed. */
  #error: Error | undefined;
  #unix: boolean;
  #localPath: string | undefined;
  #peerPath: string | undefined;
  #peername: SocketAddress | undefined;
  /** The TCP socket under a `TLSSocket`: resets go through it (a TLS handle cannot RST). */
  #underlying: Socket | undefined;
  /** Whether the protocol side wants reading on; kept while a TLS handshake holds delivery. */
  #readingWanted = true;
  /** A TLS handshake is under way: nothing is read until it completes. */
  #handshaking = false;
  /** The PROXY protocol header this connection came with, if the server reads one. */
  #proxyHeader: ProxyHeader | undefined;
  #proxyPeername: SocketAddress | undefined;

  constructor(
    socket: Socket,
    protocol: AnyProtocol,
    owner: TransportOwner,
    options?: SocketTransportOptions,
  ) {
    super(protocol, owner, options);
    this.#socket = socket as OwnedSocket;
    this.#unix = options?.unix === true;
    this.#localPath = options?.localPath;
    this.#peerPath = options?.peerPath;
    this.#underlying = options?.underlying;
  }

  /**
   * Wires the socket up and calls `connectionMade`. `readInPlace` means the socket was created
   * with an `onread` buffer (client sockets with a BufferedProtocol), so no 'data' listener.
   */
  start(readInPlace = false): void {
    const socket = this.#socket;
    socket[kTransport] = this;
    if (!readInPlace) socket.on('data', SocketTransport.#onData);
    socket.on('end', SocketTransport.#onEnd);
    socket.on('error', SocketTransport.#onError);
    socket.on('close', SocketTransport.#onClose);
    this._onConnected();
  }

  /**
   * @internal Starts a connection a server accepted with stages before the protocol (PROXY
   * header, TLS handshake): the socket's end is watched from now on, so closing or aborting the
   * transport meanwhile works, but nothing is read and `connectionMade` waits for
   * `startStaged()`.
   */
  watchSocket(): void {
    const socket = this.#socket;
    // Known now, for the log line of a connection the stages refuse and reset.
    this.#peername ??= peerAddress(socket, this.#unix, this.#peerPath);
    socket[kTransport] = this;
    socket.on('error', SocketTransport.#onError);
    socket.on('close', SocketTransport.#onClose);
  }

  /**
   * @internal The stages are done: read, and call `connectionMade`. `firstData` (what came
   * after a PROXY header in its read) is the protocol's first `dataReceived` — at once, or, if
   * `connectionMade` paused reading, put back into the socket to come first on resume.
   */
  startStaged(firstData?: Buffer): void {
    this.#handshaking = false;
    this.#attachReading();
    this._onConnected();
    if (firstData === undefined || firstData.length === 0) return;
    if (this.#readingWanted) this._onData(firstData);
    else this.#socket.unshift(firstData);
  }

  /**
   * @internal Switches to `tlsSocket`, a TLS socket made over the current one: its events are
   * the transport's from now on, and nothing is read until `tlsEstablished()`.
   */
  switchToTls(tlsSocket: TLSSocket): void {
    const old = this.#socket;
    old.removeListener('data', SocketTransport.#onData);
    old.removeListener('end', SocketTransport.#onEnd);
    old.removeListener('error', SocketTransport.#onError);
    old.removeListener('close', SocketTransport.#onClose);
    delete old[kTransport];
    // The TLS socket owns the handle now and reports its faults; the old one must not crash
    // the process with an unheard 'error'.
    old.on('error', ignore);
    this.#underlying ??= old;
    this.#handshaking = true;
    const socket = tlsSocket as OwnedSocket;
    this.#socket = socket;
    socket[kTransport] = this;
    socket.on('error', SocketTransport.#onError);
    socket.on('close', SocketTransport.#onClose);
  }

  /** @internal The TLS handshake after `switchToTls` completed: read again. */
  tlsEstablished(): void {
    this.#handshaking = false;
    this.#attachReading();
  }

  /**
   * @internal The connection came through a proxy: `peername` is the client's address from the
   * header (`source`; the real peer's when the header has none), `proxyPeername` the proxy's.
   */
  setProxied(header: ProxyHeader, source: SocketAddress | undefined): void {
    const real = this.#peername ?? peerAddress(this.#socket, this.#unix, this.#peerPath);
    this.#proxyHeader = header;
    this.#proxyPeername = real;
    this.#peername = source ?? real;
  }

  startTls(options: StartTlsOptions): Promise<void> {
    if (this.isClosing()) {
      throw new InvalidArgumentError('startTls() on a closing or closed connection');
    }
    if (this.#underlying !== undefined || this.#handshaking) {
      throw new InvalidArgumentError('startTls() on a connection that already speaks TLS');
    }
    return startTls(this, this.#socket, options);
  }

  /** `onread` hooks for a client socket that reads straight into a BufferedProtocol's buffer. */
  static readInPlaceHooks(getTransport: () => SocketTransport | undefined, scratch: Uint8Array) {
    return {
      buffer: (): Uint8Array => {
        const transport = getTransport();
        return transport?._getReadBuffer(scratch.length) ?? scratch;
      },
      callback: (nbytes: number, buffer: Uint8Array): boolean => {
        const transport = getTransport();
        if (transport === undefined || buffer === scratch) return true;
        transport._onBufferFilled(nbytes);
        return true;
      },
    };
  }

  protected _send(data: Uint8Array): void {
    const socket = this.#socket;
    if (socket.writableLength > 0) {
      // Already queueing: watch this chunk's completion to see the buffer shrink.
      socket.write(data, this.#progress ?? this.#makeProgress());
      return;
    }
    socket.write(data);
    if (socket.writableLength > 0) {
      // The kernel did not take it all. An empty write queued behind it reports when it is done.
      socket.write(EMPTY, this.#progress ?? this.#makeProgress());
    }
  }

  protected _sendMany(list: readonly Uint8Array[]): void {
    const socket = this.#socket;
    socket.cork();
    for (const data of list) if (data.length > 0) socket.write(data);
    socket.uncork();
    if (socket.writableLength > 0) socket.write(EMPTY, this.#progress ?? this.#makeProgress());
  }

  protected _bufferedSize(): number {
    return this.#socket.writableLength;
  }

  protected _shutdownWrite(): void {
    this.#socket.end();
  }

  protected _closeGracefully(): void {
    const socket = this.#socket;
    // Keep reading (and dropping) so bytes the peer sends meanwhile do not turn our close into
    // a reset: Linux answers with RST when a socket closes with unread data.
    socket.removeListener('data', SocketTransport.#onData);
    socket.resume();
    // With both FINs exchanged Node closes the socket by itself. A peer that already sent its
    // FIN needs nothing more; one that has not gets CLOSE_LINGER_MS to do so, then the socket
    // is closed anyway.
    socket.end();
    if (!socket.readableEnded) socket.setTimeout(CLOSE_LINGER_MS, destroyLingering);
  }

  protected _reset(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    // The last moment the socket can tell its peer: a log line about why we reset may name it.
    this.#peername ??= peerAddress(socket, this.#unix, this.#peerPath);
    const underlying = this.#underlying;
    if (underlying !== undefined) {
      // A TLS handle cannot send RST; the TCP socket under it can, and its end closes the TLS
      // socket. Not both: destroying the TLS socket right after, inside its 'secure' event,
      // crashes Node 20 (SIGSEGV).
      if (
        !this.#unix &&
        !underlying.destroyed &&
        typeof underlying.resetAndDestroy === 'function'
      ) {
        underlying.resetAndDestroy();
      } else {
        socket.destroy();
      }
      return;
    }
    if (!this.#unix && typeof socket.resetAndDestroy === 'function' && !socket.connecting) {
      socket.resetAndDestroy();
    } else {
      socket.destroy();
    }
  }

  protected _setReading(reading: boolean): void {
    this.#readingWanted = reading;
    if (this.#handshaking) return; // tlsEstablished() applies it
    if (reading) this.#socket.resume();
    else this.#socket.pause();
  }

  protected _extraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] {
    const socket = this.#socket;
    switch (name) {
      case 'socket':
        return socket as ExtraInfo[K];
      case 'peername':
        this.#peername ??= peerAddress(socket, this.#unix, this.#peerPath);
        return this.#peername as ExtraInfo[K];
      case 'sockname':
        return localAddress(socket, this.#unix, this.#localPath) as ExtraInfo[K];
      case 'proxyPeername':
        return this.#proxyPeername as ExtraInfo[K];
      case 'proxyTlvs':
        return this.#proxyHeader?.tlvs as ExtraInfo[K];
      case 'proxyHeader':
        return this.#proxyHeader as ExtraInfo[K];
      default:
        if (this.#underlying !== undefined && !this.#handshaking && isTlsInfoName(name)) {
          return tlsExtraInfo(socket as unknown as TLSSocket, name) as ExtraInfo[K];
        }
        return undefined as ExtraInfo[K];
    }
  }

  /** Listens for bytes and EOF on the current socket and applies the wanted reading state. */
  #attachReading(): void {
    const socket = this.#socket;
    socket.on('data', SocketTransport.#onData);
    socket.on('end', SocketTransport.#onEnd);
    // A socket a stage paused does not restart by itself when a listener is added.
    if (this.#readingWanted) socket.resume();
    else socket.pause();
  }

  #makeProgress(): () => void {
    const progress = () => this._onWriteProgress();
    this.#progress = progress;
    return progress;
  }

  // Socket listeners: shared by every connection, `this` is the socket.

  static #onData(this: OwnedSocket, data: Buffer): void {
    this[kTransport]?._onData(data);
  }

  static #onEnd(this: OwnedSocket): void {
    this[kTransport]?._onEof();
  }

  static #onError(this: OwnedSocket, error: Error): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport.#error ??= translateSocketError(error);
  }

  static #onClose(this: OwnedSocket): void {
    const transport = this[kTransport];
    if (transport !== undefined) transport._onLost(transport.#error);
  }
}

function destroyLingering(this: Socket): void {
  this.destroy();
}

function ignore(): void {}

/** Maps Node's socket errors onto the catalogue: resets are typed, the rest keep their errno. */
export function translateSocketError(error: Error): Error {
  const errno = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  if (errno === 'ECONNRESET' || errno === 'EPIPE') return new ConnectionResetError(errno, error);
  return new SocketError(errno, error.message, error);
}

function peerAddress(
  socket: Socket,
  unix: boolean,
  peerPath: string | undefined,
): SocketAddress | undefined {
  if (unix) return { family: 'unix', path: peerPath ?? '' };
  const { remoteAddress, remotePort, remoteFamily } = socket;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  return {
    family: remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4',
    address: remoteAddress,
    port: remotePort,
  };
}

function localAddress(
  socket: Socket,
  unix: boolean,
  localPath: string | undefined,
): SocketAddress | undefined {
  if (unix) return { family: 'unix', path: localPath ?? '' };
  const address = socket.address();
  if (!('port' in address) || address.port === undefined) return undefined;
  return {
    family: address.family === 'IPv6' ? 'IPv6' : 'IPv4',
    address: address.address,
    port: address.port,
  };
}
