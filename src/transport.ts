/**
 * The Transport contract: what a protocol may ask of its connection. No I/O lives here; the
 * backends (`net/` today, a native one later) implement it.
 *
 * Flow control, both ways:
 * - Writing: the transport buffers what the kernel does not take at once. When the buffer goes
 *   strictly over `high` it calls `protocol.pauseWriting()`; when it drains to `low` or under it
 *   calls `protocol.resumeWriting()`. The calls always pair up. A protocol without
 *   `pauseWriting` gets reading paused instead, so a peer that never reads cannot grow the
 *   buffer without bound.
 * - Reading: `pauseReading()` stops delivery at once and stops reading the socket, so the
 *   kernel's receive window closes and the peer is slowed down.
 */
import type { AnyProtocol } from './protocol.js';

/** An address of either end of a connection. */
export type SocketAddress =
  | { readonly family: 'IPv4' | 'IPv6'; readonly address: string; readonly port: number }
  | { readonly family: 'unix'; readonly path: string };

/** Text encodings accepted by `write(text, encoding)`. */
export type TextEncoding = 'utf8' | 'utf-8' | 'ascii' | 'latin1' | 'hex' | 'base64' | 'base64url';

/** The named facts `getExtraInfo` knows about. Backends may add keys through declaration merging. */
export interface ExtraInfo {
  /** The remote end's address. */
  peername: SocketAddress | undefined;
  /** The local end's address. */
  sockname: SocketAddress | undefined;
  /** The backend's own socket object (a `net.Socket` on the `net` backend); use sparingly. */
  socket: unknown;
}

/** Water marks of the write buffer, in bytes. */
export interface WriteBufferLimits {
  /** Pause strictly over this many buffered bytes. @default 65536 */
  readonly high: number;
  /** Resume at or under this many. @default high / 4 */
  readonly low: number;
}

/** One connection, as a protocol sees it. */
export interface Transport {
  /**
   * Queue bytes to send; never blocks. A string needs an explicit encoding (bytes are the
   * contract; text is a choice). Bytes written after the connection is lost, or after `close()`
   * or `abort()`, are dropped silently: the peer may vanish at any moment, which is no misuse.
   * @throws WriteAfterEofError after `writeEof()`.
   * @throws InvalidArgumentError for a string without an encoding, or a non-byte value.
   */
  write(data: Uint8Array): void;
  write(data: string, encoding: TextEncoding): void;

  /** Write several buffers as one operation (one system call where the backend can). */
  writeLines(list: readonly Uint8Array[]): void;

  /** Flush what is buffered, then half-close: send FIN and keep reading. */
  writeEof(): void;

  /** Whether `writeEof` is supported (true for TCP and Unix stream sockets). */
  canWriteEof(): boolean;

  /**
   * Stop reading, flush what is buffered, then close (FIN). `connectionLost()` follows with no
   * error. Idempotent.
   */
  close(): void;

  /**
   * Drop the buffer and close at once with a reset (RST). `connectionLost()` follows, with
   * `error` when one is given (say, the protocol violation that made this side give up); such
   * an error is also reported once, like any connection fault (the server's `onError`).
   * Idempotent: only the first error counts.
   */
  abort(error?: Error): void;

  /** True once `close()` or `abort()` was called, or the connection is gone. */
  isClosing(): boolean;

  /** Stop delivering data until `resumeReading()`. No-op when already paused or closing. */
  pauseReading(): void;

  /** Deliver data again after `pauseReading()`. */
  resumeReading(): void;

  /** False after `pauseReading()` until `resumeReading()`. Flow-control pauses do not show here. */
  isReading(): boolean;

  /**
   * Set the water marks. `low` defaults to a quarter of `high`; `high` to 64 KiB.
   * @throws InvalidArgumentError unless `0 <= low <= high`.
   */
  setWriteBufferLimits(limits?: { high?: number; low?: number }): void;

  /** The current water marks. */
  getWriteBufferLimits(): WriteBufferLimits;

  /** Bytes written but not yet handed to the kernel. */
  getWriteBufferSize(): number;

  /** A named fact about the connection; `undefined` when the backend does not know it. */
  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K];

  /** The protocol the transport calls. */
  getProtocol(): AnyProtocol;

  /**
   * Hand the connection to another protocol (the next callbacks go to it). Used by adapters
   * such as streams and, later, `startTls`. `connectionMade` is not called again.
   */
  setProtocol(protocol: AnyProtocol): void;
}

/** Formats an address the way logs and messages show it: `127.0.0.1:7000`, `[::1]:7000`, a path. */
export function formatAddress(address: SocketAddress | undefined): string {
  if (address === undefined) return 'unknown';
  if (address.family === 'unix') return address.path;
  return address.family === 'IPv6'
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}
