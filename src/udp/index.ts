/**
 * `aionet/udp`: datagram endpoints in asyncio's model — a `DatagramProtocol` of callbacks, a
 * `DatagramTransport` to send with, and `createDatagramEndpoint` on `node:dgram`.
 * Public names only, no logic.
 */
export { MAX_DATAGRAM_SIZE_IPV4, MAX_DATAGRAM_SIZE_IPV6 } from './constants.js';
export {
  createDatagramEndpoint,
  defaultDatagramErrorHook,
} from './create-datagram-endpoint.js';
export { type DatagramCoreSettings, DatagramEndpointCore } from './datagram-endpoint-core.js';
export {
  DatagramProtocolBase,
  type DatagramProtocolCallbacks,
  type DatagramProtocolFactory,
} from './datagram-protocol.js';
export type {
  DatagramAddress,
  DatagramDestination,
  DatagramExtraInfo,
  DatagramTransport,
} from './datagram-transport.js';
export {
  type DatagramMessageOptions,
  DatagramMessageProtocol,
  DEFAULT_DATAGRAM_REPLY,
} from './message-protocol.js';
export type {
  DatagramEndpointOptions,
  DatagramErrorContext,
  DatagramErrorHook,
} from './options.js';
