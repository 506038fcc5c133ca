/**
 * The Server: a set of listening endpoints and the connections they accepted, with asyncio's
 * closing semantics. Backend-neutral: a backend hands it `Listener`s and registers each transport
 * it creates with the server's `ConnectionRegistry`. Nothing here imports from `node:`.
 *
 * - `close()` stops accepting (idempotent); connections stay up.
 * - `closeClients()` closes every connection gracefully (flush, FIN); `abortClients()` resets them.
 * - `waitClosed()` resolves once `close()` was called *and* the last connection is gone.
 */
import type { StreamTransport, TransportOwner } from './stream-transport.js';
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

/**
 * Tracks a server's live connections. Backends call `add` for each transport they create; the
 * transport reports its end through the `TransportOwner` side.
 */
export class ConnectionRegistry implements TransportOwner {
  readonly #connections = new Set<StreamTransport>();
  readonly #onError: ErrorHook;
  #onEmpty: (() => void) | undefined;

  constructor(onError: ErrorHook) {
    this.#onError = onError;
  }

  add(transport: StreamTransport): void {
    this.#connections.add(transport);
  }

  get size(): number {
    return this.#connections.size;
  }

  transportLost(transport: StreamTransport): void {
    this.#connections.delete(transport);
    if (this.#connections.size === 0) this.#onEmpty?.();
  }

  reportError(error: Error, transport?: StreamTransport): void {
    report(this.#onError, error, transport === undefined ? {} : { transport });
  }

  /** Reports a failure that belongs to no connection. */
  reportOperationError(error: Error, operation: string): void {
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
}

/** A listening server. Made by `createServer`. */
export class Server implements AsyncDisposable {
  readonly #listeners: readonly Listener[];
  readonly #registry: ConnectionRegistry;
  #closing: Promise<void> | undefined;
  #closeRequested: () => void = () => {};
  readonly #closeRequestedPromise: Promise<void>;

  /** @internal Backends build servers; users call `createServer`. */
  constructor(listeners: readonly Listener[], registry: ConnectionRegistry, signal?: AbortSignal) {
    this.#listeners = listeners;
    this.#registry = registry;
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

function report(hook: ErrorHook, error: Error, context: ErrorContext): void {
  try {
    hook(error, context);
  } catch {
    // A failing error hook must not take the server down; there is nowhere left to report to.
  }
}

/** The error hook used when the caller gives none: one line on stderr. */
export const defaultErrorHook: ErrorHook = (error, context) => {
  const where = context.operation ?? 'connection';
  console.error(`aionet: ${where}: ${error.message}`);
};
