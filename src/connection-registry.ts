/**
 * The ConnectionRegistry: a server's live connections, their counters and limits, and the one
 * timer that enforces every connection's deadlines.
 *
 * Deadlines are swept, not timed per connection: one timer per server walks the connections
 * every quarter of the shortest deadline and refreshes a coarse `now` that transports stamp
 * their activity with. An idle connection costs a number, not a timer object, and a read or a
 * write costs a field store, not a clock call. The price is precision: activity is stamped
 * with the time of the last sweep, so a deadline fires within one sweep interval of its time,
 * early or late. Nothing here imports from `node:`.
 */
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { REPORT_INTERVAL_MS, SWEEP_INTERVAL_MAX_MS, SWEEP_INTERVAL_MIN_MS } from './constants.js';
import {
  AionetError,
  ConnectionLimitError,
  ConnectionResetError,
  FrameInvalidError,
  FrameTooLargeError,
  IdleTimeoutError,
  IncompleteReadError,
  ProtocolCallbackError,
  ProxyRejectedError,
  type ProxyRejectReason,
  type TlsFailureReason,
  TlsHandshakeError,
  WriteBufferOverflowError,
  WriteStallError,
} from './errors.js';
import type { ErrorContext, ErrorHook } from './server.js';
import {
  type StreamTransport,
  type TransportLimits,
  type TransportOwner,
  TransportStats,
} from './stream-transport.js';

/** Why connections ended, as counted: one label per kind of end. */
export type CloseReason =
  | 'normal'
  | 'reset'
  | 'idle_timeout'
  | 'write_stall'
  | 'write_overflow'
  | 'callback_error'
  | 'protocol_error'
  | 'error';

/** Everything a server counts; read by metrics at scrape time. */
export class ServerStats extends TransportStats {
  accepted = 0;
  /** Turned away by `maxConnections`. */
  rejected = 0;
  readonly closed: Record<CloseReason, number> = {
    normal: 0,
    reset: 0,
    idle_timeout: 0,
    write_stall: 0,
    write_overflow: 0,
    callback_error: 0,
    protocol_error: 0,
    error: 0,
  };
  /** Errors by stable code (`ERR_AIONET_*`, or a system code such as `EMFILE`). */
  readonly errors = new Map<string, number>();
  /** TLS handshakes completed (servers with `tls`). */
  tlsHandshakes = 0;
  /** TLS handshakes that failed, by reason; each such connection is also in `closed.protocol_error`. */
  readonly tlsHandshakeFailures: Record<TlsFailureReason, number> = {
    protocol_version: 0,
    no_shared_cipher: 0,
    alpn: 0,
    client_certificate: 0,
    server_certificate: 0,
    timeout: 0,
    disconnected: 0,
    malformed: 0,
    other: 0,
  };
  /** PROXY protocol headers accepted (servers with `proxyProtocol`), LOCAL ones included. */
  proxyAccepted = 0;
  /** Connections the PROXY protocol stage turned away, by reason (also in `closed.protocol_error`). */
  readonly proxyRejected: Record<ProxyRejectReason, number> = {
    untrusted: 0,
    missing: 0,
    invalid: 0,
    too_large: 0,
    timeout: 0,
    incomplete: 0,
  };

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

/** Settings of a registry. */
export interface RegistryOptions {
  readonly onError: ErrorHook;
  readonly limits: TransportLimits;
  /** Connections past this are turned away. @default Infinity */
  readonly maxConnections?: number;
  readonly clock?: Clock;
  /** Told about every connection added. */
  readonly onConnection?: ((transport: StreamTransport) => void) | undefined;
  /** Told about every connection gone, with its reason. */
  readonly onConnectionLost?:
    | ((transport: StreamTransport, error: Error | undefined) => void)
    | undefined;
}

/**
 * Tracks a server's live connections. Backends call `admit()` then `add()` for each accepted
 * connection; transports report their end through the `TransportOwner` side.
 */
export class ConnectionRegistry implements TransportOwner {
  readonly #connections = new Set<StreamTransport>();
  readonly #onError: ErrorHook;
  readonly #onConnection: ((transport: StreamTransport) => void) | undefined;
  readonly #onConnectionLost:
    | ((transport: StreamTransport, error: Error | undefined) => void)
    | undefined;
  readonly #clock: Clock;
  readonly #maxConnections: number;
  readonly #sweepInterval: number;
  #sweepTimer: TimerHandle | undefined;
  #onEmpty: (() => void) | undefined;
  #rejectedSinceReport = 0;
  #lastRejectReport = Number.NEGATIVE_INFINITY;
  readonly stats = new ServerStats();
  readonly limits: TransportLimits;
  now: number;

  constructor(options: RegistryOptions) {
    this.#onError = options.onError;
    this.#onConnection = options.onConnection;
    this.#onConnectionLost = options.onConnectionLost;
    this.limits = options.limits;
    this.#maxConnections = options.maxConnections ?? Number.POSITIVE_INFINITY;
    this.#clock = options.clock ?? systemClock;
    this.now = Math.floor(this.#clock.now());
    const deadlines = [options.limits.idleTimeout, options.limits.writeStallTimeout].filter(
      (ms) => ms > 0,
    );
    this.#sweepInterval =
      deadlines.length === 0
        ? 0
        : Math.min(
            SWEEP_INTERVAL_MAX_MS,
            Math.max(SWEEP_INTERVAL_MIN_MS, Math.min(...deadlines) / 4),
          );
  }

  /** The clock read now, whole milliseconds (see TransportOwner.clockNow). */
  clockNow(): number {
    return Math.floor(this.#clock.now());
  }

  /** The connection limit (Infinity when none). */
  get maxConnections(): number {
    return this.#maxConnections;
  }

  /**
   * Whether one more connection may be served. When not, it is counted as rejected and
   * reported (at most once a second); the caller closes it.
   */
  admit(): boolean {
    // No sweep runs while there is no connection, so `now` stopped with the last one: bring it
    // up to date before the new transport stamps its activity with it, or a server that sat
    // idle longer than its idle deadline would close its next connections on the first sweep.
    if (this.#sweepTimer === undefined) this.now = Math.floor(this.#clock.now());
    if (this.#connections.size < this.#maxConnections) return true;
    this.stats.rejected++;
    this.#rejectedSinceReport++;
    const now = this.#clock.now();
    if (now - this.#lastRejectReport >= REPORT_INTERVAL_MS) {
      this.#lastRejectReport = now;
      const error = new ConnectionLimitError(this.#maxConnections, this.#rejectedSinceReport);
      this.#rejectedSinceReport = 0;
      this.stats.countError(error.code);
      report(this.#onError, error, { operation: 'accept' });
    }
    return false;
  }

  add(transport: StreamTransport): void {
    this.#connections.add(transport);
    this.stats.accepted++;
    if (this.#onConnection !== undefined) {
      try {
        this.#onConnection(transport);
      } catch (error) {
        this.reportError(error instanceof Error ? error : new Error(String(error)), transport);
      }
    }
    if (this.#sweepInterval > 0 && this.#sweepTimer === undefined) this.#scheduleSweep();
  }

  get size(): number {
    return this.#connections.size;
  }

  transportLost(transport: StreamTransport, reason?: Error): void {
    if (!this.#connections.delete(transport)) return;
    this.stats.closed[closeReason(reason)]++;
    if (reason instanceof AionetError) this.stats.countError(reason.code);
    if (this.#onConnectionLost !== undefined) {
      try {
        this.#onConnectionLost(transport, reason);
      } catch (error) {
        this.reportError(error instanceof Error ? error : new Error(String(error)), transport);
      }
    }
    if (this.#connections.size === 0) {
      this.#sweepTimer?.cancel();
      this.#sweepTimer = undefined;
      this.#onEmpty?.();
    }
  }

  reportError(error: Error, transport?: StreamTransport): void {
    report(this.#onError, error, transport === undefined ? {} : { transport });
  }

  /** Reports a failure that belongs to no connection (accept, listen). */
  reportOperationError(error: Error, operation: string): void {
    const code = (error as { code?: unknown }).code;
    this.stats.countError(typeof code === 'string' ? code : 'EUNKNOWN');
    report(this.#onError, error, { operation });
  }

  /** Calls `fn` for each live connection (a snapshot: `fn` may close them). */
  forEach(fn: (transport: StreamTransport) => void): void {
    for (const transport of [...this.#connections]) fn(transport);
  }

  /** Resolves when no connection is left. */
  whenEmpty(): Promise<void> {
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#onEmpty;
      this.#onEmpty = () => {
        this.#onEmpty = undefined;
        previous?.();
        resolve();
      };
    });
  }

  #scheduleSweep(): void {
    this.#sweepTimer = this.#clock.setTimeout(() => {
      this.#sweepTimer = undefined;
      // Whole milliseconds: a small integer stored in a transport's field needs no heap box,
      // a fractional one costs every connection 16 bytes.
      const now = Math.floor(this.#clock.now());
      this.now = now;
      for (const transport of this.#connections) transport.checkDeadlines(now);
      if (this.#connections.size > 0 && this.#sweepTimer === undefined) this.#scheduleSweep();
    }, this.#sweepInterval);
  }
}

function closeReason(reason: Error | undefined): CloseReason {
  if (reason === undefined) return 'normal';
  if (reason instanceof ConnectionResetError) return 'reset';
  if (reason instanceof IdleTimeoutError) return 'idle_timeout';
  if (reason instanceof WriteStallError) return 'write_stall';
  if (reason instanceof WriteBufferOverflowError) return 'write_overflow';
  if (reason instanceof ProtocolCallbackError) return 'callback_error';
  if (
    reason instanceof FrameTooLargeError ||
    reason instanceof FrameInvalidError ||
    reason instanceof IncompleteReadError ||
    reason instanceof TlsHandshakeError ||
    reason instanceof ProxyRejectedError
  ) {
    return 'protocol_error';
  }
  return 'error';
}

/** Calls the error hook; a failing hook must not take the server down. */
export function report(hook: ErrorHook, error: Error, context: ErrorContext): void {
  try {
    hook(error, context);
  } catch {
    // Nowhere left to report to.
  }
}
