/**
 * The Server: a set of listening endpoints and the connections they accepted, with asyncio's
 * closing semantics. Backend-neutral: a backend hands it `Listener`s and registers each transport
 * it creates with the server's `ConnectionRegistry`. Nothing here imports from `node:`.
 *
 * - `close()` stops accepting (idempotent); connections stay up.
 * - `closeClients()` closes every connection gracefully (flush, FIN); `abortClients()` resets them.
 * - `waitClosed()` resolves once `close()` was called *and* the last connection is gone.
 */
import { type Clock, systemClock } from './clock.js';
import type { ConnectionRegistry, ServerStats } from './connection-registry.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from './constants.js';
import { InvalidArgumentError } from './errors.js';
import type { TransportLimits } from './stream-transport.js';
import type { TlsServerOptions } from './tls/options.js';
import type { SocketAddress, Transport } from './transport.js';

/** One listening endpoint of a backend. */
export interface Listener {
  /** Where it listens. */
  readonly address: SocketAddress;
  /** Stop accepting; resolves when the endpoint is closed. */
  close(): Promise<void>;
}

/** What the server tells about failures it cannot throw: a callback threw, accept failed… */
export type ErrorHook = (error: Error, context: ErrorContext) => void;

/** Where a reported error happened. */
export interface ErrorContext {
  /** The connection concerned, if any. */
  readonly transport?: Transport;
  /** Where it happened when not on a connection: `accept`, `listen`. */
  readonly operation?: string;
}

/** What `shutdown()` did. */
export interface ShutdownSummary {
  /** Connections that ended by themselves (FIN) within the drain timeout. */
  readonly drained: number;
  /** Connections reset when the drain timeout ran out (or a second shutdown cut it short). */
  readonly aborted: number;
}

/** Options of `shutdown()`. */
export interface ShutdownOptions {
  /** Milliseconds busy connections get to finish before they are reset. @default 10000 */
  readonly drainTimeout?: number;
}

/** Replaces a server's TLS settings for the handshakes that follow; given by the backend. */
export type TlsReloader = (options: TlsServerOptions) => void;

/** A listening server. Made by `createServer`. */
export class Server implements AsyncDisposable {
  readonly #listeners: readonly Listener[];
  readonly #registry: ConnectionRegistry;
  readonly #clock: Clock;
  readonly #reloadTls: TlsReloader | undefined;
  #closing: Promise<void> | undefined;
  #shutdown: Promise<ShutdownSummary> | undefined;
  /** Resets what is left of a shutdown now; set while one runs. */
  #cutShort: (() => void) | undefined;
  #closeRequested: () => void = () => {};
  readonly #closeRequestedPromise: Promise<void>;

  /** @internal Backends build servers; users call `createServer`. */
  constructor(
    listeners: readonly Listener[],
    registry: ConnectionRegistry,
    options: {
      signal?: AbortSignal | undefined;
      clock?: Clock | undefined;
      reloadTls?: TlsReloader | undefined;
    } = {},
  ) {
    const { signal } = options;
    this.#listeners = listeners;
    this.#registry = registry;
    this.#clock = options.clock ?? systemClock;
    this.#reloadTls = options.reloadTls;
    this.#closeRequestedPromise = new Promise((resolve) => {
      this.#closeRequested = resolve;
    });
    if (signal !== undefined) {
      const stop = () => {
        this.close();
        this.closeClients();
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    }
  }

  /** The addresses the server listens on (kept after `close()`, for messages). */
  addresses(): SocketAddress[] {
    return this.#listeners.map((listener) => listener.address);
  }

  /** True until `close()` is called. */
  isServing(): boolean {
    return this.#closing === undefined;
  }

  /** How many connections are live. */
  connectionCount(): number {
    return this.#registry.size;
  }

  /** True once `shutdown()` has begun (health checks answer 503 from then on). */
  isDraining(): boolean {
    return this.#shutdown !== undefined;
  }

  /** Running totals: connections accepted, rejected, closed by reason, bytes, errors by code. */
  get stats(): ServerStats {
    return this.#registry.stats;
  }

  /** The effective per-connection limits and the connection limit. */
  get limits(): TransportLimits & { readonly maxConnections: number } {
    return { ...this.#registry.limits, maxConnections: this.#registry.maxConnections };
  }

  /**
   * Use new TLS settings (a renewed certificate…) for every handshake from now on; connections
   * already up, or mid-handshake, keep the ones they started with. The options are checked
   * first: on error the old settings stay.
   * @throws InvalidArgumentError on a server made without `tls`, or for bad options (a key
   *   OpenSSL refuses, a key that does not match its certificate…).
   */
  reloadTls(options: TlsServerOptions): void {
    if (this.#reloadTls === undefined) {
      throw new InvalidArgumentError('reloadTls() on a server made without tls');
    }
    this.#reloadTls(options);
  }

  /**
   * Shut down gracefully: stop accepting at once, ask every protocol (`shutdownRequested`), close
   * connections gracefully (flush, FIN) unless their protocol asked to finish by itself, and
   * reset whatever is still open after `drainTimeout`. Resolves when the last connection is
   * gone, with how many drained and how many were reset. Calling it again returns the same
   * promise; `abortClients()` cuts a running shutdown short.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownSummary> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    const drainTimeout = options.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS;
    if (!(Number.isFinite(drainTimeout) && drainTimeout >= 0)) {
      throw new InvalidArgumentError(
        `drainTimeout must be a number of ms >= 0, got ${drainTimeout}`,
      );
    }
    const registry = this.#registry;
    void this.close();
    let aborted = 0;
    const cutShort = () => {
      aborted += registry.size;
      this.#cutShort = undefined;
      registry.forEach((transport) => {
        transport.abort();
      });
    };
    this.#cutShort = cutShort;
    const total = registry.size;
    registry.forEach((transport) => {
      transport.requestShutdown();
    });
    const timer = this.#clock.setTimeout(cutShort, drainTimeout);
    this.#shutdown = registry.whenEmpty().then(() => {
      timer.cancel();
      this.#cutShort = undefined;
      return { drained: total - aborted, aborted };
    });
    return this.#shutdown;
  }

  /**
   * Stop accepting. Live connections stay up: follow with `closeClients()`/`abortClients()` to
   * end them, and `waitClosed()` to wait for them. Idempotent; the promise resolves when every
   * listening endpoint is closed.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closeRequested();
      this.#closing = Promise.all(this.#listeners.map((listener) => listener.close())).then(
        () => {},
      );
    }
    return this.#closing;
  }

  /** Close every live connection gracefully: flush, then FIN. */
  closeClients(): void {
    this.#registry.forEach((transport) => {
      transport.close();
    });
  }

  /** Reset every live connection at once, dropping what is buffered. */
  abortClients(): void {
    if (this.#cutShort !== undefined) {
      this.#cutShort();
      return;
    }
    this.#registry.forEach((transport) => {
      transport.abort();
    });
  }

  /** Resolves once `close()` was called and every listener and every connection is gone. */
  async waitClosed(): Promise<void> {
    await this.#closeRequestedPromise;
    await this.#closing;
    await this.#registry.whenEmpty();
  }

  /**
   * Serve until the server is closed and its connections are gone, or until `signal` aborts
   * (which closes the server and its connections gracefully first).
   */
  async serveForever(options?: { signal?: AbortSignal }): Promise<void> {
    const signal = options?.signal;
    if (signal !== undefined) {
      const stop = () => {
        this.close();
        this.closeClients();
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    }
    await this.waitClosed();
  }

  /** `await using server = …`: close, close the clients gracefully, and wait for both. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    this.closeClients();
    await this.waitClosed();
  }
}

/** The error hook used when the caller gives none: one line on stderr. */
export const defaultErrorHook: ErrorHook = (error, context) => {
  const where = context.operation ?? 'connection';
  console.error(`aionet: ${where}: ${error.message}`);
};
