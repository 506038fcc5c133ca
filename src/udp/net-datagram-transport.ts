/**
 * The `node:dgram` backend's datagram transport: a `DatagramEndpointCore` over a bound (and maybe
 * connected) `dgram.Socket`.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { ConnectionRefusedError, SocketError } from '../errors.js';
import { type DatagramCoreSettings, DatagramEndpointCore } from './datagram-endpoint-core.js';
import type { DatagramProtocolCallbacks } from './datagram-protocol.js';
import type {
  DatagramAddress,
  DatagramDestination,
  DatagramExtraInfo,
} from './datagram-transport.js';

export class NetDatagramTransport extends DatagramEndpointCore {
  readonly #socket: Socket;
  readonly #peername: DatagramAddress | undefined;
  /** Read once at start: `address()` throws after close, and the answer never changes. */
  #sockname: DatagramAddress | undefined;

  constructor(socket: Socket, protocol: DatagramProtocolCallbacks, settings: DatagramCoreSettings) {
    super(protocol, settings);
    this.#socket = socket;
    this.#peername = settings.remote;
  }

  /** Wires the socket up and calls `connectionMade`. */
  start(): void {
    const socket = this.#socket;
    this.#sockname = boundAddress(socket);
    socket.on('message', (data: Buffer, info: RemoteInfo) => {
      this._onDatagram(data, {
        family: info.family === 'IPv6' ? 'IPv6' : 'IPv4',
        address: info.address,
        port: info.port,
      });
    });
    // After bind, dgram's 'error' events are receive errors (an ICMP error on a connected
    // socket…): the socket stays open, as asyncio keeps it.
    socket.on('error', (error: Error) =>
      this._onError(translateDatagramError(error, this.#peername)),
    );
    socket.once('close', () => this._onClosed());
    this._onReady();
  }

  protected _send(
    data: Uint8Array,
    address: DatagramDestination | undefined,
    done: (error?: Error) => void,
  ): void {
    const callback = (error: Error | null) => {
      done(error === null ? undefined : translateDatagramError(error, address ?? this.#peername));
    };
    try {
      if (address === undefined) this.#socket.send(data, callback);
      else this.#socket.send(data, address.port, address.address, callback);
    } catch (error) {
      // dgram throws for a few states (socket closed under us…): report like a failed send.
      queueMicrotask(() => callback(error as Error));
    }
  }

  protected _close(): void {
    try {
      this.#socket.close();
    } catch {
      // Already closed (ERR_SOCKET_DGRAM_NOT_RUNNING): its 'close' event has fired or will.
    }
  }

  protected _extraInfo<K extends keyof DatagramExtraInfo>(name: K): DatagramExtraInfo[K] {
    switch (name) {
      case 'socket':
        return this.#socket as DatagramExtraInfo[K];
      case 'peername':
        return this.#peername as DatagramExtraInfo[K];
      case 'sockname':
        return this.#sockname as DatagramExtraInfo[K];
      default:
        return undefined as DatagramExtraInfo[K];
    }
  }
}

/** The address a bound socket has, or undefined once it is closed. */
export function boundAddress(socket: Socket): DatagramAddress | undefined {
  try {
    const { address, family, port } = socket.address();
    return { family: family === 'IPv6' ? 'IPv6' : 'IPv4', address, port };
  } catch {
    return undefined;
  }
}

/** Maps dgram's errors onto the catalogue: a refused peer is typed, the rest keep their errno. */
export function translateDatagramError(error: Error, peer: DatagramDestination | undefined): Error {
  const errno = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  if (errno === 'ECONNREFUSED') {
    const where =
      peer === undefined
        ? 'the peer'
        : peer.address.includes(':')
          ? `[${peer.address}]:${peer.port}`
          : `${peer.address}:${peer.port}`;
    return new ConnectionRefusedError(where, error);
  }
  return new SocketError(errno, error.message, error);
}
