/**
 * One client connection of the generator: it connects, writes the message, matches the reply
 * and tells its listener what happened. One object lives per connection slot for the whole run
 * and is reused across reconnects, so the hot path allocates nothing per message.
 *
 * States: `idle -> connecting -> open <-> waiting`, and back to `idle` on {@link close} or on a
 * failure (reported once, with its kind, after the socket is destroyed).
 */
import { Buffer } from 'node:buffer';
import { createSocket, type Socket as DatagramSocket } from 'node:dgram';
import { connect, isIPv6, type NetConnectOpts, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { classifySocketError, type ErrorKind } from './error-kinds.js';
import type { ReplySpec } from './framing.js';
import type { BenchTls } from './options.js';
import { COMPLETE, NEED_MORE, ReplyMatcher } from './reply-matcher.js';

/** No socket. */
export const IDLE = 0;
/** Connect in progress. */
export const CONNECTING = 1;
/** Connected, no message in flight. */
export const OPEN = 2;
/** Connected, a message in flight. */
export const WAITING = 3;

/** A state of a {@link BenchConnection}. */
export type ConnectionState = typeof IDLE | typeof CONNECTING | typeof OPEN | typeof WAITING;

/**
 * Size of the one read buffer all connections share, in bytes: Node's `onread` reads into it
 * and the reply is checked before the callback returns, so one buffer serves every socket.
 */
const READ_BUFFER_BYTES = 64 * 1024;
const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

/** What a connection reports. Times are `performance.now()` milliseconds. */
export interface ConnectionListener {
  connected(connection: BenchConnection, now: number): void;
  /** A correct, complete reply to the message in flight arrived; the connection is open. */
  replied(connection: BenchConnection, now: number): void;
  /**
   * The connection failed and its socket is destroyed; it is idle again.
   *
   * @param wasUp whether it had connected before failing.
   */
  failed(connection: BenchConnection, kind: ErrorKind, wasUp: boolean): void;
}

/** Where to connect, from which local address, and whether over TLS, or over UDP. */
export type ConnectTarget =
  | ((
      | { readonly host: string; readonly port: number; readonly localAddress?: string }
      | { readonly path: string }
    ) & { readonly tls?: BenchTls; readonly udp?: never })
  | { readonly udp: true; readonly host: string; readonly port: number };

/** One connection slot. */
export class BenchConnection {
  /** The slot's number within its process, from 0. */
  readonly index: number;
  /** When the current connect started (`performance.now()` ms). */
  connectStartedAt = 0;
  /** When the message in flight was written (`performance.now()` ms). */
  sentAt = 0;
  /**
   * Rate mode: when the message in flight (or the next one) was meant to be sent; latency is
   * measured from here so that a stalled server cannot hide its queue.
   */
  intendedAt = 0;

  readonly #listener: ConnectionListener;
  readonly #message: Buffer;
  readonly #matcher: ReplyMatcher;
  readonly #options: NetConnectOpts;
  readonly #tls: BenchTls | undefined;
  /** UDP: where the connected datagram socket sends. */
  readonly #udp: { readonly host: string; readonly port: number } | undefined;
  #datagrams: DatagramSocket | undefined;
  #state: ConnectionState = IDLE;
  #socket: Socket | undefined;

  constructor(options: {
    index: number;
    target: ConnectTarget;
    message: Buffer;
    reply: ReplySpec;
    listener: ConnectionListener;
  }) {
    this.index = options.index;
    this.#listener = options.listener;
    this.#message = options.message;
    this.#matcher = new ReplyMatcher(options.reply);
    const target = options.target;
    if (target.udp === true) {
      this.#udp = { host: target.host, port: target.port };
      this.#tls = undefined;
      this.#options = { host: target.host, port: target.port };
      return;
    }
    this.#udp = undefined;
    const { tls, ...where } = target;
    this.#tls = tls;
    // TLS decrypts into its own buffers: its bytes come as 'data' events, not through onread.
    this.#options =
      tls === undefined
        ? { ...where, noDelay: true, onread: { buffer: readBuffer, callback: this.#onRead } }
        : { ...where, noDelay: true };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Starts connecting. The connection must be idle. */
  connect(now: number): void {
    this.connectStartedAt = now;
    this.#state = CONNECTING;
    if (this.#udp !== undefined) {
      this.#connectDatagrams(this.#udp);
      return;
    }
    const tls = this.#tls;
    const socket =
      tls === undefined
        ? connect(this.#options)
        : connectTls({
            ...(this.#options as object),
            rejectUnauthorized: !tls.insecure,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
          });
    this.#socket = socket;
    if (tls === undefined) {
      socket.once('connect', this.#onConnect);
    } else {
      socket.once('secureConnect', this.#onConnect);
      socket.on('data', this.#onData);
    }
    socket.on('error', this.#onError);
    socket.on('end', this.#onEnd);
  }

  /** Writes the message. The connection must be open. */
  send(now: number): void {
    this.sentAt = now;
    this.#state = WAITING;
    this.#matcher.reset();
    if (this.#datagrams !== undefined) this.#datagrams.send(this.#message);
    else this.#socket?.write(this.#message);
  }

  /** Destroys the socket without reporting anything; the connection is idle again. */
  close(): void {
    const socket = this.#socket;
    const datagrams = this.#datagrams;
    this.#state = IDLE;
    this.#socket = undefined;
    this.#datagrams = undefined;
    socket?.destroy();
    datagrams?.close();
  }

  /**
   * UDP: a connected datagram socket (the kernel then delivers only the server's datagrams,
   * and reports an ICMP "port unreachable" as ECONNREFUSED). Each datagram is one read.
   */
  #connectDatagrams(target: { readonly host: string; readonly port: number }): void {
    const socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
    this.#datagrams = socket;
    socket.on('error', this.#onError);
    socket.on('message', this.#onData);
    socket.connect(target.port, target.host, () => {
      if (this.#datagrams === socket) this.#onConnect();
    });
  }

  /** Fails the connection with `kind`: destroys it and reports the failure once. */
  fail(kind: ErrorKind): void {
    if (this.#state === IDLE) return;
    const wasUp = this.#state !== CONNECTING;
    this.close();
    this.#listener.failed(this, kind, wasUp);
  }

  readonly #onConnect = (): void => {
    if (this.#state !== CONNECTING) return;
    this.#state = OPEN;
    this.#listener.connected(this, performance.now());
  };

  /** Node's `onread` callback; returning `true` keeps the socket reading. */
  readonly #onRead = (length: number, buffer: Uint8Array): boolean => {
    if (this.#state !== WAITING) {
      // Bytes nobody asked for: the server talks out of turn.
      if (length > 0 && this.#state === OPEN) this.fail('wrong_reply');
      return true;
    }
    const verdict = this.#matcher.feed(buffer, 0, length);
    if (verdict === NEED_MORE) return true;
    if (verdict === COMPLETE) {
      this.#state = OPEN;
      this.#listener.replied(this, performance.now());
    } else {
      this.fail('wrong_reply');
    }
    return true;
  };

  readonly #onData = (data: Buffer): void => {
    this.#onRead(data.length, data);
  };

  readonly #onError = (error: Error): void => {
    if (this.#state === IDLE) return;
    this.fail(classifySocketError(error, this.#state === CONNECTING));
  };

  readonly #onEnd = (): void => {
    this.fail('closed_early');
  };
}
