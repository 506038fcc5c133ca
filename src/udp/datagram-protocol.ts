/**
 * The DatagramProtocol contract: the callbacks a datagram endpoint makes into user code (asyncio's
 * `DatagramProtocol`). No I/O lives here.
 *
 * Call grammar, guaranteed by every datagram transport and checked by the test suite:
 *
 *     start -> connectionMade -> (datagramReceived | errorReceived)* -> connectionLost -> end
 *
 * There is no connection: `connectionMade` means the socket is bound (and connected, when the
 * endpoint has a `remote`), `connectionLost` that it is closed. Datagram boundaries are kept:
 * each `datagramReceived` is one whole datagram, never split, never merged.
 *
 * Every callback is guarded, as asyncio does for datagram endpoints: a throw (or a rejected
 * promise) in `datagramReceived` or `errorReceived` is reported to the endpoint's `onError` as a
 * `ProtocolCallbackError` and the endpoint keeps serving — one bad datagram must not stop the
 * rest. Only `connectionMade` failing ends the endpoint (the protocol never got set up):
 * `connectionLost` then receives that error.
 */
import type { CallbackResult } from '../protocol.js';
import type { DatagramAddress, DatagramTransport } from './datagram-transport.js';

/** The callbacks of a datagram protocol; all optional. */
export interface DatagramProtocolCallbacks {
  /** Called once, when the socket is ready. Keep the transport to send with. */
  connectionMade?(transport: DatagramTransport): CallbackResult;

  /** One datagram arrived (possibly empty) from `address`. The buffer is the protocol's to keep. */
  datagramReceived?(data: Buffer, address: DatagramAddress): CallbackResult;

  /**
   * A send failed or the socket reported an error (an oversized datagram, an ICMP port
   * unreachable on a connected endpoint, a full send buffer…). The endpoint stays open.
   * A protocol without this method has the error reported to `onError` instead.
   */
  errorReceived?(error: Error): CallbackResult;

  /** Called exactly once, last: the socket is closed. `error` is set when a fault ended it. */
  connectionLost?(error?: Error): void;
}

/** Makes the protocol of an endpoint. */
export type DatagramProtocolFactory<
  P extends DatagramProtocolCallbacks = DatagramProtocolCallbacks,
> = () => P;

/**
 * A base class with no-op callbacks, so a protocol overrides only what it needs (asyncio's
 * `asyncio.DatagramProtocol`). Its `errorReceived` ignores errors, as asyncio's does: override
 * it to see failed sends.
 */
export class DatagramProtocolBase implements DatagramProtocolCallbacks {
  connectionMade(_transport: DatagramTransport): CallbackResult {}
  datagramReceived(_data: Buffer, _address: DatagramAddress): CallbackResult {}
  errorReceived(_error: Error): CallbackResult {}
  connectionLost(_error?: Error): void {}
}
