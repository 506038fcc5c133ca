/**
 * The DatagramTransport contract: what a datagram protocol may ask of its endpoint (asyncio's
 * `DatagramTransport`). No I/O lives here; `net-datagram-transport.ts` implements it on
 * `node:dgram`.
 */
import type { SocketAddress } from '../transport.js';
import type { DatagramProtocolCallbacks } from './datagram-protocol.js';

/** Where a datagram came from, or the endpoint's own address: always IPv4 or IPv6 with a port. */
export type DatagramAddress = Extract<SocketAddress, { family: 'IPv4' | 'IPv6' }>;

/** Where to send a datagram: an IP address (or a host name, resolved per send) and a port. */
export interface DatagramDestination {
  readonly address: string;
  readonly port: number;
}

/** The named facts `getExtraInfo` knows about. */
export interface DatagramExtraInfo {
  /** The local address the socket is bound to. */
  sockname: DatagramAddress | undefined;
  /** The peer of a connected endpoint (one made with `remote`); `undefined` otherwise. */
  peername: DatagramAddress | undefined;
  /** The backend's own socket object (a `dgram.Socket` on Node); use sparingly. */
  socket: unknown;
}

/** A datagram endpoint, as its protocol sees it. */
export interface DatagramTransport {
  /**
   * Queue one datagram; never blocks. Failures arrive later at `errorReceived` (never thrown):
   * a datagram over the largest UDP payload (65,507 bytes on IPv4, 65,527 on IPv6) as a
   * `FrameTooLargeError`, a failed send as a `SocketError`. Datagrams sent after `close()` or
   * `abort()` are dropped silently. Do not change `data` until the send completed
   * (`getWriteBufferSize()` back to 0): it is not copied.
   * @throws InvalidArgumentError for data that is not bytes, a bad port, no `address` on an
   * endpoint without `remote`, or an `address` other than `remote` on one with it.
   */
  sendTo(data: Uint8Array, address?: DatagramDestination): void;

  /**
   * Stop delivering datagrams, let the ones queued leave, then close the socket;
   * `connectionLost()` follows with no error. Idempotent.
   */
  close(): void;

  /** Close the socket at once, dropping queued datagrams; `connectionLost()` follows. Idempotent. */
  abort(): void;

  /** True once `close()` or `abort()` was called, or the socket is gone. */
  isClosing(): boolean;

  /** Resolves once the socket is closed and `connectionLost` has returned. */
  waitClosed(): Promise<void>;

  /**
   * Bytes of datagrams handed to `sendTo` whose send has not completed yet: queued in the
   * backend or the kernel's send path. 0 once every send is done (and after the end).
   */
  getWriteBufferSize(): number;

  /** A named fact about the endpoint; `undefined` when the backend does not know it. */
  getExtraInfo<K extends keyof DatagramExtraInfo>(name: K): DatagramExtraInfo[K];

  /** The protocol the transport calls. */
  getProtocol(): DatagramProtocolCallbacks;
}
