/**
 * The backend-neutral half of every datagram transport: the call grammar, guarded callbacks, the
 * checks of `sendTo`, the bytes in flight, and close versus abort. A backend (`node:dgram` today)
 * subclasses it, implements three `_` hooks that do the I/O, and reports what its socket did
 * through the `_on…` methods. Nothing here imports from `node:`.
 */
import { FrameTooLargeError, InvalidArgumentError, ProtocolCallbackError } from '../errors.js';
import type { CallbackResult } from '../protocol.js';
import type { DatagramProtocolCallbacks } from './datagram-protocol.js';
import type {
  DatagramAddress,
  DatagramDestination,
  DatagramExtraInfo,
  DatagramTransport,
} from './datagram-transport.js';
import type { DatagramErrorHook } from './options.js';

/** What a backend tells the core about its socket. */
export interface DatagramCoreSettings {
  /** Largest payload a datagram may have on this socket's family, in bytes. */
  readonly maxDatagramSize: number;
  /** The peer of a connected socket; sends may then leave out the address. */
  readonly remote: DatagramAddress | undefined;
  /** The host name `remote` was given as, accepted by `sendTo` as well as its address. */
  readonly remoteHost?: string;
  readonly onError: DatagramErrorHook;
}

// Where the endpoint is in its life, in order.
/** `connectionMade` not called yet. */
const NEW = 0;
/** Delivering datagrams. */
const OPEN = 1;
/** `close()` or `abort()` was called: nothing more is delivered. */
const CLOSING = 2;
/** The socket is closed; `connectionLost` was called if `connectionMade` had been. */
const LOST = 3;

/**
 * The shared state machine. Subclasses implement the protected `_` hooks and must call
 * `_onClosed()` once the socket is closed.
 */
export abstract class DatagramEndpointCore implements DatagramTransport {
  readonly #protocol: DatagramProtocolCallbacks;
  readonly #settings: DatagramCoreSettings;
  #state: number = NEW;
  #made = false;
  /** Datagrams and bytes handed to `_send` whose completion has not come back. */
  #pendingSends = 0;
  #pendingBytes = 0;
  #socketClosing = false;
  #aborted = false;
  /** The error `connectionLost` will get (a failed `connectionMade`). */
  #fault: Error | undefined;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;

  constructor(protocol: DatagramProtocolCallbacks, settings: DatagramCoreSettings) {
    this.#protocol = protocol;
    this.#settings = settings;
  }

  // ---- hooks a backend implements ----

  /**
   * Send one datagram; `address` is undefined on a connected socket. Call `done` exactly once,
   * when the send completed or failed (asynchronously).
   */
  protected abstract _send(
    data: Uint8Array,
    address: DatagramDestination | undefined,
    done: (error?: Error) => void,
  ): void;
  /** Close the socket now (queued sends may be dropped). Then call `_onClosed()`. */
  protected abstract _close(): void;
  /** A named fact about the socket. */
  protected abstract _extraInfo<K extends keyof DatagramExtraInfo>(name: K): DatagramExtraInfo[K];

  // ---- what a backend reports ----

  /** The socket is ready: calls `connectionMade`. */
  protected _onReady(): void {
    if (this.#state !== NEW) return;
    this.#state = OPEN;
    this.#made = true;
    let result: CallbackResult;
    try {
      result = this.#protocol.connectionMade?.(this);
    } catch (error) {
      this.#failSetup(error);
      return;
    }
    this.#watch(result, 'connectionMade');
  }

  /** A datagram arrived. Dropped once the endpoint is closing. */
  protected _onDatagram(data: Buffer, address: DatagramAddress): void {
    if (this.#state !== OPEN) return;
    let result: CallbackResult;
    try {
      result = this.#protocol.datagramReceived?.(data, address);
    } catch (error) {
      this.#report(new ProtocolCallbackError('datagramReceived', error), 'datagramReceived');
      return;
    }
    this.#watch(result, 'datagramReceived');
  }

  /** The socket reported an error that does not close it: `errorReceived`. */
  protected _onError(error: Error): void {
    this.#deliverError(error);
  }

  /** The socket is closed: `connectionLost`, once. */
  protected _onClosed(error?: Error): void {
    if (this.#state === LOST) return;
    this.#state = LOST;
    try {
      if (!this.#made) return; // connectionMade never ran: nothing to tell the protocol
      const reason = this.#fault ?? error;
      if (reason === undefined) this.#protocol.connectionLost?.();
      else this.#protocol.connectionLost?.(reason);
    } catch (thrown) {
      this.#report(new ProtocolCallbackError('connectionLost', thrown), 'connectionLost');
    } finally {
      this.#resolveClosed?.();
    }
  }

  // ---- the DatagramTransport contract ----

  sendTo(data: Uint8Array, address?: DatagramDestination): void {
    if (!(data instanceof Uint8Array)) {
      throw new InvalidArgumentError(`sendTo() takes a Uint8Array, not ${typeName(data)}`);
    }
    const remote = this.#settings.remote;
    if (address !== undefined) {
      checkDestination(address);
      if (remote !== undefined) {
        const named =
          address.address === remote.address || address.address === this.#settings.remoteHost;
        if (!named || address.port !== remote.port) {
          throw new InvalidArgumentError(
            `this endpoint is connected to ${show(remote)}: sendTo() cannot send to ${show(address)}`,
          );
        }
      }
    } else if (remote === undefined) {
      throw new InvalidArgumentError(
        'sendTo() needs an address: the endpoint has no remote (it is not connected)',
      );
    }
    if (this.#state !== OPEN) return;
    const max = this.#settings.maxDatagramSize;
    if (data.length > max) {
      // Delivered like a failed send (asynchronously), so a protocol that sends from inside
      // datagramReceived is not re-entered.
      const error = new FrameTooLargeError(max, data.length);
      queueMicrotask(() => this.#deliverError(error));
      return;
    }
    const size = data.length;
    this.#pendingSends++;
    this.#pendingBytes += size;
    let completed = false;
    this._send(data, remote === undefined ? address : undefined, (error?: Error) => {
      if (completed) return;
      completed = true;
      this.#pendingSends--;
      this.#pendingBytes -= size;
      if (error !== undefined) this.#deliverError(error);
      if (this.#pendingSends === 0 && this.#state === CLOSING) this.#closeSocket();
    });
  }

  close(): void {
    if (this.#state >= CLOSING) return;
    this.#state = CLOSING;
    if (this.#pendingSends === 0) this.#closeSocket();
  }

  abort(): void {
    if (this.#state === LOST) return;
    this.#aborted = true;
    this.#state = CLOSING;
    this.#closeSocket();
  }

  isClosing(): boolean {
    return this.#state >= CLOSING;
  }

  getWriteBufferSize(): number {
    // Sends cancelled by the close may never report back: nothing is in flight once it is gone.
    return this.#state === LOST ? 0 : this.#pendingBytes;
  }

  getExtraInfo<K extends keyof DatagramExtraInfo>(name: K): DatagramExtraInfo[K] {
    return this._extraInfo(name);
  }

  waitClosed(): Promise<void> {
    if (this.#state === LOST) return Promise.resolve();
    this.#closed ??= new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    return this.#closed;
  }

  getProtocol(): DatagramProtocolCallbacks {
    return this.#protocol;
  }

  // ---- internals ----

  #closeSocket(): void {
    if (this.#socketClosing) return;
    this.#socketClosing = true;
    this._close();
  }

  /** `errorReceived`, guarded; to `onError` when the protocol has none. */
  #deliverError(error: Error): void {
    const state = this.#state;
    if (state === LOST || state === NEW || this.#aborted) return;
    const protocol = this.#protocol;
    if (typeof protocol.errorReceived !== 'function') {
      this.#report(error, 'errorReceived');
      return;
    }
    let result: CallbackResult;
    try {
      result = protocol.errorReceived(error);
    } catch (thrown) {
      this.#report(new ProtocolCallbackError('errorReceived', thrown), 'errorReceived');
      return;
    }
    this.#watch(result, 'errorReceived');
  }

  /** `connectionMade` failed: report it and end the endpoint with that error. */
  #failSetup(cause: unknown): void {
    const error = new ProtocolCallbackError('connectionMade', cause);
    this.#report(error, 'connectionMade');
    if (this.#state === LOST) return;
    this.#fault ??= error;
    this.abort();
  }

  #watch(result: CallbackResult, callback: string): void {
    if (typeof (result as Promise<void> | undefined)?.then !== 'function') return;
    (result as Promise<void>).then(undefined, (error: unknown) => {
      if (callback === 'connectionMade') this.#failSetup(error);
      else this.#report(new ProtocolCallbackError(callback, error), callback);
    });
  }

  #report(error: Error, operation: string): void {
    try {
      this.#settings.onError(error, { transport: this, operation });
    } catch {
      // A failing error hook must not take the endpoint down; there is nowhere left to report.
    }
  }
}

function checkDestination(address: DatagramDestination): void {
  if (address === null || typeof address !== 'object') {
    throw new InvalidArgumentError('sendTo() address must be an object { address, port }');
  }
  if (typeof address.address !== 'string' || address.address.length === 0) {
    throw new InvalidArgumentError('sendTo() address needs a non-empty address string');
  }
  const { port } = address;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`sendTo() needs a port from 1 to 65535, got ${String(port)}`);
  }
}

function show(address: DatagramDestination): string {
  return address.address.includes(':')
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
