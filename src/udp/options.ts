/**
 * Options of `createDatagramEndpoint`, and the hook that hears about failures no caller can catch.
 */
import type { DatagramTransport } from './datagram-transport.js';

/** Where a reported error happened. */
export interface DatagramErrorContext {
  /** The endpoint concerned. */
  readonly transport: DatagramTransport;
  /** The callback that failed (`datagramReceived`, `errorReceived`…), or what the endpoint did. */
  readonly operation: string;
}

/** Told about failures that cannot be thrown to a caller, e.g. a throwing `datagramReceived`. */
export type DatagramErrorHook = (error: Error, context: DatagramErrorContext) => void;

/** Options of `createDatagramEndpoint`. */
export interface DatagramEndpointOptions {
  /**
   * Local address to bind to (an IP address or a host name, resolved once; its first address
   * is used). Its family (IPv4 or IPv6) is the socket's.
   * @default the wildcard of `remote`'s family, else `0.0.0.0` (every IPv4 interface)
   */
  readonly host?: string;
  /** Local port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /**
   * Connect the socket to this peer: `sendTo` may then leave out the address, only this peer's
   * datagrams are delivered, and an ICMP "port unreachable" for it reaches `errorReceived` as a
   * `ConnectionRefusedError` (asyncio's `remote_addr`). The host is resolved once.
   * @default not connected: datagrams from anyone, every send names its destination
   */
  readonly remote?: { readonly host: string; readonly port: number };
  /**
   * Let several sockets bind the same address and port (`SO_REUSEADDR`; on Linux, datagrams to
   * a unicast address then go to the last socket bound, multicast to all).
   * @default false
   */
  readonly reuseAddr?: boolean;
  /** Allow sending to broadcast addresses (`SO_BROADCAST`). @default false */
  readonly broadcast?: boolean;
  /** Aborting it closes the endpoint (gracefully), or cancels its creation. */
  readonly signal?: AbortSignal;
  /**
   * Called for failures that cannot be thrown to a caller: a callback threw or its promise
   * rejected, `connectionLost` threw, an error arrived for a protocol with no `errorReceived`.
   * @default one line on stderr
   */
  readonly onError?: DatagramErrorHook;
}
