/**
 * Options of `createServer` and `createConnection`, shared by every backend.
 */
import type { Clock } from './clock.js';
import type { ProxyProtocolOptions } from './proxy/server-options.js';
import type { ErrorHook } from './server.js';
import type { TlsClientOptions, TlsServerOptions } from './tls/options.js';
import type { Transport } from './transport.js';

/** Which backend carries the connections; see `docs/native.md`. */
export type TransportChoice = 'auto' | 'native' | 'net';

/** Socket settings shared by servers and clients. */
export interface SocketOptions {
  /**
   * The backend. `native`: the epoll engine of the native addon (an error where it was not
   * built); `net`: Node's own sockets; `auto`: native where the addon is built, else `net`.
   * @default 'auto'
   */
  readonly transport?: TransportChoice;
  /**
   * Disable Nagle's algorithm, so small replies leave at once (asyncio does the same).
   * @default true
   */
  readonly noDelay?: boolean;
  /** Send TCP keep-alive probes on idle connections. @default false */
  readonly keepAlive?: boolean;
  /** Milliseconds of idleness before the first keep-alive probe. @default 0 (the OS default) */
  readonly keepAliveInitialDelay?: number;
  /**
   * Whether `eofReceived()` returning true may keep the write side open after the peer's FIN.
   * With `false` the transport always closes after `eofReceived`.
   * @default true
   */
  readonly allowHalfOpen?: boolean;
  /** Initial write-buffer water marks of every connection. @default { high: 65536, low: 16384 } */
  readonly writeBufferLimits?: { high?: number; low?: number };
  /**
   * Bytes a connection's write buffer may hold before the connection is dropped with
   * `WriteBufferOverflowError`: the hard cap behind the water marks. `Infinity` turns it off.
   * @default 1048576 (1 MiB)
   */
  readonly maxWriteBuffer?: number;
  /**
   * Called for failures that cannot be thrown to a caller: a protocol callback threw, accept
   * failed, `connectionLost` threw. @default one line on stderr
   */
  readonly onError?: ErrorHook;
}

/** Options of `createServer`. Give `port` (with optional `host`) or `path`. */
export interface ServerOptions extends SocketOptions {
  /**
   * Host name(s) or address(es) to listen on. A name binds every address it resolves to
   * (`localhost` → 127.0.0.1 and ::1 where present), as asyncio does.
   * @default every interface: `0.0.0.0` and `::`
   */
  readonly host?: string | readonly string[];
  /** TCP port; 0 picks a free one (the same one for every host address). */
  readonly port?: number;
  /**
   * A Unix domain socket path, instead of host and port. A stale socket file (nothing listens
   * on it) is removed first; a live one, or a file that is no socket, fails with `ListenError`
   * (`EADDRINUSE`). The file is removed when the server closes.
   */
  readonly path?: string;
  /**
   * Permission bits of the `path` socket file, set once it listens (`0o660`: owner and group may
   * connect). @default what the process umask leaves
   */
  readonly mode?: number;
  /** Pending connections the kernel may queue. @default 511 */
  readonly backlog?: number;
  /**
   * Set `SO_REUSEPORT` so several processes can listen on the same address and port and the
   * kernel spreads connections among them (what `serveWorkers` uses). The `net` transport needs
   * Node >= 22.12 for it (an `InvalidArgumentError` on older ones); the native one has it always.
   * @default false
   */
  readonly reusePort?: boolean;
  /** Aborting it closes the server and its connections (gracefully). */
  readonly signal?: AbortSignal;
  /**
   * Connections past this many are accepted and closed at once (after `rejectMessage`, if
   * given), counted in `stats.rejected`, and reported at most once a second.
   * @default Infinity
   */
  readonly maxConnections?: number;
  /** Bytes sent to a connection turned away by `maxConnections`, before the FIN. */
  readonly rejectMessage?: Uint8Array | string;
  /**
   * Milliseconds without a byte moving either way before a connection is closed (FIN);
   * `connectionLost` receives `IdleTimeoutError`. 0 turns it off.
   * @default 0
   */
  readonly idleTimeout?: number;
  /**
   * Milliseconds a connection's write buffer may stay over its high-water mark (the peer is
   * not reading) before the connection is reset with `WriteStallError`. 0 turns it off.
   * @default 0
   */
  readonly writeStallTimeout?: number;
  /**
   * Called for every accepted connection, before its protocol's `connectionMade`. For logging
   * and bookkeeping that should cost nothing per read; a throw is reported, not fatal.
   */
  readonly onConnection?: (transport: Transport) => void;
  /**
   * Called for every connection once it is gone, after its protocol's `connectionLost`, with the
   * same error. Facts about the peer are only known here if asked for in `onConnection`.
   */
  readonly onConnectionLost?: (transport: Transport, error: Error | undefined) => void;
  /** Where deadlines get the time; tests pass a `TestClock`. @default the system clock */
  readonly clock?: Clock;
  /**
   * Serve TLS: every connection completes a handshake (TLS 1.2 at least, within
   * `handshakeTimeout`) before `connectionMade`. Needs the `net` backend: `auto` picks it,
   * `native` is an error. `server.reloadTls()` changes it for new handshakes. See docs/tls.md.
   */
  readonly tls?: TlsServerOptions;
  /**
   * Read a PROXY protocol header (v1 or v2) in front of every connection, from trusted proxies
   * only, before the protocol sees a byte; `getExtraInfo('peername')` is then the client's
   * address. Needs the `net` backend, as `tls`. See docs/proxy.md.
   */
  readonly proxyProtocol?: ProxyProtocolOptions;
}

/** Options of `createConnection`. Give `port` (with optional `host`) or `path`. */
export interface ConnectionOptions extends SocketOptions {
  /** Host to connect to. @default 'localhost' */
  readonly host?: string;
  readonly port?: number;
  /** A Unix domain socket path, instead of host and port. */
  readonly path?: string;
  /** Local address to bind before connecting. */
  readonly localAddress?: string;
  /** Give up connecting after this many milliseconds. @default no limit beyond the OS's */
  readonly connectTimeout?: number;
  /** Aborting it cancels a pending connect. */
  readonly signal?: AbortSignal;
  /**
   * Speak TLS: the promise resolves once the handshake completed (and the server's certificate
   * verified). `true` for the defaults. Needs the `net` backend. See docs/tls.md.
   */
  readonly tls?: TlsClientOptions | true;
}
