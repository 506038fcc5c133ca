/**
 * `createConnection` on Node's `net`: connects, makes the protocol, and resolves once
 * `connectionMade` has run. A BufferedProtocol reads straight into its own buffer here, through
 * Node's public `onread` option (which only client sockets honour).
 */
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { DEFAULT_MAX_WRITE_BUFFER, DEFAULT_READ_SIZE_HINT } from '../constants.js';
import {
  ConnectError,
  ConnectionRefusedError,
  InvalidArgumentError,
  ProtocolFactoryError,
} from '../errors.js';
import type { ConnectionOptions } from '../options.js';
import { type AnyProtocol, isBufferedProtocol, type ProtocolFactory } from '../protocol.js';
import { defaultErrorHook, type ErrorHook } from '../server.js';
import {
  NO_LIMITS,
  type StreamTransport,
  type TransportLimits,
  type TransportOwner,
  TransportStats,
} from '../stream-transport.js';
import { type ClientHandshakeSettings, clientHandshakeSettings } from '../tls/context.js';
import { clientTlsSocket, watchHandshake } from '../tls/handshake.js';
import type { Transport } from '../transport.js';
import { SocketTransport } from './socket-transport.js';

/** Owner of a client transport: reports failures to the caller's hook; nothing to track. */
export class ClientOwner implements TransportOwner {
  readonly #onError: ErrorHook;
  readonly stats = new TransportStats();
  readonly limits: TransportLimits;
  readonly now = 0;
  /** A client has no deadlines: nothing is measured from its stamps. */
  clockNow(): number {
    return 0;
  }
  constructor(onError: ErrorHook, maxWriteBuffer: number) {
    this.#onError = onError;
    this.limits = { ...NO_LIMITS, maxWriteBuffer };
  }
  transportLost(_transport: StreamTransport): void {}
  reportError(error: Error, transport: StreamTransport): void {
    try {
      this.#onError(error, { transport });
    } catch {
      // Nowhere left to report to.
    }
  }
}

/**
 * Connect to a server and run `factory`'s protocol on the connection (asyncio's
 * `loop.create_connection`).
 * @throws ConnectionRefusedError when nothing listens there.
 * @throws ConnectError for any other connect failure (timeout, unreachable, not found…).
 */
export async function createConnection<P extends AnyProtocol>(
  factory: ProtocolFactory<P>,
  options: ConnectionOptions,
): Promise<[Transport, P]> {
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError('createConnection() needs a protocol factory function');
  }
  const { path, port } = options;
  if (
    path === undefined &&
    (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535)
  ) {
    throw new InvalidArgumentError('createConnection() needs a port from 1 to 65535, or a path');
  }
  const host = options.host ?? 'localhost';
  const tlsSettings =
    options.tls === undefined
      ? undefined
      : clientHandshakeSettings(options.tls === true ? {} : options.tls, path ?? host);
  let protocol: P;
  try {
    protocol = factory();
  } catch (error) {
    throw new ProtocolFactoryError(error);
  }
  const owner = new ClientOwner(
    options.onError ?? defaultErrorHook,
    options.maxWriteBuffer ?? DEFAULT_MAX_WRITE_BUFFER,
  );
  const target = path ?? (net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);

  let transport: SocketTransport | undefined;
  const common: net.NetConnectOpts =
    path !== undefined
      ? { path, allowHalfOpen: true }
      : {
          host,
          port: port!,
          allowHalfOpen: true,
          noDelay: options.noDelay ?? true,
          keepAlive: options.keepAlive ?? false,
          keepAliveInitialDelay: options.keepAliveInitialDelay ?? 0,
          ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        };
  // TLS decrypts into its own buffers: a BufferedProtocol is fed by copy there.
  const readInPlace = isBufferedProtocol(protocol) && tlsSettings === undefined;
  const connectOptions: net.NetConnectOpts = readInPlace
    ? {
        ...common,
        onread: SocketTransport.readInPlaceHooks(
          () => transport,
          new Uint8Array(DEFAULT_READ_SIZE_HINT),
        ),
      }
    : common;

  const socket = net.connect(connectOptions);
  await new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const onError = (error: NodeJS.ErrnoException) => {
      cleanup();
      socket.destroy();
      const errno = error.code ?? 'EUNKNOWN';
      reject(
        errno === 'ECONNREFUSED'
          ? new ConnectionRefusedError(target, error)
          : new ConnectError(target, errno, error),
      );
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(new ConnectError(target, 'ABORT_ERR', options.signal?.reason));
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    if (options.signal !== undefined) {
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
    if (options.connectTimeout !== undefined) {
      timer = setTimeout(
        () => onError(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })),
        options.connectTimeout,
      );
    }
  });

  const tlsSocket =
    tlsSettings === undefined
      ? undefined
      : await handshake(socket, tlsSettings, options.signal, target);
  transport = new SocketTransport(tlsSocket ?? socket, protocol, owner, {
    ...(path === undefined ? {} : { unix: true, peerPath: path }),
    ...(tlsSocket === undefined ? {} : { underlying: socket }),
    ...(options.allowHalfOpen === undefined ? {} : { allowHalfOpen: options.allowHalfOpen }),
    ...(options.writeBufferLimits === undefined
      ? {}
      : { writeBufferLimits: options.writeBufferLimits }),
  });
  transport.start(readInPlace);
  return [transport, protocol];
}

/**
 * The client's TLS handshake over the connected `socket`; rejects with `TlsHandshakeError` (the
 * socket closed) when it fails or times out, with `ConnectError` (`ABORT_ERR`) when `signal`
 * aborts it.
 */
function handshake(
  socket: net.Socket,
  settings: ClientHandshakeSettings,
  signal: AbortSignal | undefined,
  target: string,
): Promise<TLSSocket> {
  const tlsSocket = clientTlsSocket(socket, settings);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      stop();
      tlsSocket.destroy();
      reject(new ConnectError(target, 'ABORT_ERR', signal?.reason));
    };
    const stop = watchHandshake(tlsSocket, {
      side: 'client',
      timeout: settings.handshakeTimeout,
      done: (error) => {
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) {
          resolve(tlsSocket);
          return;
        }
        tlsSocket.on('error', ignore);
        tlsSocket.destroy();
        reject(error);
      },
    });
    if (signal !== undefined) {
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

function ignore(): void {}
